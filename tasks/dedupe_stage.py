"""dedupe, the stage: cleaned/ -> deduped/ (one record per article) and duplicates/ (a
trace of every copy merged), with a persistent index (`dedupe_index/`) so that every run
matches its new documents against everything before.

`run_dedupe` below runs the phases in order. Each phase is a thin Prefect task over the
pure rules of tasks/dedupe_rules.py, submitted once per partition through the flow's
task runner, so threads or Dask workers share the work:

1. plan: which cleaned documents are new, and whether the index must be rebuilt;
2. fingerprints, per cleaned batch with new documents: keys, shingle sets, band keys;
3. band partitions: the band keys of the new representatives and of the index's
   representatives they meet, split by key value into partitions (`BAND_DOCS`);
4. candidates, per band partition: pairs sharing a key, worth verifying;
5. routes: which shingle sets each verify partition needs, per batch;
6. shingle routes, per batch: each needed shingle set sent to its verify partition;
7. verify, per pair partition: MinHash estimate, then the real similarity;
8. components: clusters over every link; which clusters changed; the merge plan;
9. row routes, per batch: each member's cleaned row sent to its merge partition;
10. merge, per cluster partition: the best copy of each cluster, and its duplicates;
11. finish: rewrite the changed deduped/ and duplicates/ files, then the index.

Rows move between phases as Parquet files in the run's scratch area of the lake
(`Lake.scratch`), never through one process's memory, so remote workers share them.
Every rule works per document, per pair or per cluster, so partitions change no output.

Memory. A fingerprint, route, candidates, verify or merge task holds one partition: one
cleaned batch, the band rows of one key range, the pairs and shingle sets of one pair
partition, the rows of about `MERGE_CHUNK` cluster members. Five single tasks hold
per-document metadata of the whole corpus, as the one dedupe task did, but no bodies and
no shingle sets:
* plan: doc_id and batch_id of cleaned/, and the index;
* band partitions: keys and band keys of the index and the new documents (~0.2 KB each);
* routes: the ids of every candidate pair;
* components: the index, the new fingerprints and the verified edges, the edge list
  connected components need (~0.7 KB a document plus 2 ids an edge);
* finish: the index with each document's cluster, which it writes back.

A nightly run with few new documents fingerprints only their batches, partitions only
their band keys and the index's rows that share one, verifies only their pairs, and
reads and rewrites only the batch files of the clusters they join. It still reads the
index's metadata whole (plan, band partitions, components, finish).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from newsflow.config import DedupeConfig
from newsflow.faults import checkpoint
from newsflow.lake import Lake, Scratch
from newsflow.progress import Progress, run_logger
from newsflow.schema import CLEANED, DEDUPE_INDEX, DEDUPED, DUPLICATES, empty
from tasks.dedupe_lake import (
    INDEX_NAME,
    SHINGLE_SETS,
    bucketed,
    cleaned_rows,
    output_buckets,
    rebuild_reason,
    shingles_in_batch,
    stored_index,
    unenriched_batches,
    write_outputs,
)
from tasks.dedupe_rules import (
    PAIR_COLUMNS,
    SHINGLES,
    band_partition,
    copies_of,
    indexed,
    keyed_rows,
    linked,
    merge_plan,
    near_links,
    pair_partition,
    partition_candidates,
    searched,
    updated_index,
    verified_partition,
)
from tasks.merge import merge_clusters

# Band keys are split by value into partitions, one candidates task each: one per
# `BAND_DOCS` new representatives (their keys and the index's keys they meet), at most
# `BAND_PARTITIONS`, so a small run is a few tasks and a large one spreads.
BAND_DOCS = 1_000
BAND_PARTITIONS = 64
# New documents per verify partition: their pairs (a few each) and the shingle sets of
# both ends (~3 KB each) are what a verify task holds.
VERIFY_DOCS = 5_000

IDS = pl.Schema({"doc_id": pl.String()})
FINGERPRINTS = pl.Schema([(c, t) for c, t in DEDUPE_INDEX.items() if c != "near_doc_ids"])
BAND_ROWS = pl.Schema([*((c, DEDUPE_INDEX[c]) for c in PAIR_COLUMNS), ("key", pl.UInt64())])
PAIRS = pl.Schema(
    {
        "doc_id": pl.String(),
        "other_doc_id": pl.String(),
        "batch_id": pl.String(),
        "other_batch_id": pl.String(),
        "published_date": pl.Date(),
        "other_published_date": pl.Date(),
    }
)
EDGES = pl.Schema({"doc_id": pl.String(), "other_doc_id": pl.String()})
NEEDS = pl.Schema({"doc_id": pl.String(), "part": pl.Int64()})
DOCS = pl.Schema([*DEDUPE_INDEX.items(), ("cluster", pl.String())])
PLANNED = pl.Schema(
    {
        "doc_id": pl.String(),
        "batch_id": pl.String(),
        "cluster": pl.String(),
        "exact_key": pl.UInt64(),
        "sentence_key": pl.UInt64(),
        "title_key": pl.UInt64(),
        "short_body": pl.Boolean(),
        "chunk": pl.Int64(),
        "size": pl.UInt32(),
    }
)
MEMBER_ROWS = pl.Schema(
    [
        *CLEANED.items(),
        *((c, PLANNED[c]) for c in ("exact_key", "sentence_key", "title_key", "short_body")),
        ("cluster", pl.String()),
        ("chunk", pl.Int64()),
        ("shingles", SHINGLES),
    ]
)
BUCKETS = pl.Schema({"batch_id": pl.String(), "bucket": pl.Int64()})
KEPT = pl.Schema({"cluster": pl.String(), "new_kept": pl.String()})
PARKED = {
    "deduped": pl.Schema([*DEDUPED.items(), ("bucket", pl.Int64())]),
    "duplicates": pl.Schema([*DUPLICATES.items(), ("bucket", pl.Int64())]),
}


@dataclass(frozen=True)
class DedupePlan:
    cleaned: int  # cleaned documents (one per doc_id)
    indexed: int  # of them in the index (0 on a rebuild)
    new: int
    new_batches: list[str]  # cleaned batches holding new documents
    rebuilt: str | None  # why the index is rebuilt from cleaned/, if it is
    verify_parts: int


@dataclass(frozen=True)
class MergePlan:
    batches: list[str]  # cleaned batches holding a member of a changed cluster
    chunks: list[int]  # merge partitions
    members: int
    clusters: int


def run_dedupe(
    lake_dir: str,
    run_id: str,
    config: DedupeConfig | None = None,
    submit: bool = True,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """Index the lake's new cleaned rows and rewrite the clusters they join.

    With `submit`, each phase's tasks go to the current flow's task runner; without,
    they run here one after another (`.fn`: tests and benchmarks without Prefect).
    Returns counts over the whole lake, the batches whose deduped/ files changed
    (`batches`: rewritten, to enrich again; `touched`: rewritten or removed) and the
    seconds of each phase.
    """
    config = config or DedupeConfig()
    seconds: dict[str, float] = {}

    def each(phase: Task[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        started = time.perf_counter()
        if submit:
            options = {"timeout_seconds": timeout_seconds} if timeout_seconds else {}
            phase = phase.with_options(**options)  # type: ignore[arg-type]
            futures = [phase.submit(*call) for call in calls]
            results = [future.result() for future in futures]
        else:
            results = [phase.fn(*call) for call in calls]
        name = phase.name.removeprefix("dedupe-")
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
        return results

    args = (lake_dir, run_id)
    (plan,) = each(plan_dedupe, [(*args, config)])
    clusters = 0
    if plan.new:
        rebuild = plan.rebuilt is not None
        each(fingerprint_batch, [(*args, batch, config) for batch in plan.new_batches])
        (bands,) = each(split_bands, [(*args, rebuild, config)])
        each(find_candidates, [(*args, part, plan.verify_parts, config) for part in bands])
        ((routed, parts),) = each(route_pairs, [args])
        each(route_shingles, [(*args, batch, config) for batch in routed])
        each(verify_pairs, [(*args, part, config) for part in parts])
        (merge,) = each(connect_components, [(*args, rebuild, config)])
        each(route_rows, [(*args, batch, config) for batch in merge.batches])
        clusters = sum(each(merge_partition, [(*args, chunk, config) for chunk in merge.chunks]))
    (result,) = each(finish, [(*args, plan)])
    run_logger().info(
        "dedupe phases (s): %s", ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
    )
    return {**result, "clusters_rewritten": clusters, "phase_seconds": seconds}


def scratch_of(lake: Lake, run_id: str) -> Scratch:
    return lake.scratch(f"dedupe/{run_id}")


def load_index(lake: Lake, rebuild: bool, columns: list[str] | None = None) -> pl.DataFrame:
    """The stored index (empty on a rebuild), or just `columns` of it."""
    if columns is None:
        return empty(DEDUPE_INDEX) if rebuild else stored_index(lake)[0]
    index = empty(DEDUPE_INDEX) if rebuild else lake.scan("dedupe_index")
    return index.lazy().select(columns).collect()


def phase(name: str) -> Any:
    """A phase's task. Any phase may run again (a retry, a lost worker): each rewrites
    its own files whole."""
    return task(name=f"dedupe-{name}", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)


@phase("plan")
def plan_dedupe(lake_dir: str, run_id: str, config: DedupeConfig) -> DedupePlan:
    """The new cleaned documents (doc_ids per batch into the scratch area), and why the
    index is rebuilt, if it is."""
    lake = Lake(lake_dir)
    lake.scratch("dedupe").clear()  # what a killed run left
    scratch = scratch_of(lake, run_id)
    # One batch per doc_id: a file re-ingested into another batch after a crash (before
    # the file manifest was written) is one document, not two.
    cleaned = (
        lake.scan("cleaned")
        .select("doc_id", "batch_id")
        .collect()
        .unique("doc_id", keep="first", maintain_order=True)
    )
    index, stale = stored_index(lake)
    reason = stale or rebuild_reason(lake, index, cleaned, config)
    if reason:
        run_logger().info("dedupe: rebuilding the index from cleaned/: %s", reason)
        index = empty(DEDUPE_INDEX)
    new = cleaned.join(index.select("doc_id"), on="doc_id", how="anti")
    batches = []
    for (batch,), part in new.group_by("batch_id", maintain_order=True):
        scratch.write(part.select("doc_id"), "new", str(batch))
        batches.append(str(batch))
    run_logger().info(
        "dedupe: %d cleaned documents, %d indexed, %d new", cleaned.height, index.height, new.height
    )
    return DedupePlan(
        cleaned=cleaned.height,
        indexed=index.height,
        new=new.height,
        new_batches=batches,
        rebuilt=reason,
        verify_parts=1 + new.height // VERIFY_DOCS,
    )


@phase("fingerprints")
def fingerprint_batch(lake_dir: str, run_id: str, batch: str, config: DedupeConfig) -> int:
    """Index columns and shingle sets of one batch's new documents."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    ids = scratch.read(IDS, "new", batch)["doc_id"]
    columns = ["doc_id", "batch_id", "title", "body", "published_date"]
    fp = indexed(cleaned_rows(lake, batch, ids, columns), run_id, config)
    scratch.write(fp.select("doc_id", "shingles"), "shingles", batch)
    scratch.write(fp.select(FINGERPRINTS.names()), "fingerprints", batch)
    return fp.height


