"""The column contract of every lake folder: one schema per stage.

Writers pass frames through `conform` before they touch storage, so a stage that
drifts from this module fails loudly instead of writing something downstream
readers do not expect. Any change here bumps `SCHEMA_VERSION` and docs/SCHEMA.md (a
new enricher's columns do not bump it: `GROWING_STAGES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import NamedTuple

import polars as pl

SCHEMA_VERSION = "5"
# The schema version in which each folder's columns last changed (a column change sets
# its folder to the new SCHEMA_VERSION). Files naming an older version were written to
# another contract: a run refuses such a lake (Lake.check_schema_version), except in
# enriched/, which it rewrites from deduped/ (tasks/enrich.py `outdated_batches`).
CONTRACT_SINCE: dict[str, int] = {
    "ingested": 4,
    "cleaned": 4,
    "deduped": 4,
    "enriched": 5,
    "metadata_only": 4,
    "duplicates": 4,
    "quarantine": 4,
    "manifest": 4,
    "line_docs": 4,
    "line_stats": 4,
    "dedupe_index": 4,
}
# Folders a run rewrites whole when their files are of an older version.
REWRITTEN_WHEN_OUTDATED = ("enriched",)
# Folders that gain columns without a new SCHEMA_VERSION: a new enricher adds its columns
# to `enriched`, and a file written before it reads them as null (Lake.scan).
GROWING_STAGES = ("enriched",)

REMOVED_LINE = pl.Struct({"text": pl.String, "rule": pl.String})

# What the source says about an article beyond its text, kept from ingest to enriched/.
_SOURCE_FIELDS: dict[str, pl.DataType] = {
    "authors": pl.List(pl.String),
    "description": pl.String(),
    "image_url": pl.String(),
    "source_language": pl.String(),
    "tags": pl.List(pl.String),
    "fetched_at": pl.Datetime("us", "UTC"),
}

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
        # ingested: the URL fetched, when the source names one besides the article's own
        # (a WARC's target URI); clean fills it from `url` for every other record.
        "url_raw": pl.String(),
        "body": pl.String(),
        "site_name": pl.String(),
        **_SOURCE_FIELDS,
    }
)

CLEANED = pl.Schema(
    {
        **INGESTED,
        "published_date": pl.Date(),
        "date_flag": pl.String(),
        "date_source": pl.String(),
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
        "urls": pl.List(pl.String),
        "body": pl.String(),
        "source_files": pl.List(pl.String),
        "layouts": pl.List(pl.String),
        "duplicate_count": pl.Int64(),
        "removed_lines": pl.List(REMOVED_LINE),
        "site_name": pl.String(),
        **_SOURCE_FIELDS,
        # The flags clean set, carried so readers can filter on them.
        "date_flag": pl.String(),
        "date_source": pl.String(),
        "url_flag": pl.String(),
        "body_truncated": pl.Boolean(),
        "truncation_reason": pl.String(),
    }
)

# `published_month` is also the hive partition key of enriched/ (published_month=2021-12/).
# The enrichers' columns follow, declared by the enrichers themselves: see
# `enricher_columns` below and docs/decisions/0024-enrichers-declare-their-columns.md.
ENRICHED_BASE = pl.Schema({**DEDUPED, "published_month": pl.String()})


class Column(NamedTuple):
    """A column an enricher adds to `enriched`, declared in the enricher's own module."""

    name: str
    dtype: pl.DataType
    description: str


# The entry-point group (pyproject.toml) through which the stage layer supplies the
# columns its enrichers add, so core never imports `tasks`: a function returning them,
# in the order the enrichers run.
ENRICHED_COLUMNS_GROUP = "newsflow.enriched_columns"


@cache
def enricher_columns() -> tuple[Column, ...]:
    """The columns the registered enrichers add to `enriched`, in their order."""
    found = sorted(entry_points(group=ENRICHED_COLUMNS_GROUP), key=lambda point: point.name)
    if not found:
        raise RuntimeError(
            f"no {ENRICHED_COLUMNS_GROUP!r} entry point: install the project (`make setup`)"
        )
    columns: tuple[Column, ...] = tuple(c for point in found for c in point.load()())
    names = [c.name for c in columns]
    clashes = sorted({n for n in names if names.count(n) > 1 or n in ENRICHED_BASE})
    if clashes:
        raise SchemaDriftError(f"enriched: columns declared twice or in the base {clashes}")
    return columns


