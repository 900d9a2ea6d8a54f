"""clean: ingested rows -> repaired text, real dates, canonical URLs, no boilerplate.

`clean_frame` is the pure transform; the task at the bottom only reads and writes.
Rows are split three ways, none dropped: a record whose source gave no body but a title
or a URL is metadata-only (`metadata_only/`, a record of its own, never deduped or
enriched); a row whose body the boilerplate rules emptied is quarantined as
`furniture_only` (the detail names the rules), one with no body, title or URL as
`empty_body`; every other row is cleaned.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import ftfy
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.config import RepeatThresholds
from newsflow.lake import Lake
from newsflow.schema import CLEANED, METADATA_ONLY, QUARANTINE, empty, rule_counts
from tasks.boilerplate import (
    line_hash,
    matching_rule,
    publisher_columns,
    repeated_lines,
    repeated_stats,
    with_body_context_rules,
)
from tasks.dates import published_date
from tasks.stage_result import StageResult
from tasks.truncation import source_marker, truncation_reason
from tasks.urls import canonical_url

PARAGRAPH_BREAK = "\n\n"
# Ingested rows cleaned at a time (a normal batch is one chunk).
CLEAN_CHUNK_ROWS = 10_000
# The quarantine rule of a body that boilerplate rules emptied (`empty_body`: no text).
FURNITURE_ONLY = "furniture_only"
# ftfy repairs mojibake and encoding faults only. Its other defaults restyle what the
# source wrote: ’ “ ” become ASCII quotes (uncurl_quotes), "ﬁ" becomes "fi"
# (fix_latin_ligatures), full-width "ＣＯＶＩＤ－１９" in CJK text becomes half-width
# (fix_character_width); those stay off. Line breaks are still unified ("\r\n",
# U+2028), since clean normalises white space anyway.
_REPAIR = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)
# Text ftfy leaves exactly as it is: printable ASCII, tabs and newlines, plus the
# typographic marks ‘ ’ “ ” – — … • and "£", "€" with no other non-ASCII character
# beside them (every mojibake pattern ftfy looks for needs two non-ASCII characters in
# a row, or a lead character such as "Â" or "Ã"; with the restyling fixes off, nothing
# else touches these), unless "&" starts an HTML entity ("&amp;", what ftfy decodes).
# Anything else, "\r" and control characters included, goes through ftfy. Most news
# text passes, and ftfy per row is clean's largest cost.
_TYPOGRAPHIC = "‘’“”–—…•£€"
_NEEDS_FTFY = rf"[^\t\n\x20-\x7e{_TYPOGRAPHIC}]|[{_TYPOGRAPHIC}]{{2}}|&#?[0-9A-Za-z]{{1,24}};"


# Rounds of ftfy + white space a row may take to settle (see _normalised_series).
MAX_REPAIR_PASSES = 4


def _fix(text: str) -> str:
    return ftfy.fix_text(text, _REPAIR)


def _spaced(col: pl.Expr) -> pl.Expr:
    """Spaces collapsed, lines joined, paragraphs one blank line apart."""
    return (
        col.str.replace_all(r"[^\S\n]+", " ")
        .str.replace_all(r" ?\n ?", "\n")
        .str.replace_all(r"\n{2,}", "\x00")
        .str.replace_all("\n", " ")
        .str.replace_all("\x00", PARAGRAPH_BREAK)
        .str.strip_chars()
    )


def _spaced_series(texts: pl.Series) -> pl.Series:
    return pl.select(_spaced(pl.lit(texts))).to_series()


def _normalised_series(texts: pl.Series) -> pl.Series:
    spaced = _spaced_series(texts)
    rows = texts.str.contains(_NEEDS_FTFY).fill_null(False).arg_true()
    if rows.is_empty():  # ftfy would change none of them
        return spaced
    # ftfy then spaces, again on the rows that changed, until none does: collapsing
    # white space can set a character beside a space that ftfy reads as mojibake only
    # then ("Â" and a line break become "Â ", a broken no-break space), and ftfy decodes
    # one level of a doubly escaped "&amp;amp;" per call. Cleaning the result again
    # changes nothing. The rows ftfy leaves alone need no second look: white space
    # changes never set two characters side by side.
    result = texts.gather(rows)
    changing = pl.int_range(len(result), eager=True)
    for _ in range(MAX_REPAIR_PASSES):
        before = result.gather(changing)
        after = _spaced_series(pl.Series([_fix(text) for text in before], dtype=pl.String))
        result = result.scatter(changing, after)
        changing = changing.filter(after != before)
        if changing.is_empty():
            break
    return spaced.scatter(rows, result)


def normalised_text(col: pl.Expr) -> pl.Expr:
    """Unicode repaired (ftfy, only for rows it could change), spaces collapsed,
    paragraphs kept as one blank line apart; cleaning the result again changes nothing."""
    return col.map_batches(_normalised_series, return_dtype=pl.String)


def _url_parts(url: str | None) -> dict[str, str | None]:
    canonical, flag = canonical_url(url)
    return {"url": canonical, "url_flag": flag}


def without_boilerplate(df: pl.DataFrame, repeated: pl.DataFrame | None = None) -> pl.DataFrame:
    """Drop boilerplate paragraphs from `body`, recording each in `removed_lines`.

    `df` needs `body`, `title` and `url_raw`. `repeated` holds the (domain, line_hash)
    pairs that recur across their domain (`repeated_lines`); without it the repeat rule
    is off.
    """
    rows = df.with_row_index("_row")
    paragraphs = (
        rows.select(
            "_row",
            "title",
            pl.col("body").str.split(PARAGRAPH_BREAK).alias("text"),
            source=publisher_columns(pl.col("url_raw")),
        )
        .unnest("source")
        .explode("text")
    )
    if repeated is not None and not repeated.is_empty():
        paragraphs = paragraphs.with_columns(line_hash=line_hash(pl.col("text"))).join(
            repeated.unique().with_columns(repeated=pl.lit(True)),
            on=["domain", "line_hash"],
            how="left",
            maintain_order="left",
        )
    else:
        paragraphs = paragraphs.with_columns(repeated=pl.lit(False))
    paragraphs = paragraphs.with_columns(
        rule=matching_rule(pl.col("text"), pl.col("publisher"), pl.col("repeated"))
    )
    paragraphs = with_body_context_rules(paragraphs)
    per_row = paragraphs.group_by("_row", maintain_order=True).agg(
        body=pl.col("text").filter(pl.col("rule").is_null()).str.join(PARAGRAPH_BREAK),
        removed_lines=pl.struct("text", "rule").filter(pl.col("rule").is_not_null()),
    )
    return rows.drop("body").join(per_row, on="_row", maintain_order="left").drop("_row")


def _repaired(ingested: pl.DataFrame, run_date: dt.date) -> pl.DataFrame:
    """Ingested rows with Unicode and whitespace repaired, the date and URL read, and
    what the source itself gave (`_source_body`, `_source_metadata`, `_source_marker`)
    kept for the judgements after boilerplate removal."""
    df = ingested.with_columns(
        title=normalised_text(pl.col("title")),
        body=normalised_text(pl.col("body")).fill_null(""),
        dates=published_date(pl.col("date_raw"), pl.col("url"), run_date),
        url_raw=pl.coalesce("url_raw", "url"),
        url_parts=pl.col("url").map_elements(
            _url_parts,
            return_dtype=pl.Struct({"url": pl.String, "url_flag": pl.String}),
            skip_nulls=False,
        ),
    )
    df = (
        df.drop("url")
        .unnest("url_parts", "dates")
        .with_columns(
            _source_body=pl.col("body") != "",
            _source_metadata=pl.col("title").fill_null("").str.strip_chars().ne("")
            | pl.col("url_raw").fill_null("").str.strip_chars().ne(""),
        )
    )
    # The source's own truncation markers are read from the body as the source ended
    # it, before a trailing "Read more" line is removed as boilerplate; an unfinished
    # last sentence is judged on the final body, after a footer ("© 2019 …") is gone.
    return df.with_columns(_source_marker=source_marker(pl.col("body")))


def _empty_body_rejects(empty: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows (not yet in QUARANTINE's column order) for the rows left with no
    body and no metadata to keep."""
    return empty.select(
        "source_file",
        "record_index",
        stage=pl.lit("clean"),
        # A body that was all furniture (a bio teaser, a consent wall, a paywall notice …)
        # is named for the rules that emptied it.
        rule=pl.when(pl.col("_source_body"))
        .then(pl.lit(FURNITURE_ONLY))
        .otherwise(pl.lit("empty_body")),
        detail=pl.when(pl.col("_source_body"))
        .then(
            pl.format(
                "no body text left after cleaning ({} paragraphs removed as boilerplate: {})",
                pl.col("removed_lines").list.len(),
                pl.col("removed_lines")
                .list.eval(pl.element().struct.field("rule"))
                .list.unique(maintain_order=True)
                .list.join(", "),
            )
        )
        .otherwise(pl.lit("the source gave no body, title or URL")),
        doc_id="doc_id",
        run_id="run_id",
        batch_id="batch_id",
    )


