"""dedupe's reads and writes of lake stages: cleaned rows by batch, the index and its
staleness, and the rewrite of deduped/ and duplicates/ (`write_outputs`, the one place
dedupe writes its outputs). The phases that use them are in tasks/dedupe_stage.py.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from newsflow.config import DedupeConfig
from newsflow.lake import DEDUPED_RUN_KEY, Lake, Scratch
from newsflow.progress import Progress
from newsflow.schema import DEDUPED, DUPLICATES, empty
from tasks.dedupe_index import index_reason, indexed_batches
from tasks.dedupe_rules import SHINGLES, settings_id
from tasks.fingerprints import shingle_sets

# Batch files whose output rows are written from one partition of parked rows.
OUTPUT_BATCHES = 16
SHINGLE_SETS = pl.Schema({"doc_id": pl.String(), "shingles": SHINGLES})


def cleaned_rows(lake: Lake, batch: str, ids: pl.Series, columns: list[str]) -> pl.DataFrame:
    """`columns` of the cleaned rows of `batch` whose doc_id is in `ids` (first copy of
    an id only)."""
    return (
        lake.scan_file("cleaned", batch)
        .filter(pl.col("doc_id").is_in(ids.implode()))
        .select(columns)
        .collect()
        .unique("doc_id", keep="first", maintain_order=True)
    )


def shingles_in_batch(
    lake: Lake, scratch: Scratch, batch: str, ids: pl.Series, config: DedupeConfig
) -> pl.DataFrame:
    """doc_id and shingles of the documents `ids` of cleaned batch `batch`: this run's
    new documents' as fingerprinting parked them, any other's shingled again from its
    cleaned body (documents indexed by an earlier run)."""
    found = scratch.read(SHINGLE_SETS, "shingles", batch)
    found = found.filter(pl.col("doc_id").is_in(ids.implode()))
    rest = ids.filter(~ids.is_in(found["doc_id"].implode()))
    if rest.is_empty():
        return found
    rows = cleaned_rows(lake, batch, rest, ["doc_id", "body"])
    shingled = rows.select("doc_id", shingles=shingle_sets(rows["body"], config.shingle_size))
    return pl.concat([found, shingled])


def dedupe_behind(lake: Lake) -> bool:
    """From the footers alone: the index or the outputs are missing or behind cleaned/
    (deleted, written before the index existed, or a run that stopped after clean), so
    dedupe must run even without new input. Dedupe itself then decides, with
    `rebuild_reason`, whether to continue from the index or rebuild it."""
    indexed, in_cleaned = lake.count("dedupe_index"), lake.count("cleaned")
    return in_cleaned > 0 and not (
        lake.files("deduped")
        and indexed == in_cleaned
        and indexed == lake.count("deduped") + lake.count("duplicates")
    )


def rebuild_reason(lake: Lake, config: DedupeConfig) -> str | None:
    """Why dedupe will rebuild the index rather than continue from it (None when it
    continues), from the index's batch list and the footers alone."""
    return index_reason(lake, indexed_batches(lake), settings_id(config))


def output_buckets(batches: set[str]) -> pl.DataFrame:
    """batch_id -> bucket: `OUTPUT_BATCHES` consecutive batches (in sorted order) each."""
    ordered = sorted(batches)
    return pl.DataFrame(
        {"batch_id": ordered, "bucket": [i // OUTPUT_BATCHES for i in range(len(ordered))]},
        schema={"batch_id": pl.String, "bucket": pl.Int64},
    )


def bucketed(rows: pl.DataFrame, buckets: pl.DataFrame) -> pl.DataFrame:
    """`rows` with the bucket of their batch; every output batch has one."""
    out = rows.join(buckets, on="batch_id", how="left", maintain_order="left")
    if out["bucket"].null_count():
        raise RuntimeError("dedupe: an output row belongs to a batch outside the plan")
    return out


def write_outputs(
    lake: Lake,
    members: pl.DataFrame,
    buckets: pl.DataFrame,
    parked: Callable[[str, int], pl.DataFrame],
    run_id: str,
    rebuild: bool,
    progress: Progress,
) -> list[str]:
    """Replace the rows of every changed cluster in deduped/ and duplicates/ with the
    rows `parked(stage, bucket)` returns, one batch file at a time, in batch order.

    A cluster's rows live in the batch file of its kept copy, which is one of its
    members, so only the members' batch files change. On a rebuild every file does
    (`buckets` holds every batch to write). Returns the batches whose files were
    rewritten or removed.
    """
    # An anti join, not `is_in`: is_in hashes every member id again on each call (0.5 s
    # per batch file at 1M members, even for an empty file: ~20 min over a 1M run).
    member_ids = members.select("doc_id")
    touched = buckets["batch_id"].to_list()
    for stage, schema in (("deduped", DEDUPED), ("duplicates", DUPLICATES)):
        written = []
        groups = buckets.group_by("bucket", maintain_order=True)
        total = buckets["bucket"].n_unique()
        for (bucket,), group in progress.each(groups, total, f"{stage}/ groups written"):
            rows = parked(stage, int(bucket))
            for batch in group["batch_id"]:
                if not rebuild and lake.exists(stage, batch):
                    before = lake.read(stage, batch).join(member_ids, on="doc_id", how="anti")
                else:
                    before = empty(schema)
                part = pl.concat(
                    [
                        before,
                        rows.filter(pl.col("batch_id") == batch).select(schema.names()),
                    ],
                    how="vertical_relaxed",
                ).sort("doc_id")
                if not part.is_empty():
                    written += lake.write(part, stage, batch, run_id)
        lake.remove_except(stage, written, names=set(touched))
    return touched


def unenriched_batches(lake: Lake) -> set[str]:
    """Batches whose enriched/ files were not all made from their current deduped/ file
    (each enriched footer names the deduped run it came from), or whose row counts
    differ: missing, partial, stale, or left over without a deduped/ file.

    Without this a run that died between dedupe and enrich would leave those documents
    unenriched for ever: the index already counts them as done.
    """
    # An empty deduped/ file has nothing to enrich, so no enriched/ file either.
    deduped = {b: w for b, w in lake.written("deduped").items() if w.rows}
    enriched = lake.written("enriched", key=DEDUPED_RUN_KEY)
    return {b for b in deduped.keys() | enriched.keys() if deduped.get(b) != enriched.get(b)}