@phase("bands")
def split_bands(lake_dir: str, run_id: str, rebuild: bool, config: DedupeConfig) -> list[int]:
    """Band rows of the new representatives and of the index's representatives that
    share a key with one, per band partition; returns the partitions written."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    # Not the signatures nor the links: ~0.2 KB a document instead of ~0.7.
    columns = [*PAIR_COLUMNS, "band_keys", "shingle_count"]
    new = scratch.read(FINGERPRINTS, "fingerprints").select(columns)
    old, query = searched(new, load_index(lake, rebuild, columns), config)
    parts = min(BAND_PARTITIONS, 1 + query.height // BAND_DOCS)
    written = []
    for part in range(parts):
        mine = band_partition(query, part, parts)
        if mine.is_empty():
            continue
        met = band_partition(old, part, parts)
        met = met.join(mine.select("key").unique(), on="key", how="semi")
        scratch.write(mine, "bands", str(part), "query")
        scratch.write(met, "bands", str(part), "old")
        written.append(part)
    return written


@phase("candidates")
def find_candidates(
    lake_dir: str, run_id: str, part: int, verify_parts: int, config: DedupeConfig
) -> int:
    """Candidate pairs of one band partition, sent to their verify partitions."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    query = scratch.read(BAND_ROWS, "bands", str(part), "query")
    old = scratch.read(BAND_ROWS, "bands", str(part), "old")
    pairs = partition_candidates(query, old, config)
    pairs = pairs.with_columns(part=pair_partition(pairs, verify_parts))
    for (target,), rows in pairs.partition_by("part", as_dict=True).items():
        scratch.write(rows.drop("part"), "pairs", str(target), f"{part:04d}")
    return pairs.height


