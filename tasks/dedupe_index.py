"""The dedupe index, partitioned: every table is split by a hash of the column a phase
looks it up by, so a task reads only the partitions its documents hash to and holds at
most one partition of the index.

* `dedupe_index`: every document's index row (DEDUPE_INDEX), by a hash of doc_id;
* `dedupe_bands`: the band rows of each shape's representative, by band key;
* `dedupe_keys`: every document's exact and sentence keys, by key;
* `dedupe_clusters`: kept_doc_id -> doc_id (cluster members), by a hash of kept_doc_id;
* `dedupe_batches`: the cleaned batches the index holds, with the settings and the
  partition count (one small file).

Partition `p` of a table is the file `<table>/<p:05d>.parquet` (absent when empty).
Band and document keys are hashes already (partition = key mod count); ids go through
`stable_hash` (BLAKE2b, the same on every machine and version).

The partition count is chosen when the index is built: one partition per
`INDEX_DOCS` cleaned documents (2 at 10k, 20 at 100k, 200 at 1M, 20,000 at 100M), and
kept until the index is rebuilt. The band partition bounds the candidates task: at
10k documents in one partition it rose 173 MiB (benchmarks/dedupe_phases.py,
decision 0012), so ~90 MiB at 5,000; a document partition is ~4 MB.

The batch list is written last: a run killed while it wrote the partitions left rows
of batches the list does not hold, which the next run takes in again (each partition
replaces a document's rows by doc_id), as it does their documents.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from newsflow.lake import Lake
from newsflow.schema import DEDUPE_BATCHES, STAGE_SCHEMAS
from newsflow.text_rules import stable_hash
from tasks.fingerprints import KEY_BYTE_ORDER

INDEX_DOCS = 5_000
DOCS, BANDS, KEYS, CLUSTERS, BATCHES = (
    "dedupe_index",
    "dedupe_bands",
    "dedupe_keys",
    "dedupe_clusters",
    "dedupe_batches",
)
PARTITIONED = (DOCS, BANDS, KEYS, CLUSTERS)
BATCHES_NAME = "indexed"
# The file the index was before partitions: a lake holding it is rebuilt.
SINGLE_FILE = "documents"
SINGLE_FILE_REASON = (
    "the index is one file (dedupe_index/documents.parquet, before partitions): "
    "rebuilding it partitioned"
)


class IndexIO:
    """Index partition files read and written, per table (for tests of what a run
    touches)."""

    counts: Counter[tuple[str, str]] = Counter()
    parts: set[tuple[str, str, int]] = set()  # (read|write, table, partition)

    @classmethod
    def clear(cls) -> None:
        cls.counts.clear()
        cls.parts.clear()

    @classmethod
    def add(cls, op: str, table: str, part: int) -> None:
        cls.counts[op, table] += 1
        cls.parts.add((op, table, part))


def partition_count(cleaned_rows: int) -> int:
    """Partitions of a new index over `cleaned_rows` documents."""
    return max(1, -(-cleaned_rows // INDEX_DOCS))


def name_of(part: int) -> str:
    return f"{part:05d}"


def id_partition(ids: pl.Expr, parts: int) -> pl.Expr:
    """The partition of a doc_id (or kept_doc_id)."""
    return (stable_hash(ids, KEY_BYTE_ORDER) % parts).cast(pl.Int64)


def key_partition(keys: pl.Expr, parts: int) -> pl.Expr:
    """The partition of a band, exact or sentence key (already a hash)."""
    return (keys % parts).cast(pl.Int64)


def read_part(lake: Lake, table: str, part: int, columns: list[str] | None = None) -> pl.DataFrame:
    IndexIO.add("read", table, part)
    return lake.read(table, name_of(part), columns)


def write_part(lake: Lake, rows: pl.DataFrame, table: str, part: int, run_id: str) -> None:
    IndexIO.add("write", table, part)
    lake.write(rows.select(STAGE_SCHEMAS[table].names()), table, name_of(part), run_id)


def indexed_batches(lake: Lake) -> pl.DataFrame:
    """The batch list (empty when there is no index)."""
    return lake.read(BATCHES, BATCHES_NAME)


def index_reason(lake: Lake, batches: pl.DataFrame, settings: str) -> str | None:
    """Why the index cannot be continued from (None when it can), from the batch list
    and the footers of cleaned/, deduped/ and duplicates/ alone."""
    outputs = lake.count("deduped") + lake.count("duplicates")
    if SINGLE_FILE in {p.stem for p in lake.files(DOCS)}:
        return SINGLE_FILE_REASON
    if batches.is_empty() or not lake.files(DOCS):
        return "outputs without an index" if outputs else None
    if (batches["settings"] != settings).any():
        return "dedupe settings changed"
    cleaned = {name: written.rows for name, written in lake.written("cleaned").items()}
    # A batch file that lost rows (or is gone); one that gained rows is read again.
    if any(cleaned.get(b, -1) < rows for b, rows in batches.select("batch_id", "rows").iter_rows()):
        return "indexed documents are no longer in cleaned/"
    indexed = int(batches["docs"].sum())
    if indexed != outputs:
        return f"index has {indexed} documents, deduped + duplicates {outputs}"
    return None


def batch_list(
    before: pl.DataFrame, new: pl.DataFrame, rows: dict[str, int], settings: str, parts: int
) -> pl.DataFrame:
    """The batch list after a run: every cleaned batch (`rows`: batch_id -> rows), with
    the documents the index took in from it before (`before`) and now (`new`: doc_id,
    batch_id)."""
    now = pl.DataFrame(
        {"batch_id": list(rows), "rows": list(rows.values())},
        schema={"batch_id": pl.String, "rows": pl.Int64},
    )
    added = new.group_by("batch_id").agg(added=pl.len().cast(pl.Int64))
    return (
        now.join(before.select("batch_id", "docs"), on="batch_id", how="left")
        .join(added, on="batch_id", how="left")
        .select(
            "batch_id",
            "rows",
            docs=pl.col("docs").fill_null(0) + pl.col("added").fill_null(0),
            settings=pl.lit(settings),
            partitions=pl.lit(parts, pl.Int64),
        )
        .sort("batch_id")
    )


def write_batch_list(lake: Lake, batches: pl.DataFrame, run_id: str) -> None:
    lake.write(batches.select(DEDUPE_BATCHES.names()), BATCHES, BATCHES_NAME, run_id)


def remove_unwritten(lake: Lake, keep: dict[str, set[str]]) -> None:
    """On a rebuild: remove every partition file (and the single-file index) that this
    run did not write."""
    for table in PARTITIONED:
        names = {name_of(int(p)) for p in keep.get(table, set())}
        lake.remove_except(table, [p for p in lake.files(table) if p.stem in names])