def enriched_schema() -> pl.Schema:
    """`enriched`: deduped's columns, `published_month`, then every enricher's columns
    (null in a row whose run did not select that enricher)."""
    return pl.Schema({**ENRICHED_BASE, **{c.name: c.dtype for c in enricher_columns()}})


# Records with a title or URL but no body text (a metadata-only page or feed item):
# kept, counted in the books, never deduped or enriched.
METADATA_ONLY = CLEANED

DUPLICATES = pl.Schema(
    {
        "doc_id": pl.String(),
        "kept_doc_id": pl.String(),
        "matched_doc_id": pl.String(),
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

# What dedupe knows about every cleaned document it has seen, so a later run matches new
# documents against all earlier ones without re-reading their text (tasks/dedupe_stage.py).
DEDUPE_INDEX = pl.Schema(
    {
        "doc_id": pl.String(),
        "batch_id": pl.String(),
        "kept_doc_id": pl.String(),
        "exact_key": pl.UInt64(),
        "sentence_key": pl.UInt64(),
        "title_key": pl.UInt64(),
        "short_body": pl.Boolean(),
        "shingle_count": pl.Int64(),
        "published_date": pl.Date(),
        "band_keys": pl.List(pl.UInt64),
        "signature": pl.List(pl.UInt32),
        "near_doc_ids": pl.List(pl.String),
        "settings": pl.String(),
        "run_id": pl.String(),
    }
)


class _StageSchemas(Mapping[str, pl.Schema]):
    """Stage -> its schema; a function stands for a schema composed when first read."""

    def __init__(self, schemas: dict[str, pl.Schema | Callable[[], pl.Schema]]) -> None:
        self._schemas = schemas

    def __getitem__(self, stage: str) -> pl.Schema:
        schema = self._schemas[stage]
        return schema if isinstance(schema, pl.Schema) else schema()

    def __iter__(self) -> Iterator[str]:
        return iter(self._schemas)

    def __len__(self) -> int:
        return len(self._schemas)


STAGE_SCHEMAS: Mapping[str, pl.Schema] = _StageSchemas(
    {
        "ingested": INGESTED,
        "cleaned": CLEANED,
        "deduped": DEDUPED,
        "enriched": enriched_schema,
        "metadata_only": METADATA_ONLY,
        "duplicates": DUPLICATES,
        "quarantine": QUARANTINE,
        "manifest": FILE_MANIFEST,
        "line_docs": LINE_DOCS,
        "line_stats": LINE_STATS,
        "dedupe_index": DEDUPE_INDEX,
    }
)


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


# What each column means, for docs/SCHEMA.md (generated: `python -m newsflow.schema_doc`);
# an enricher's columns are described where it declares them (`descriptions()`).
DESCRIPTIONS: dict[str, str] = {
    "doc_id": "Stable id of the record: hash of source path, file content hash and record index",
    "run_id": "The run that wrote the row (`runs/<run_id>.json`)",
    "batch_id": "The batch of input files the row came from (hash of their paths and contents)",
    "source_file": "Path of the raw file, relative to the input folder",
    "record_index": "Position of the record in its file (0 for one-article files; in a WARC "
    "file, the position among all its WARC records, requests included)",
    "layout": "Detected layout: headed, dated, plain, json, jsonl, csv, html, rss, atom, "
    "jsonfeed, warc",
    "encoding": "Text encoding the file was decoded with",
    "title": "Headline",
    "date_raw": "Publication date as written in the source",
    "url": "Article URL (ingested: as written; later stages: canonical http/https or null: "
    "HTML entities decoded, scheme and host lower-cased, no credentials, default port, "
    "fragment or tracking parameter (list in tasks/urls.py), path and query otherwise as "
    "written; canonical_url_v2)",
    "urls": "Every canonical URL a copy of the article had (sorted)",
    "body": "Article text, paragraphs separated by one blank line",
    "published_date": "Publication date; null when missing or implausible (see date_flag)",
    "date_flag": "Why published_date is null: missing, unparseable, future, before_1900, "
    "epoch_1970",
    "date_source": "Where published_date came from: raw (the source's date field) or url",
    "url_raw": "URL as ingested, before canonicalisation (credentials masked as ***@); for a "
    "WARC record the URL the crawler fetched (WARC-Target-URI), while url is the page's "
    "canonical link. ingested: null unless the source names a fetched URL",
    "url_flag": "Why url is null: missing, malformed, bad_host, scheme_<name>, "
    "consent_interstitial (a cookie-wall or consent page such as consent.yahoo.com, not the "
    "article's address; url_raw keeps it); deduped and enriched: only when no copy has a URL",
    "removed_lines": "Paragraphs removed as boilerplate, each with the rule that removed it",
    "site_name": "Publisher name the source gives: the page's HTML metadata (else its host, "
    "credentials masked as ***@), or an export's "
    "source name (NewsAPI source.name, NewsData.io source_name); deduped and enriched: the "
    "first in sort order among the article's copies",
    "body_truncated": "Whether the source cut the body off (see truncation_reason); a truncated "
    "body is kept with this flag and is exempt from body_min_words",
    "truncation_reason": "How the cut was recognised: char_count_marker ('[+N chars]') and "
    "read_more (read from the body as ingested), ellipsis ('…', '[…]' ending the final "
    "body), mid_sentence (the final body stops inside a sentence: tasks/truncation.py)",
    "authors": "Authors as a list of names: the source's author field (split on , and & ;, "
    "a leading 'By ' dropped, a role such as ', Staff Writer' kept with its name), else "
    "(enriched/) the byline the dateline enricher found; merged copies: every name",
    "description": "The source's summary or standfirst (feed description, meta description, "
    "NewsAPI description)",
    "image_url": "The article's lead image as the source gives it (og:image, feed enclosure, "
    "NewsAPI urlToImage)",
    "source_language": "Language the source declares (feed, HTML lang, export field), as written",
    "tags": "Categories and keywords the source gives (feed categories, HTML tags); merged "
    "copies: every tag",
    "fetched_at": "When the page was fetched (WARC-Date, news-please's date_download), UTC; "
    "null when the source does not say",
    "source_files": "Every raw file that held a copy of the article",
    "layouts": "Every layout the article was found in",
    "duplicate_count": "Number of copies merged into this record (1 when unique)",
    "published_month": "YYYY-MM of published_date, or 'unknown'; the hive partition of enriched/",
    "kept_doc_id": "The record the document was merged into (in dedupe_index: itself when kept)",
    "matched_doc_id": "The copy the duplicate matched: the kept one when it matches it directly, "
    "else the copy of the cluster it matches best",
    "similarity": "Verified similarity to matched_doc_id: 1.0 for exact_body and sentence_set, the "
    "shingle Jaccard for near_jaccard, the containment (shared shingles over the smaller "
    "set) for near_containment",
    "method": "How the duplicate matched: exact_body (same normalised body), sentence_set (same "
    "set of sentences, any order), near_jaccard, near_containment (word shingles, verified)",
    "exact_key": "BLAKE2b-64 of the normalised body",
    "sentence_key": "BLAKE2b-64 of the sorted set of normalised sentences",
    "title_key": "BLAKE2b-64 of the normalised title; null without one",
    "short_body": "Body under short_body_words words or min_shingles shingles: it matches a "
    "copy only when their titles agree (or one is missing) and, with both dates known, "
    "within date_window_days",
    "shingle_count": "Distinct word shingles of the body (shingles never cross a sentence)",
    "band_keys": "MinHash LSH band keys (empty for bodies under min_shingles shingles)",
    "signature": "MinHash signature, num_perm values (empty under min_shingles): a candidate "
    "pair's estimated similarity decides whether it is verified",
    "near_doc_ids": "Documents verified as near duplicates when this one was indexed, and "
    "short bodies it is linked to (same key, agreeing title, within the date window)",
    "settings": "The dedupe settings and signature algorithm the row was computed with; the "
    "index is rebuilt when they change",
    "stage": "Stage that quarantined the row: ingest, clean, quality (a Great Expectations "
    "rule; see quality/)",
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


def descriptions() -> dict[str, str]:
    """What every column of the contract means, the enrichers' columns included."""
    return {**DESCRIPTIONS, **{c.name: c.description for c in enricher_columns()}}