def clean_frame(
    ingested: pl.DataFrame,
    run_date: dt.date,
    line_stats: pl.DataFrame | pl.LazyFrame | None = None,
    thresholds: RepeatThresholds | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Clean ingested rows. Returns (cleaned rows, metadata-only rows, quarantined rows).

    Metadata-only is judged on the body as the source gave it (empty after Unicode and
    whitespace repair), never on what boilerplate removal left: a body that was all
    furniture is not a metadata record, it is quarantined with its removed lines.

    `line_stats` is the per-domain line-frequency table (`line_stats/`); without it the
    rule `domain_repeat_v1` removes nothing. `thresholds` default to `RepeatThresholds()`.
    """
    df = _repaired(ingested, run_date)
    repeated = None
    if line_stats is not None:
        repeated = repeated_lines(line_stats.lazy(), thresholds).collect()
    df = (
        without_boilerplate(df, repeated)
        .with_columns(
            title=pl.when(pl.col("title") != "").then(pl.col("title")),
            truncation_reason=truncation_reason(pl.col("_source_marker"), pl.col("body")),
        )
        .with_columns(body_truncated=pl.col("truncation_reason").is_not_null())
    )
    metadata_only = pl.col("_source_metadata") & ~pl.col("_source_body")
    empty = df.filter((pl.col("body") == "") & ~metadata_only)
    quarantined = _empty_body_rejects(empty)
    # No body to hold: null, not "", says the source had none.
    metadata = df.filter(metadata_only).with_columns(body=pl.lit(None, pl.String))
    cleaned = df.filter(pl.col("body") != "")
    return (
        cleaned.select(CLEANED.names()),
        metadata.select(METADATA_ONLY.names()),
        quarantined.select(QUARANTINE.names()),
    )


@dataclass(frozen=True, kw_only=True)
class CleanedBatch(StageResult):
    """rows_in: ingested rows read; rows_out: rows written to cleaned/."""

    metadata_only: int
    removed_by_rule: dict[str, int]

    def line(self) -> str:
        return (
            f"batch {self.batch_id} -> {self.rows_out} rows, {self.metadata_only} "
            f"metadata-only, {self.quarantined} quarantined"
        )


@task(
    name="clean",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="clean-{batch_id}",
)
def clean(
    batch_id: str,
    lake_dir: str,
    run_id: str,
    run_date: dt.date,
    thresholds: RepeatThresholds | None = None,
) -> CleanedBatch:
    """Clean `ingested/<batch_id>` into `cleaned/<batch_id>` and
    `metadata_only/<batch_id>`; returns counts.

    Reads the line statistics brought up to date for this run (tasks/line_stats.py):
    only the lines the thresholds make repeats, not every line held twice.
    """
    started = time.perf_counter()
    lake = Lake(lake_dir)
    line_stats = repeated_stats(lake.scan("line_stats"), thresholds).collect()
    metadata_parts: list[pl.DataFrame] = []
    quarantine_parts: list[pl.DataFrame] = []
    removed: Counter[str] = Counter()

    def cleaned_chunks() -> Iterator[pl.DataFrame]:
        # A batch of one large streamed file holds many records: clean them a chunk at a
        # time, so memory follows the chunk, not the file (every rule reads one row).
        for ingested in lake.read_chunks("ingested", batch_id, CLEAN_CHUNK_ROWS):
            cleaned, metadata_only, quarantined = clean_frame(
                ingested, run_date, line_stats, thresholds
            )
            metadata_parts.append(metadata_only)
            quarantine_parts.append(quarantined)
            rules = cleaned.select(pl.col("removed_lines").explode().struct.field("rule"))
            removed.update(rules.drop_nulls().to_series().to_list())
            yield cleaned

    cleaned_rows = lake.write_chunks(cleaned_chunks(), "cleaned", batch_id, run_id)
    metadata_only = pl.concat(metadata_parts) if metadata_parts else empty(METADATA_ONLY)
    quarantined = pl.concat(quarantine_parts) if quarantine_parts else empty(QUARANTINE)
    lake.write(metadata_only, "metadata_only", batch_id, run_id)
    lake.write(quarantined, "quarantine", f"clean-{batch_id}", run_id)
    return CleanedBatch(
        batch_id=batch_id,
        rows_in=lake.store.parquet_metadata(lake.file_path("ingested", batch_id)).num_rows,
        rows_out=cleaned_rows,
        metadata_only=metadata_only.height,
        quarantined=quarantined.height,
        quarantined_by_rule=rule_counts(quarantined),
        removed_by_rule=dict(sorted(removed.items())),
        seconds=time.perf_counter() - started,
    )
