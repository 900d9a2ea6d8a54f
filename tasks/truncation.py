"""Truncated bodies: recognise text that the source cut off, say how, and hand the
enrichers the text without the cut.

A truncated body is flagged, never dropped: downstream readers decide whether a
teaser is good enough for them. Two kinds of evidence, read at two moments
(tasks/clean.py):

* The source's own markers. `char_count_marker` (NewsAPI's "… [+1197 chars]") and
  `read_more` ("Read more", "Continue reading", WordPress's "(more…)" ending the body)
  are read from the body as ingested, since boilerplate removal strips a trailing
  "Read more". `ellipsis` (a trailing "…", "..." or "[…]") is read from the final
  body: it ends the teaser's own text, which stays, while a furniture line ending in
  one ("Related: Ten things to know about…", "Loading…") is removed and must not flag
  a complete article.
* `mid_sentence`, also read from the final body, so a story whose "© 2019 …" footer
  was removed is judged on its own last sentence. Complete articles end in many ways
  without a full stop (a credit line, a URL, a table cell, a list item, a related
  headline, Thai, which has none), so only strong evidence counts: the unfinished
  last sentence has at least `MIN_FRAGMENT_WORDS` words and ends in a comma, or in a
  lower-case word that either no English sentence ends with ("the", "and", "of",
  "would") or closes a prose paragraph of at least `MIN_PROSE_WORDS` words (not a
  heading, caption or list item). Scripts without letter case (Chinese, Japanese,
  Thai, Arabic, Hebrew, Devanagari, ...) are never flagged `mid_sentence`.

Measured by benchmarks/truncation_eval.py (figures in benchmarks/README.md).
"""

from __future__ import annotations

import polars as pl

from newsflow.text_rules import SPACED_CHAR, UNSPACED_LETTER

# NewsAPI-style teasers end "… [+1197 chars]".
_CHAR_COUNT = r"\[\+\d+ chars?\]"
_CHAR_COUNT_MARKER = rf"{_CHAR_COUNT}\s*$"
_READ_MORE_WORDS = (
    r"(?:read more|continue reading|keep reading|read the full (?:story|article)|"
    r"read full (?:story|article))"
)
_READ_MORE = (
    rf"(?i)(?:(?:^|\n\n|[.…]\s*|\s[\[(])(?:{_READ_MORE_WORDS})\W*|\(more\s*(?:…|\.\.\.)\))\s*$"
)
_ELLIPSIS_MARK = r"[\[(]?(?:\.\.\.|…)[\])]?"
_ELLIPSIS = rf"{_ELLIPSIS_MARK}\s*$"

MIN_FRAGMENT_WORDS = 3
MIN_PROSE_WORDS = 20
# English words a sentence does not end with: articles, conjunctions, prepositions that
# need an object, possessive determiners, modal verbs. A paragraph ending in one, with
# no full stop, was cut.
_OPEN_WORDS = (
    "a an the and or but nor of to from with into onto for by at as than that which whose "
    "whom if because although though whether unless their its our your my "
    "would could should might must shall"
)
# A lower-case word (letters, apostrophes, hyphens) ending the paragraph.
_LOWER_END = r"(?:^|\s)(\p{Ll}[\p{Ll}'’-]*)$"
# Everything up to the last sentence end of a line (greedy: the last one).
_BEFORE_LAST_SENTENCE = r"^.*[.!?…][\"'”’)\]]*\s+"


def source_marker(body: pl.Expr) -> pl.Expr:
    """char_count_marker or read_more when the body ends in the source's own sign that
    it goes on elsewhere; null otherwise. Read this on the body as ingested."""
    return (
        pl.when(body.str.contains(_CHAR_COUNT_MARKER))
        .then(pl.lit("char_count_marker"))
        .when(body.str.contains(_READ_MORE))
        .then(pl.lit("read_more"))
    )


def ends_mid_sentence(body: pl.Expr) -> pl.Expr:
    """Whether the body's last paragraph stops inside a sentence (see the module docstring)."""
    # Only bodies ending in a letter or comma can qualify; the others are nulled first,
    # so the costlier patterns below skip them.
    candidate = body.str.contains(r"[\p{L},]\s*$")
    last = pl.when(candidate).then(body.str.strip_chars().str.split("\n").list.last())
    word = last.str.extract(_LOWER_END, 1)
    fragment_words = last.str.replace(_BEFORE_LAST_SENTENCE, "").str.count_matches(r"\S+")
    in_a_word = word.is_not_null() & (
        word.is_in(_OPEN_WORDS.split()) | (last.str.count_matches(r"\S+") >= MIN_PROSE_WORDS)
    )
    after_a_comma = last.str.contains(r"[\p{L}\p{N}],$")
    return ((in_a_word | after_a_comma) & (fragment_words >= MIN_FRAGMENT_WORDS)).fill_null(False)


def truncation_reason(marker: pl.Expr, final_body: pl.Expr) -> pl.Expr:
    """`marker` (the `source_marker` of the body as ingested), else ellipsis or
    mid_sentence as the final body ends; null for a complete body."""
    return pl.coalesce(
        marker,
        pl.when(final_body.str.contains(_ELLIPSIS)).then(pl.lit("ellipsis")),
        pl.when(ends_mid_sentence(final_body)).then(pl.lit("mid_sentence")),
    )


# Trailing markers, several in a row ("… [+1197 chars]", "... Read more »").
_TRAILING_MARKERS = (
    rf"(?i)(?:\s*(?:{_CHAR_COUNT}|{_ELLIPSIS_MARK}|{_READ_MORE_WORDS}\W*|"
    rf"\(more\s*(?:…|\.\.\.)\)))+\s*$"
)
# The last word: one letter of an unspaced script (with its marks), else the last token.
_LAST_WORD = rf"\s*(?:{UNSPACED_LETTER}\p{{M}}*|{SPACED_CHAR}+)$"


def readable_body(body: pl.Expr, truncated: pl.Expr) -> pl.Expr:
    """The text an enricher should read: for a truncated body, without the trailing
    marker ("[+1197 chars]", "…", "Read more") and without the last word when the cut
    fell right after it (it may be a fragment: "… the plan wou"). A complete body is
    returned as it is. Keywords, entities, counts and quality read this, so "chars" or
    a cut-off word never becomes content."""
    # Complete bodies are nulled first, so the patterns below skip them.
    cut = pl.when(truncated.fill_null(False)).then(body)
    unmarked = cut.str.replace(_TRAILING_MARKERS, "")
    cut_in_word = unmarked.str.contains(r"[\p{L}\p{N}\p{M}]$")
    # Without the word, an earlier marker may end the text ("… [+9 chars] wo"): again.
    without_cut = unmarked.str.replace(_LAST_WORD, "").str.replace(_TRAILING_MARKERS, "")
    readable = pl.when(cut_in_word).then(without_cut).otherwise(unmarked)
    return pl.when(truncated.fill_null(False)).then(readable).otherwise(body)
