"""The column contract of every lake folder: one schema per stage.

Writers pass frames through `conform` before they touch storage, so a stage that
drifts from this module fails loudly instead of writing something downstream
readers do not expect. Any change here bumps `SCHEMA_VERSION` and docs/SCHEMA.md.
"""

from __future__ import annotations

import polars as pl

SCHEMA_VERSION = "2"

REMOVED_LINE = pl.Struct({"text": pl.String, "rule": pl.String})

_LINEAGE: dict[str, pl.DataType] = {
    "doc_id": pl.String(),
    "run_id": pl.String(),
    "batch_id": pl.String(),
}

INGESTED = pl.Schema(
    {
        **_LINEAGE,
        "source_file": pl.String(),
        "record_index": pl.Int64(),
        "layout": pl.String(),
        "encoding": pl.String(),
        "title": pl.String(),
        "date_raw": pl.String(),
        "url": pl.String(),
        "body": pl.String(),
        "site_name": pl.String(),
    }
)

CLEANED = pl.Schema(
    {
        **INGESTED,
        "published_date": pl.Date(),
        "date_flag": pl.String(),
        "date_source": pl.String(),
        "url_raw": pl.String(),
        "url_flag": pl.String(),
        "removed_lines": pl.List(REMOVED_LINE),
        "body_truncated": pl.Boolean(),
        "truncation_reason": pl.String(),
    }
)

DEDUPED = pl.Schema(
    {
        **_LINEAGE,
        "title": pl.String(),
        "published_date": pl.Date(),
        "url": pl.String(),
        "body": pl.String(),
        "source_files": pl.List(pl.String),
        "layouts": pl.List(pl.String),
        "duplicate_count": pl.Int64(),
        "removed_lines": pl.List(REMOVED_LINE),
    }
)

# `published_month` is also the hive partition key of enriched/ (published_month=2021-12/).
ENRICHED = pl.Schema(
    {
        **DEDUPED,
        "published_month": pl.String(),
        "char_count": pl.Int64(),
        "word_count": pl.Int64(),
        "paragraph_count": pl.Int64(),
        "host": pl.String(),
        "domain": pl.String(),
    }
)

DUPLICATES = pl.Schema(
    {
        "doc_id": pl.String(),
        "kept_doc_id": pl.String(),
        "similarity": pl.Float64(),
        "method": pl.String(),
        "run_id": pl.String(),
        "batch_id": pl.String(),
    }
)

QUARANTINE = pl.Schema(
    {
        "source_file": pl.String(),
        "record_index": pl.Int64(),
        "stage": pl.String(),
        "rule": pl.String(),
        "detail": pl.String(),
        "doc_id": pl.String(),
        "run_id": pl.String(),
        "batch_id": pl.String(),
    }
)

# Input files seen so far, keyed by content hash: what makes runs incremental.
FILE_MANIFEST = pl.Schema(
    {
        "content_hash": pl.String(),
        "source_file": pl.String(),
        "size_bytes": pl.Int64(),
        "batch_id": pl.String(),
        "run_id": pl.String(),
        "status": pl.String(),
        "records": pl.Int64(),
    }
)

# The statistics behind the boilerplate rule domain_repeat_v1. `line_docs/` holds every
# document counted so far, keyed by doc_id, so a re-ingested document is never counted
# twice; `line_stats/` is derived from it on every run and read by the clean tasks.
LINE_DOCS = pl.Schema(
    {
        "doc_id": pl.String(),
        "domain": pl.String(),
        "line_hashes": pl.List(pl.UInt64),
        "run_id": pl.String(),
    }
)

LINE_STATS = pl.Schema(
    {
        "domain": pl.String(),
        "line_hash": pl.UInt64(),
        "doc_count": pl.Int64(),
        "domain_docs": pl.Int64(),
    }
)

STAGE_SCHEMAS: dict[str, pl.Schema] = {
    "ingested": INGESTED,
    "cleaned": CLEANED,
    "deduped": DEDUPED,
    "enriched": ENRICHED,
    "duplicates": DUPLICATES,
    "quarantine": QUARANTINE,
    "manifest": FILE_MANIFEST,
    "line_docs": LINE_DOCS,
    "line_stats": LINE_STATS,
}


