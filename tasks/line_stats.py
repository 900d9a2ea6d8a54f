"""line_stats: how often each paragraph recurs across the documents of a domain.

The boilerplate rule `domain_repeat_v1` removes a paragraph that sits under many of a
site's articles (a footer, an "Advertisement" label, a newsletter box). That needs
counts over every document ingested so far, not one batch, so the counts are brought
up to date after the run's ingest and before any clean task reads them.

Two lake tables (schemas in `newsflow/schema.py`), each split into partitions by a hash
of the domain, `<table>/<part>-of-<parts>.parquet`:

* `line_docs`: one row per counted document, keyed by `doc_id`, with the hashes of its
  distinct paragraphs. A document ingested again (a rerun after a crash, before the
  file manifest was written) is not counted twice, and the counts are rebuilt from
  stored hashes without re-reading any text.
* `line_stats`: derived from the `line_docs` partition of the same name; per domain and
  paragraph hash, the documents that hold it and the domain's total. A line held by
  one document only is left out: it can never be a repeat.

Every count is per domain and a doc_id names one record of one file (one URL), so a
partition's counts need no other partition. `update_line_stats` runs four task kinds:
a plan (the partition count, kept from the first build: one partition per
`LINE_DOCS_PER_PART` documents); `line-hashes`, per group of ingested batches, routing
each document's hashes to its partition in the run's scratch area; `line-counts`, per
partition the run's documents reach, merging them into that partition and rederiving
its stats; and a finish (totals, scratch cleared). A task holds one partition: memory
follows the largest partition (at least one domain's documents), not the corpus.

Paragraphs are normalised exactly as clean normalises them, so the hashes clean
computes meet these. Documents with identical paragraphs (the same article twice)
count once: a copy is no evidence of furniture. `--full-refresh` clears both tables
with the other outputs, and the run that follows rebuilds them. A lake whose tables
are single files (`line_docs/documents.parquet`, before partitions) is split into
partitions by the next run, with one log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from newsflow.lake import Lake, Scratch
from newsflow.progress import run_logger
from newsflow.schema import LINE_DOCS, LINE_STATS, conform
from newsflow.text_rules import stable_hash
from tasks.boilerplate import LINE_HASH_BYTE_ORDER, line_hash, publisher_columns
from tasks.clean import PARAGRAPH_BREAK, normalised_text

# One partition per this many documents counted when the tables are first built (~1.2
# KB each while a partition's stats are derived), kept until a full refresh.
LINE_DOCS_PER_PART = 20_000
# Ingested batches per `line-hashes` task: few task runs, each reading ~4,000 documents.
BATCHES_PER_TASK = 8
# The tables' files before partitions: a lake holding them is split by the next run.
SINGLE_DOCS, SINGLE_STATS = "documents", "domain_lines"
PART_NAME = re.compile(r"(\d{5})-of-(\d{5})")
HASHES = "hashes"  # the scratch folder the hashing tasks route to, one folder per partition


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


def part_name(part: int, parts: int) -> str:
    return f"{part:05d}-of-{parts:05d}"


def domain_partition(domains: pl.Expr, parts: int) -> pl.Expr:
    """The partition of each domain (BLAKE2b: the same on every machine and version)."""
    return (stable_hash(domains, LINE_HASH_BYTE_ORDER) % parts).cast(pl.Int64)


def stats_name(docs_name: str) -> str:
    """The `line_stats` file derived from a `line_docs` file."""
    return SINGLE_STATS if docs_name == SINGLE_DOCS else docs_name


def forget_documents(lake: Lake, doc_ids: pl.Series, run_id: str) -> int:
    """Take `doc_ids` out of `line_docs/` and rederive the `line_stats/` partitions that
    held them (a rolled-back batch's documents count as evidence no more); returns how
    many were counted."""
    forgotten = 0
    for path in lake.files("line_docs"):
        counted = lake.read("line_docs", path.stem)
        kept = counted.filter(~pl.col("doc_id").is_in(doc_ids.implode()))
        if kept.height == counted.height:
            continue
        lake.write(kept, "line_docs", path.stem, run_id)
        lake.write(domain_lines(kept), "line_stats", stats_name(path.stem), run_id)
        forgotten += counted.height - kept.height
    return forgotten


class LineStatsError(RuntimeError):
    """The line tables cannot be continued from (one line for the operator)."""


@dataclass(frozen=True)
class LinePlan:
    """How this run updates the line tables: the partition count, whether the
    single-file tables are split into partitions, and the batches of each `line-hashes`
    task (group name -> batch ids)."""

    parts: int
    split_single: bool
    groups: Mapping[str, list[str]]

    @property
    def batch_id(self) -> str:
        return "plan"

    def line(self) -> str:
        split = ", splitting the single-file tables" if self.split_single else ""
        return f"{self.parts} partitions, {len(self.groups)} hashing tasks{split}"


@dataclass(frozen=True)
class HashedLines:
    """One `line-hashes` task: the documents with a domain in its batches, and the
    partitions they went to."""

    batch_id: str  # the group's name
    documents: int
    parts: list[int]

    def line(self) -> str:
        return f"group {self.batch_id}: {self.documents} documents -> {len(self.parts)} partitions"


@dataclass(frozen=True)
class CountedLines:
    """One `line-counts` task: its partition after the run's documents joined it."""

    batch_id: str  # the partition's file name
    newly_counted: int
    counted: int
    repeated_lines: int

    def line(self) -> str:
        return (
            f"partition {self.batch_id}: {self.newly_counted} newly counted, {self.counted} "
            f"counted, {self.repeated_lines} lines recur"
        )


@dataclass(frozen=True)
class LineCounts:
    """What one run's line-statistics update counted (the run's log line)."""

    documents: int  # of this run with a domain
    newly_counted: int
    counted: int  # documents counted in the lake, over
    domains: int
    repeated_lines: int

    @property
    def batch_id(self) -> str:
        return "totals"

    def line(self) -> str:
        return (
            f"{self.documents} documents with a domain, {self.newly_counted} newly counted; "
            f"{self.counted} counted in {self.domains} domains, {self.repeated_lines} lines recur"
        )


def scratch_of(lake: Lake, run_id: str) -> Scratch:
    return lake.scratch(f"line_stats/{run_id}")


def partition_count(lake: Lake, names: set[str], batch_ids: list[str]) -> int:
    """The partition count of the partitioned tables (`names`: the files of `line_docs/`),
    or of new ones: one per `LINE_DOCS_PER_PART` documents counted before plus those of
    `batch_ids`."""
    found = {int(m[2]) for name in names if (m := PART_NAME.fullmatch(name))}
    if len(found) > 1:
        raise LineStatsError(
            f"line_docs/ mixes partition counts {sorted(found)}: run with --full-refresh"
        )
    if found:
        return found.pop()
    ingested = {name: written.rows for name, written in lake.written("ingested").items()}
    documents = lake.count("line_docs") + sum(ingested.get(b, 0) for b in batch_ids)
    return max(1, -(-documents // LINE_DOCS_PER_PART))


@task(
    name="line-plan",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="line-plan",
)
def plan_lines(lake_dir: str, run_id: str, batch_ids: list[str]) -> LinePlan:
    """The partition count and the hashing tasks' batches; clears what a killed run left
    in the scratch area."""
    lake = Lake(lake_dir)
    lake.scratch("line_stats").clear()
    names = {p.stem for p in lake.files("line_docs")}
    batch_ids = sorted(batch_ids)  # the same groups whatever order ingest finished in
    groups = {
        f"{i // BATCHES_PER_TASK:05d}": batch_ids[i : i + BATCHES_PER_TASK]
        for i in range(0, len(batch_ids), BATCHES_PER_TASK)
    }
    return LinePlan(partition_count(lake, names, batch_ids), SINGLE_DOCS in names, groups)


@task(
    name="line-hashes",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="line-hashes-{group}",
)
def hash_lines(
    lake_dir: str, run_id: str, group: str, batch_ids: list[str], parts: int
) -> HashedLines:
    """The `line_docs` rows of the ingested batches, each routed to its partition's
    folder in the scratch area (`hashes/<part>/<group>.parquet`)."""
    lake = Lake(lake_dir)
    new = [
        document_lines(lake.read("ingested", b, columns=["doc_id", "url", "body"]), run_id)
        for b in batch_ids
    ]
    rows = pl.concat([pl.DataFrame(schema=LINE_DOCS), *new])
    by = domain_partition(pl.col("domain"), parts)
    return HashedLines(group, rows.height, scratch_of(lake, run_id).routed(rows, by, HASHES, group))


@task(
    name="line-counts",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="line-counts-{part}",
)
def count_partition(
    lake_dir: str, run_id: str, part: int, parts: int, split_single: bool
) -> CountedLines:
    """Merge the run's documents of one partition into `line_docs` and rederive its
    `line_stats` (with `split_single`, the partition's rows of the single-file table
    join it first)."""
    lake = Lake(lake_dir)
    name = part_name(part, parts)
    counted = lake.read("line_docs", name)
    if split_single:
        counted = merged_documents(counted, single_file_rows(lake, part, parts))
    new = scratch_of(lake, run_id).read(LINE_DOCS, HASHES, str(part))
    documents = merged_documents(counted, new)
    stats = domain_lines(documents)
    # The documents first: if the run stops in between, the next run rederives the stats.
    if documents.height:
        lake.write(documents, "line_docs", name, run_id)
        lake.write(stats, "line_stats", name, run_id)
    return CountedLines(name, documents.height - counted.height, documents.height, stats.height)


def single_file_rows(lake: Lake, part: int, parts: int) -> pl.DataFrame:
    """The rows of the single-file `line_docs` table whose domain is in `part`."""
    single = lake.scan_file("line_docs", SINGLE_DOCS)
    domains = single.select(pl.col("domain").unique()).collect()
    mine = domains.filter(domain_partition(pl.col("domain"), parts) == part)["domain"]
    return single.filter(pl.col("domain").is_in(mine.implode())).collect()


@task(
    name="line-finish",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="line-finish",
)
def finish_lines(
    lake_dir: str, run_id: str, parts: int, split_single: bool, documents: int, newly: int
) -> LineCounts:
    """Remove the single-file tables once split, clear the scratch area; the totals."""
    lake = Lake(lake_dir)
    if split_single:
        for table, name in (("line_docs", SINGLE_DOCS), ("line_stats", SINGLE_STATS)):
            lake.remove(lake.file_path(table, name))
        run_logger().info("line_stats: split the single-file tables into %d partitions", parts)
    scratch_of(lake, run_id).clear()
    totals = lake.scan("line_docs").select(pl.len(), pl.col("domain").n_unique()).collect()
    return LineCounts(
        documents=documents,
        newly_counted=newly,
        counted=int(totals[0, 0]),
        domains=int(totals[0, 1]),
        repeated_lines=lake.count("line_stats"),
    )


# Runs a task once per call (name -> arguments) and returns the results: the flow's
# task runner (flows/stages.py), or `in_process`.
Runner = Callable[[Task[..., Any], str, Mapping[str, tuple[Any, ...]]], list[Any]]


def in_process(
    task: Task[..., Any], _stage: str, calls: Mapping[str, tuple[Any, ...]]
) -> list[Any]:
    return [task.fn(*args) for args in calls.values()]


def update_line_stats(
    lake_dir: str, run_id: str, batch_ids: list[str], run: Runner = in_process
) -> LineCounts:
    """Count the ingested `batch_ids` into `line_docs/` and rederive the `line_stats/`
    partitions they reach (every partition when the single-file tables are split)."""
    (plan,) = run(plan_lines, "line-plan", {"plan": (lake_dir, run_id, batch_ids)})
    hashed: list[HashedLines] = run(
        hash_lines,
        "line-hashes",
        {g: (lake_dir, run_id, g, ids, plan.parts) for g, ids in plan.groups.items()},
    )
    parts, split = plan.parts, plan.split_single
    reached = range(parts) if split else {p for h in hashed for p in h.parts}
    counted: list[CountedLines] = run(
        count_partition,
        "line-counts",
        {part_name(p, parts): (lake_dir, run_id, p, parts, split) for p in sorted(reached)},
    )
    documents = sum(h.documents for h in hashed)
    newly = sum(c.newly_counted for c in counted)
    finish = (lake_dir, run_id, parts, split, documents, newly)
    totals: list[LineCounts] = run(finish_lines, "line-finish", {"totals": finish})
    return totals[0]