@phase("routes")
def route_pairs(lake_dir: str, run_id: str) -> tuple[list[str], list[int]]:
    """Per cleaned batch, which of its documents' shingle sets each verify partition
    needs; returns those batches and the verify partitions."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    needs = []
    for part in scratch.folders("pairs"):
        pairs = scratch.read(PAIRS, "pairs", part)
        ends = [
            pairs.select("doc_id", "batch_id"),
            pairs.select(doc_id="other_doc_id", batch_id="other_batch_id"),
        ]
        needs.append(pl.concat(ends).unique().with_columns(part=pl.lit(int(part), pl.Int64)))
    if not needs:
        return [], []
    batches = []
    for (batch,), rows in pl.concat(needs).partition_by("batch_id", as_dict=True).items():
        scratch.write(rows.select("doc_id", "part"), "verify_needs", str(batch))
        batches.append(str(batch))
    return sorted(batches), sorted(int(part) for part in scratch.folders("pairs"))


@phase("shingle-routes")
def route_shingles(lake_dir: str, run_id: str, batch: str, config: DedupeConfig) -> int:
    """The shingle sets of one batch's documents, each to the verify partitions that
    need it."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    needs = scratch.read(NEEDS, "verify_needs", batch)
    shingles = shingles_in_batch(lake, scratch, batch, needs["doc_id"].unique(), config)
    routed = needs.join(shingles, on="doc_id")
    for (part,), rows in routed.partition_by("part", as_dict=True).items():
        scratch.write(rows.drop("part"), "verify_in", str(part), batch)
    return routed.height


