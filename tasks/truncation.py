"""Truncated bodies: recognise text that the source cut off, and say how.

A truncated body is flagged, never dropped: downstream readers decide whether a
teaser is good enough for them.
"""

from __future__ import annotations

import polars as pl

# NewsAPI-style teasers end "… [+1197 chars]".
_CHAR_COUNT_MARKER = r"\[\+\d+ chars?\]\s*$"
_READ_MORE = (
    r"(?i)(?:^|\n\n|[.…]\s*)(?:read more|continue reading|read the full (?:story|article))\W*$"
)
_ELLIPSIS = r"(?:\.\.\.|…)\s*$"
# A finished paragraph ends in terminal punctuation, maybe inside quotes or brackets.
_FINISHED = r"[.!?:;)\]\"'”’»]\s*$"


def truncation_reason(body: pl.Expr) -> pl.Expr:
    """char_count_marker, read_more, ellipsis or mid_sentence; null for a complete body."""
    return (
        pl.when(body.str.contains(_CHAR_COUNT_MARKER))
        .then(pl.lit("char_count_marker"))
        .when(body.str.contains(_READ_MORE))
        .then(pl.lit("read_more"))
        .when(body.str.contains(_ELLIPSIS))
        .then(pl.lit("ellipsis"))
        .when((body.str.strip_chars() != "") & ~body.str.contains(_FINISHED))
        .then(pl.lit("mid_sentence"))
        .otherwise(None)
    )