class SchemaDriftError(ValueError):
    """A frame does not match the contract of the folder it is written to."""


def conform(df: pl.DataFrame, schema: pl.Schema, *, name: str = "frame") -> pl.DataFrame:
    """Return `df` with exactly the columns of `schema`, in order, strictly cast.

    Missing or unexpected columns and values that do not cast raise
    `SchemaDriftError`: a silent null would hide a bug in the stage.
    """
    missing = [c for c in schema.names() if c not in df.columns]
    extra = [c for c in df.columns if c not in schema]
    if missing or extra:
        raise SchemaDriftError(f"{name}: missing columns {missing}, unexpected columns {extra}")
    try:
        return df.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise SchemaDriftError(f"{name}: values do not cast to the contract: {exc}") from exc


def empty(schema: pl.Schema) -> pl.DataFrame:
    """A frame with no rows and the contract's columns."""
    return pl.DataFrame(schema=schema)


def rule_counts(quarantined: pl.DataFrame) -> dict[str, int]:
    """Quarantined rows per rule, the number every run reports."""
    counts = quarantined.group_by("rule").len().sort("rule")
    return dict(zip(counts["rule"].to_list(), counts["len"].to_list(), strict=True))


# What each column means, for docs/SCHEMA.md (generated: `python -m newsflow.schema_doc`).
DESCRIPTIONS: dict[str, str] = {
    "doc_id": "Stable id of the record: hash of source path, file content hash and record index",
    "run_id": "The run that wrote the row (`runs/<run_id>.json`)",
    "batch_id": "The batch of input files the row came from (hash of their paths and contents)",
    "source_file": "Path of the raw file, relative to the input folder",
    "record_index": "Position of the record in its file (0 for one-article files)",
    "layout": "Detected layout: headed, dated, plain, json, jsonl, csv, html",
    "encoding": "Text encoding the file was decoded with",
    "title": "Headline",
    "date_raw": "Publication date as written in the source",
    "url": "Article URL (ingested: as written; later stages: canonical http/https or null)",
    "body": "Article text, paragraphs separated by one blank line",
    "published_date": "Publication date; null when missing or implausible (see date_flag)",
    "date_flag": "Why published_date is null: missing, unparseable, future, before_1900, "
    "epoch_1970",
    "date_source": "Where published_date came from: raw (the source's date field) or url",
    "url_raw": "URL as ingested, before canonicalisation",
    "url_flag": "Why url is null: missing, malformed, bad_host, scheme_<name>",
    "removed_lines": "Paragraphs removed as boilerplate, each with the rule that removed it",
    "site_name": "Publisher name given by the page itself (HTML metadata), when there is one",
    "body_truncated": "Whether the source cut the body off (see truncation_reason)",
    "truncation_reason": "How the cut was recognised: char_count_marker, read_more, mid_sentence",
    "source_files": "Every raw file that held a copy of the article",
    "layouts": "Every layout the article was found in",
    "duplicate_count": "Number of copies merged into this record (1 when unique)",
    "published_month": "YYYY-MM of published_date, or 'unknown'; the hive partition of enriched/",
    "char_count": "Characters in body",
    "word_count": "Words in body",
    "paragraph_count": "Paragraphs in body",
    "host": "Host name of url",
    "domain": "Registered domain of url (public-suffix aware)",
    "kept_doc_id": "The record this duplicate was merged into",
    "similarity": "Similarity of the duplicate to the kept record (1.0 for exact matches)",
    "method": "How the duplicate was found: exact_body, sentence_set",
    "stage": "Stage that quarantined the row: ingest, clean",
    "rule": "Name of the rule that quarantined the row",
    "detail": "What the rule saw",
    "content_hash": "BLAKE2b hash of the raw file's bytes",
    "size_bytes": "Size of the raw file",
    "status": "What became of the file: ingested or quarantined",
    "records": "Records ingested from the file",
    "line_hashes": "Hashes of the document's distinct paragraphs (case, digits and spacing "
    "folded; 64-bit BLAKE2b)",
    "line_hash": "Hash of one normalised paragraph, as in line_hashes",
    "doc_count": "Documents of the domain that hold the paragraph (identical documents "
    "count once; only paragraphs held by 2 or more are listed)",
    "domain_docs": "Documents of the domain counted so far (identical documents count once)",
}
