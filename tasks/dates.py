"""Publication dates: raw strings -> a real date plus a flag saying why one is missing.

Expression builders only, so the clean stage combines them in one `with_columns`.
An implausible date is flagged and dropped rather than passed on as a fact.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

EARLIEST = dt.date(1900, 1, 1)


def parsed_date(raw: pl.Expr) -> pl.Expr:
    """The first format that parses: YYYYMMDD, or an ISO 8601 date/datetime prefix."""
    text = raw.str.strip_chars()
    return pl.coalesce(
        pl.when(text.str.contains(r"^\d{8}$")).then(text.str.to_date("%Y%m%d", strict=False)),
        pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")).then(
            text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        ),
    )


def date_flag(raw: pl.Expr, parsed: pl.Expr, run_date: dt.date) -> pl.Expr:
    """Why a row has no usable date: missing, unparseable, future, before_1900, epoch_1970."""
    latest = run_date + dt.timedelta(days=1)
    return (
        pl.when(raw.is_null() | (raw.str.strip_chars() == ""))
        .then(pl.lit("missing"))
        .when(parsed.is_null())
        .then(pl.lit("unparseable"))
        .when(parsed > latest)
        .then(pl.lit("future"))
        .when(parsed < EARLIEST)
        .then(pl.lit("before_1900"))
        # Epoch-unit mistakes (seconds read as milliseconds) land in January 1970.
        .when((parsed.dt.year() == 1970) & (parsed.dt.month() == 1))
        .then(pl.lit("epoch_1970"))
        .otherwise(None)
    )