@phase("verify")
def verify_pairs(lake_dir: str, run_id: str, part: int, config: DedupeConfig) -> int:
    """The near duplicates among one partition's candidate pairs."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    pairs = scratch.read(PAIRS, "pairs", str(part)).unique(["doc_id", "other_doc_id"])
    shingles = scratch.read(SHINGLE_SETS, "verify_in", str(part))
    verified = verified_partition(
        pairs.select("doc_id", "other_doc_id", "published_date", "other_published_date"),
        shingles,
        config,
    )
    scratch.write(verified, "verified", str(part))
    return verified.height


@phase("components")
def connect_components(
    lake_dir: str, run_id: str, rebuild: bool, config: DedupeConfig
) -> MergePlan:
    """Clusters over every link; the members of the clusters that gained a document,
    planned into merge partitions of whole clusters and routed by batch."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    near = near_links(scratch.read(EDGES, "verified"))
    fp = scratch.read(FINGERPRINTS, "fingerprints")
    links = linked(fp, load_index(lake, rebuild), near, config)
    del fp
    batches = set(links.members["batch_id"])
    if rebuild:
        batches |= {p.stem for stage in ("deduped", "duplicates") for p in lake.files(stage)}
    scratch.write(output_buckets(batches), "buckets")
    scratch.write(links.docs, "docs")
    scratch.write(links.members.select("doc_id"), "members")
    planned = merge_plan(links.members)
    routed = []
    for (batch,), rows in planned.partition_by("batch_id", as_dict=True).items():
        scratch.write(rows, "merge_needs", str(batch))
        routed.append(str(batch))
    run_logger().info(
        "dedupe: %d clusters changed, %d documents in them",
        links.members["cluster"].n_unique(),
        links.members.height,
    )
    return MergePlan(
        batches=sorted(routed),
        chunks=sorted(planned["chunk"].unique().to_list()),
        members=links.members.height,
        clusters=links.members["cluster"].n_unique(),
    )


