"""line_stats: how often each paragraph recurs across the documents of a domain.

The boilerplate rule `domain_repeat_v1` removes a paragraph that sits under many of a
site's articles (a footer, an "Advertisement" label, a newsletter box). That needs
counts over every document ingested so far, not one batch, so one task brings them up
to date after the run's ingest and before any clean task reads them.

Two lake tables (schemas in `newsflow/schema.py`):

* `line_docs/documents.parquet`: one row per counted document, keyed by `doc_id`,
  with the hashes of its distinct paragraphs. A document ingested again (a rerun
  after a crash, before the file manifest was written) is not counted twice, and the
  counts are rebuilt from stored hashes without re-reading any text.
* `line_stats/domain_lines.parquet`: derived from it on every run; per domain and
  paragraph hash, the documents that hold it and the domain's total. A line held by
  one document only is left out: it can never be a repeat.

Paragraphs are normalised exactly as clean normalises them, so the hashes clean
computes meet these. Documents with identical paragraphs (the same article twice)
count once: a copy is no evidence of furniture. `--full-refresh` clears both tables
with the other outputs, and the run that follows rebuilds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.lake import Lake
from newsflow.schema import LINE_DOCS, LINE_STATS, conform
from tasks.boilerplate import line_hash, publisher_columns
from tasks.clean import PARAGRAPH_BREAK, normalised_text


def document_lines(ingested: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """A `line_docs` row for every ingested row whose URL names a domain."""
    docs = (
        ingested.select("doc_id", "body", source=publisher_columns(pl.col("url")))
        .unnest("source")
        .filter(pl.col("domain").is_not_null())
        .unique("doc_id", keep="first", maintain_order=True)
    )
    hashes = (
        docs.select(
            "doc_id",
            text=normalised_text(pl.col("body")).fill_null("").str.split(PARAGRAPH_BREAK),
        )
        .explode("text")
        .filter(pl.col("text") != "")
        .group_by("doc_id", maintain_order=True)
        .agg(line_hashes=line_hash(pl.col("text")).unique().sort())
    )
    rows = docs.select("doc_id", "domain").join(
        hashes, on="doc_id", how="left", maintain_order="left"
    )
    return conform(
        rows.with_columns(
            line_hashes=pl.col("line_hashes").fill_null(pl.lit([], dtype=pl.List(pl.UInt64))),
            run_id=pl.lit(run_id),
        ),
        LINE_DOCS,
        name="line_docs",
    )


def merged_documents(counted: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Documents counted before plus the new ones; a doc_id already counted stays as it was."""
    merged = pl.concat([counted, new], how="vertical_relaxed")
    merged = merged.unique("doc_id", keep="first", maintain_order=True)
    return conform(merged.sort("domain", "doc_id"), LINE_DOCS, name="line_docs")


def domain_lines(documents: pl.DataFrame) -> pl.DataFrame:
    """The `line_stats` table: per (domain, line_hash) the distinct documents holding it."""
    distinct = documents.unique(["domain", "line_hashes"])
    totals = distinct.group_by("domain").agg(domain_docs=pl.len().cast(pl.Int64))
    counts = (
        distinct.select("domain", line_hash="line_hashes")
        .explode("line_hash")
        .drop_nulls("line_hash")
        .group_by("domain", "line_hash")
        .agg(doc_count=pl.len().cast(pl.Int64))
        .filter(pl.col("doc_count") >= 2)
    )
    stats = counts.join(totals, on="domain").sort("domain", "line_hash")
    return conform(stats, LINE_STATS, name="line_stats")


def forget_documents(lake: Lake, doc_ids: pl.Series, run_id: str) -> int:
    """Take `doc_ids` out of `line_docs/` and rederive `line_stats/` (a rolled-back
    batch's documents count as evidence no more); returns how many were counted."""
    counted = lake.scan("line_docs").collect()
    kept = counted.filter(~pl.col("doc_id").is_in(doc_ids.implode()))
    if kept.height == counted.height:
        return 0
    lake.write(kept, "line_docs", "documents", run_id)
    lake.write(domain_lines(kept), "line_stats", "domain_lines", run_id)
    return counted.height - kept.height


@dataclass(frozen=True)
class LineCounts:
    """What one line_stats run counted (the run's log line)."""

    documents: int  # of this run with a domain
    newly_counted: int
    counted: int  # documents counted in the lake, over
    domains: int
    repeated_lines: int

    def line(self) -> str:
        return (
            f"{self.documents} documents with a domain, {self.newly_counted} newly counted; "
            f"{self.counted} counted in {self.domains} domains, {self.repeated_lines} lines recur"
        )


@task(name="line_stats", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def line_stats(batch_ids: list[str], lake_dir: str, run_id: str) -> LineCounts:
    """Count the run's ingested batches into `line_docs/`, rederive `line_stats/`."""
    lake = Lake(lake_dir)
    folder = lake.stage_dir("ingested")
    new = [
        document_lines(
            pl.read_parquet(folder / f"{b}.parquet", columns=["doc_id", "url", "body"]), run_id
        )
        for b in batch_ids
    ]
    counted = lake.scan("line_docs").collect()
    documents = merged_documents(counted, pl.concat([pl.DataFrame(schema=LINE_DOCS), *new]))
    stats = domain_lines(documents)
    # The documents first: if the run stops in between, the next run rederives the stats.
    lake.write(documents, "line_docs", "documents", run_id)
    lake.write(stats, "line_stats", "domain_lines", run_id)
    return LineCounts(
        documents=sum(df.height for df in new),
        newly_counted=documents.height - counted.height,
        counted=documents.height,
        domains=documents["domain"].n_unique(),
        repeated_lines=stats.height,
    )
