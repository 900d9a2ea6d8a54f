"""Helper columns the suites check, derived in polars before a frame goes to GX.

GX checks one column at a time and ignores nulls in most expectations, so a rule like
"at least 30 words" or "a date where the layout has one" needs a column that holds
exactly the fact to check. Each helper is named `qc_*` so it can never be mistaken for
a contract column, and is computed with the pipeline's own functions (tasks/dates.py),
so "missing" and "parsed" mean here what they mean in clean.

Helpers whose inputs are missing from the frame come out null: the schema expectations
then say what is wrong, instead of a polars error hiding every other result.
"""

from __future__ import annotations

import polars as pl

from newsflow.text_rules import word_count
from tasks.dates import date_from_url, is_missing, parsed_date
from tasks.layouts import DATE_LAYOUTS, URL_LAYOUTS
from tasks.truncation import source_marker, truncation_reason

# Stages whose rows are one record of one file (a `layout` column) rather than merged
# clusters (a `layouts` list).
RECORD_STAGES = ("ingested", "cleaned")

HELPERS = (
    "qc_carries_date",
    "qc_carries_url",
    "qc_title",
    "qc_date_source",
    "qc_date_parsed",
    "qc_date",
    "qc_date_month",
    "qc_url",
    "qc_body",
    "qc_body_words",
    "qc_body_complete",
    "qc_boilerplate_share",
)


def _text(col: pl.Expr) -> pl.Expr:
    """The value with blank strings as null: an empty title is as missing as a null one."""
    stripped = col.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def _carries(frame: pl.DataFrame, layouts: tuple[str, ...]) -> pl.Expr:
    if "layout" in frame.columns:
        return pl.col("layout").is_in(layouts).fill_null(False)
    if "layouts" in frame.columns:
        return pl.col("layouts").list.eval(pl.element().is_in(layouts)).list.any().fill_null(False)
    return pl.lit(False)


def _raw_date_columns(frame: pl.DataFrame, url: pl.Expr) -> dict[str, pl.Expr]:
    """From date_raw: where the date comes from, the raw date read, and the date used.

    `qc_date` is the date *before* clean judges it plausible: clean turns a future or
    1970 date into null (with a date_flag), which would leave a range check nothing to see.
    """
    raw = pl.col("date_raw")
    from_url = date_from_url(url)
    given = ~is_missing(raw)
    return {
        "qc_date_source": pl.when(given)
        .then(pl.lit("raw"))
        .when(from_url.is_not_null())
        .then(pl.lit("url")),
        "qc_date_parsed": pl.when(given).then(parsed_date(raw)),
        "qc_date_from_url": from_url,
    }


def helper_columns(stage: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the `qc_*` helpers of HELPERS appended (all of them, at every stage)."""
    has = set(frame.columns)

    def col(name: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(name) if name in has else pl.lit(None, dtype)

    url_column = "url_raw" if stage == "cleaned" else "url"
    url = col(url_column, pl.String())
    if stage in RECORD_STAGES and "date_raw" in has:
        dates = _raw_date_columns(frame, url)
    else:
        published = col("published_date", pl.Date())
        dates = {
            "qc_date_source": pl.when(published.is_not_null()).then(pl.lit("published_date")),
            "qc_date_parsed": published,
            "qc_date_from_url": pl.lit(None, pl.Date()),
        }
    body = col("body", pl.String())
    if "body_truncated" in has:
        truncated = pl.col("body_truncated")
    else:  # ingested rows: judged as clean will judge them
        truncated = truncation_reason(source_marker(body), body).is_not_null()
    if "removed_lines" in has:
        removed = pl.col("removed_lines").list.eval(
            pl.element().struct.field("text").str.len_chars()
        )
        removed_chars = removed.list.sum().fill_null(0)
        total = removed_chars + body.str.len_chars().fill_null(0)
        share: pl.Expr = pl.when(total > 0).then(removed_chars / total)
    else:
        share = pl.lit(None, pl.Float64())
    return (
        frame.with_columns(
            qc_carries_date=_carries(frame, DATE_LAYOUTS),
            qc_carries_url=_carries(frame, URL_LAYOUTS),
            qc_title=_text(col("title", pl.String())),
            **dates,
            qc_url=_text(url),
            # The length, not the text: GX gets a copy of every column it checks, and
            # bodies would be most of a run's bytes. Null when the body is blank.
            qc_body=_text(body).str.len_chars().cast(pl.Int64),
            # Words as newsflow/text_rules.py counts them (letters of Chinese, Japanese, Thai).
            qc_body_words=pl.when(_text(body).is_not_null()).then(word_count(body)),
            # A truncated teaser is a record with its flag: length rules skip it.
            qc_body_complete=~truncated.fill_null(False),
            qc_boilerplate_share=share.cast(pl.Float64),
        )
        .with_columns(
            # Parsed once above (the fallback parser runs row by row), combined here.
            qc_date=pl.coalesce("qc_date_parsed", "qc_date_from_url")
        )
        .with_columns(qc_date_month=pl.col("qc_date").dt.strftime("%Y-%m"))
        .drop("qc_date_from_url")
    )