@phase("row-routes")
def route_rows(lake_dir: str, run_id: str, batch: str, config: DedupeConfig) -> int:
    """Cleaned rows of one batch's members (with keys, cluster and, for a cluster with
    copies, the shingle set), each to its merge partition."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    part = scratch.read(PLANNED, "merge_needs", batch)
    rows = cleaned_rows(lake, batch, part["doc_id"], CLEANED.names())
    shingles = shingles_in_batch(lake, scratch, batch, copies_of(part), config)
    keyed = keyed_rows(rows, part, shingles)
    for (chunk,), members in keyed.partition_by("chunk", as_dict=True).items():
        scratch.write(members, "merge_in", str(chunk), batch)
    return keyed.height


@phase("merge")
def merge_partition(lake_dir: str, run_id: str, chunk: int, config: DedupeConfig) -> int:
    """One record per cluster of a merge partition and its duplicates, parked by output
    bucket; returns the records."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    members = scratch.read(MEMBER_ROWS, "merge_in", str(chunk)).drop("chunk")
    records, duplicates = merge_clusters(members, run_id, config)
    buckets = scratch.read(BUCKETS, "buckets")
    for stage, rows in (("deduped", records), ("duplicates", duplicates)):
        parked = bucketed(rows, buckets).select(PARKED[stage].names())
        for (bucket,), part in parked.partition_by("bucket", as_dict=True).items():
            scratch.write(part, f"parked_{stage}", str(bucket), f"{chunk:06d}")
    scratch.write(records.select("cluster", new_kept="doc_id"), "kept", f"{chunk:06d}")
    return records.height


@phase("finish")
def finish(lake_dir: str, run_id: str, plan: DedupePlan) -> dict[str, Any]:
    """Rewrite the changed deduped/ and duplicates/ files, then the index (last: until
    it is written, the next run sees these documents as new); clear the scratch area."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    touched: list[str] = []
    if plan.new:
        progress = Progress(run_logger(), "dedupe")

        def parked(stage: str, bucket: int) -> pl.DataFrame:
            return scratch.read(PARKED[stage], f"parked_{stage}", str(bucket))

        members = scratch.read(IDS, "members")
        buckets = scratch.read(BUCKETS, "buckets")
        touched = write_outputs(
            lake, members, buckets, parked, run_id, plan.rebuilt is not None, progress
        )
        progress.done("rewrote deduped/ and duplicates/ of %d batches", len(touched))
        checkpoint("dedupe.before_index")
        index = updated_index(scratch.read(DOCS, "docs"), scratch.read(KEPT, "kept"))
        lake.write(index, "dedupe_index", INDEX_NAME, run_id)
        progress.done("wrote the index of %d documents", index.height)
    lake.scratch("dedupe").clear()
    touched = sorted(set(touched) | unenriched_batches(lake))
    present = {p.stem for p in lake.files("deduped")}
    return {
        "cleaned": plan.cleaned,
        "deduped": lake.count("deduped"),
        "duplicates": lake.count("duplicates"),
        "new": plan.new,
        "rebuilt": plan.rebuilt,
        "batches": [b for b in touched if b in present],
        "touched": touched,
    }
