"""dedupe's phases, each a thin Prefect task over the pure rules of tasks/dedupe_rules.py,
in the order tasks/dedupe_stage.py runs them. A task reads its inputs from the run's
scratch area (`Lake.scratch`) and from the partitions of the index it needs
(tasks/dedupe_index.py), and writes its outputs back to the scratch area, one file per
partition it feeds: rows never pass through one process's memory, so remote workers
share them. Only the last phases write the lake: outputs, then index partitions, then
the batch list.

Any phase may run again (a retry, a lost worker): each rewrites its own files whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import polars as pl
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from newsflow.config import DedupeConfig
from newsflow.faults import checkpoint
from newsflow.lake import Lake, Scratch
from newsflow.progress import Progress, run_logger
from newsflow.schema import CLEANED, DEDUPE_INDEX, DEDUPED, DUPLICATES, STAGE_SCHEMAS, empty
from tasks.dedupe_index import (
    BANDS,
    BATCHES,
    CLUSTERS,
    DOCS,
    KEYS,
    batch_list,
    id_partition,
    index_reason,
    indexed_batches,
    key_partition,
    partition_count,
    read_part,
    remove_unwritten,
    write_batch_list,
    write_part,
)
from tasks.dedupe_lake import (
    SHINGLE_SETS,
    bucketed,
    cleaned_rows,
    output_buckets,
    shingles_in_batch,
    unenriched_batches,
    write_outputs,
)
from tasks.dedupe_rules import (
    PAIR_COLUMNS,
    SHINGLES,
    VerifyPacking,
    band_search,
    copies_of,
    document_keys,
    indexed,
    keyed_rows,
    linked,
    merge_plan,
    near_links,
    partition_candidates,
    settings_id,
    verified_partition,
)
from tasks.merge import merge_clusters

# New documents per candidate-pair bucket (the unit the routes phase packs into verify
# partitions): the routes phase holds one bucket's pairs, plus the ends of up to
# `ROUTE_PAIRS` pairs.
BUCKET_DOCS = 5_000
# Candidate pairs per verify partition: they and the shingle sets of their ends (~3 KB
# each, fewer sets than ends: a bucket keeps each searched document's pairs together)
# are what a verify task holds.
VERIFY_PAIRS = 50_000
# Candidate pairs whose ends the routes phase holds at once (~0.2 KB each, with copies).
ROUTE_PAIRS = 500_000
# Cleaned batches per fingerprints, shingle-routes and row-routes task. Each task writes
# one file per partition it routes rows to: per batch, a 1M-document first build wrote
# ~1.5M small scratch files (~1 ms each locally, a request each on object storage).
ROUTE_BATCHES = 8

P = ParamSpec("P")
R = TypeVar("R")

IDS = pl.Schema({"doc_id": pl.String()})
# What components needs of an index row: not the band keys nor the signature (~0.6 KB of
# the ~0.7), which the index partitions keep and the index phase joins back.
LIGHT = pl.Schema([(c, t) for c, t in DEDUPE_INDEX.items() if c not in ("band_keys", "signature")])
HEAVY = pl.Schema({c: DEDUPE_INDEX[c] for c in ("doc_id", "band_keys", "signature")})
LIGHT_FP = pl.Schema([(c, t) for c, t in LIGHT.items() if c != "near_doc_ids"])
# What components holds of an index row: not `settings`, 211 bytes in every row and the
# same in all (an index of other settings is rebuilt), set again when the rows go out.
# At 1M documents it was 211 MB of each copy of them.
HELD = pl.Schema([(c, t) for c, t in LIGHT.items() if c != "settings"])
HELD_FP = pl.Schema([(c, t) for c, t in LIGHT_FP.items() if c != "settings"])
BAND_ROWS = STAGE_SCHEMAS[BANDS]
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
SUB_DOCS = pl.Schema([*LIGHT.items(), ("cluster", pl.String())])
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
KEPT_DOCS = pl.Schema({"doc_id": pl.String(), "new_kept": pl.String()})
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
    parts: int  # partitions of each index table
    pair_buckets: int


@dataclass(frozen=True)
class Touched:
    """Partitions a phase wrote rows for, per index table (docs, bands, keys, clusters)."""

    parts: dict[str, list[int]] = field(default_factory=dict)

    def __or__(self, other: Touched) -> Touched:
        tables = self.parts.keys() | other.parts.keys()
        return Touched(
            {t: sorted({*self.parts.get(t, []), *other.parts.get(t, [])}) for t in tables}
        )

    def of(self, table: str) -> list[int]:
        return self.parts.get(table, [])


@dataclass(frozen=True)
class MergePlan:
    batches: list[str]  # cleaned batches holding a member of a changed cluster
    chunks: list[int]  # merge partitions
    members: int
    clusters: int


def phase(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A phase's task: retried, never cached (it reads the scratch area, not its
    arguments)."""
    return task(name=f"dedupe-{name}", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)


def scratch_of(lake: Lake, run_id: str) -> Scratch:
    return lake.scratch(f"dedupe/{run_id}")


def folders(scratch: Scratch, folder: str) -> list[int]:
    return sorted(int(p) for p in scratch.folders(folder))


def batch_groups(batches: list[str]) -> list[list[str]]:
    """`batches` in name order, `ROUTE_BATCHES` consecutive ones per task: a group's
    routed file holds its batches' rows in that order, so files read in name order give
    the rows in batch order whatever the group size."""
    ordered = sorted(batches)
    return [ordered[i : i + ROUTE_BATCHES] for i in range(0, len(ordered), ROUTE_BATCHES)]


# -- 1. plan -------------------------------------------------------------------------


@phase("plan")
def plan_dedupe(lake_dir: str, run_id: str, config: DedupeConfig) -> DedupePlan:
    """The new cleaned documents (doc_ids per batch into the scratch area), and why the
    index is rebuilt, if it is. Reads the batch list, the cleaned batches it does not
    hold, and the doc_ids of the index partitions their documents hash to."""
    lake = Lake(lake_dir)
    lake.scratch("dedupe").clear()  # what a killed run left
    scratch = scratch_of(lake, run_id)
    batches = indexed_batches(lake)
    reason = index_reason(lake, batches, settings_id(config))
    cleaned_rows_by_batch = {n: w.rows for n, w in lake.written("cleaned").items()}
    if reason:
        run_logger().info("dedupe: rebuilding the index from cleaned/: %s", reason)
        batches = batches.clear()
    parts = int(batches["partitions"][0]) if batches.height else 0
    parts = parts or partition_count(sum(cleaned_rows_by_batch.values()))
    held = dict(batches.select("batch_id", "rows").iter_rows())
    changed = sorted(b for b, rows in cleaned_rows_by_batch.items() if held.get(b) != rows)
    new = candidate_documents(lake, changed)
    if not reason:
        new = not_indexed(lake, new, parts, set(held))
    for (batch,), part in new.group_by("batch_id", maintain_order=True):
        scratch.write(part.select("doc_id"), "new", str(batch))
    indexed_docs = int(batches["docs"].sum()) if batches.height else 0
    scratch.write(
        batch_list(batches, new, cleaned_rows_by_batch, settings_id(config), parts), "batches"
    )
    run_logger().info(
        "dedupe: %d documents indexed, %d new, in %d index partitions",
        indexed_docs,
        new.height,
        parts,
    )
    return DedupePlan(
        cleaned=indexed_docs + new.height,
        indexed=indexed_docs,
        new=new.height,
        new_batches=sorted(new["batch_id"].unique().to_list()),
        rebuilt=reason,
        parts=parts,
        pair_buckets=1 + new.height // BUCKET_DOCS,
    )


def candidate_documents(lake: Lake, batches: list[str]) -> pl.DataFrame:
    """doc_id, batch_id of the cleaned batches `batches`, one batch per doc_id (the first
    in name order: a file re-ingested into another batch after a crash is one document)."""
    frames = [lake.read("cleaned", b, ["doc_id", "batch_id"]) for b in batches]
    found = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"doc_id": pl.String, "batch_id": pl.String})
    )
    return found.unique("doc_id", keep="first", maintain_order=True)


def not_indexed(lake: Lake, docs: pl.DataFrame, parts: int, listed: set[str]) -> pl.DataFrame:
    """`docs` whose doc_id no index partition holds from a batch of the batch list
    (`listed`: rows of other batches are a killed run's, not committed). Each partition
    read is one their ids hash to."""
    if docs.is_empty():
        return docs
    keyed = docs.with_columns(part=id_partition(pl.col("doc_id"), parts))
    kept = []
    for (part,), rows in keyed.partition_by("part", as_dict=True, maintain_order=True).items():
        held = read_part(lake, DOCS, int(str(part)), ["doc_id", "batch_id"])
        held = held.filter(pl.col("batch_id").is_in(list(listed))).select("doc_id")
        kept.append(rows.join(held, on="doc_id", how="anti", maintain_order="left"))
    return pl.concat(kept).drop("part").sort("batch_id", maintain_order=True)


# -- 2. fingerprints -----------------------------------------------------------------


@phase("fingerprints")
def fingerprint_batches(
    lake_dir: str, run_id: str, batches: list[str], parts: int, config: DedupeConfig
) -> Touched:
    """Index rows and shingle sets of a group of batches' new documents (shingle sets and
    fingerprints per batch); their rows, band rows and keys routed to the index
    partitions they belong to, one file per partition for the group."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    columns = ["doc_id", "batch_id", "title", "body", "published_date"]
    heavy, bands, keys = [], [], []
    for batch in batches:
        ids = scratch.read(IDS, "new", batch)["doc_id"]
        fp = indexed(cleaned_rows(lake, batch, ids, columns), run_id, config)
        scratch.write(fp.select("doc_id", "shingles"), "shingles", batch)
        scratch.write(fp.select(LIGHT_FP.names()), "fingerprints", batch)
        heavy.append(fp.select(HEAVY.names()))
        bands.append(
            fp.select(*PAIR_COLUMNS, key="band_keys")
            .explode("key", empty_as_null=False)
            .drop_nulls("key")
        )
        keys.append(document_keys(fp))
        del fp
    name = batches[0]
    return Touched(
        {
            DOCS: scratch.routed(
                pl.concat(heavy, how="vertical_relaxed"),
                id_partition(pl.col("doc_id"), parts),
                "heavy",
                name,
            ),
            BANDS: scratch.routed(
                pl.concat(bands, how="vertical_relaxed"),
                key_partition(pl.col("key"), parts),
                "bands_in",
                name,
            ),
            KEYS: scratch.routed(
                pl.concat(keys, how="vertical_relaxed"),
                key_partition(pl.col("key"), parts),
                "keys_in",
                name,
            ),
        }
    )


# -- 3. candidates, 4. routes, 5. shingle routes, 6. verify ----------------------------


@phase("candidates")
def find_candidates(
    lake_dir: str, run_id: str, part: int, plan: DedupePlan, config: DedupeConfig
) -> int:
    """Candidate pairs of one band partition (its index partition and the new
    documents' band rows in it), sent to buckets by their searched document; the
    partition with the new representatives parked for the index phase."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    new = scratch.read(BAND_ROWS, "bands_in", str(part))
    old = empty(BAND_ROWS) if plan.rebuilt else read_part(lake, BANDS, part)
    # Rows of a new document already there are a killed run's: it is searched again.
    old = old.join(new.select("doc_id").unique(), on="doc_id", how="anti")
    query, pool, stored = band_search(new, old)
    pairs = partition_candidates(query, pool, config)
    scratch.write(stored, "index_out", BANDS, str(part), "rows")
    # A document's pairs stay in one bucket, so the verify partition holding them needs
    # its shingle set once, not once per pair.
    bucket = id_partition(pl.col("doc_id"), plan.pair_buckets)
    scratch.routed(pairs, bucket, "pairs", f"{part:05d}")
    return pairs.height


@phase("routes")
def route_pairs(lake_dir: str, run_id: str) -> tuple[list[str], list[int]]:
    """The candidate pairs packed into verify partitions of at most `VERIFY_PAIRS`
    (`VerifyPacking`), and per cleaned batch which of its documents' shingle sets each
    partition needs; returns those batches and the verify partitions."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    packing = VerifyPacking(VERIFY_PAIRS)
    batches: set[str] = set()
    needs, rows, group = [], 0, 0
    buckets = scratch.folders("pairs")
    for i, bucket in enumerate(buckets):
        # A pair met in several band partitions was sent from each.
        found = scratch.read(PAIRS, "pairs", bucket).unique(["doc_id", "other_doc_id"])
        pairs = packing.place(found)
        scratch.routed(pairs, pl.col("part"), "verify_pairs", bucket)
        ends = [
            pairs.select("doc_id", "batch_id", "part"),
            pairs.select(doc_id="other_doc_id", batch_id="other_batch_id", part="part"),
        ]
        needs.append(pl.concat(ends).unique())
        rows += pairs.height
        # Written a group of buckets at a time (`verify_needs/<batch>/<group>`): at 1M
        # documents the candidate pairs (8.6M) of every bucket at once took a 1.5 GB
        # worker past its limit.
        if rows >= ROUTE_PAIRS or i == len(buckets) - 1:
            batches |= route_needs(scratch, pl.concat(needs), f"{group:05d}")
            needs, rows, group = [], 0, group + 1
    return sorted(batches), folders(scratch, "verify_pairs")


def route_needs(scratch: Scratch, needs: pl.DataFrame, group: str) -> set[str]:
    """Each batch's (doc_id, part) rows as `verify_needs/<batch>/<group>`; the batches."""
    for (batch,), rows in needs.partition_by("batch_id", as_dict=True).items():
        scratch.write(rows.select("doc_id", "part"), "verify_needs", str(batch), group)
    return {str(b) for b in needs["batch_id"].unique()}


@phase("shingle-routes")
def route_shingles(lake_dir: str, run_id: str, batches: list[str], config: DedupeConfig) -> int:
    """The shingle sets of a group of batches' documents, each to the verify partitions
    that need it."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    routed = []
    for batch in batches:
        # A partition filled across two groups of the routes phase is named in both.
        needs = scratch.read(NEEDS, "verify_needs", batch).unique()
        shingles = shingles_in_batch(lake, scratch, batch, needs["doc_id"].unique(), config)
        routed.append(needs.join(shingles, on="doc_id"))
    pairs = pl.concat(routed, how="vertical_relaxed")
    scratch.routed(pairs, pl.col("part"), "verify_in", batches[0])
    return pairs.height


@phase("verify")
def verify_pairs(lake_dir: str, run_id: str, part: int, config: DedupeConfig) -> int:
    """The near duplicates among one partition's candidate pairs."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    pairs = scratch.read(PAIRS, "verify_pairs", str(part))
    verified = verified_partition(
        pairs.select("doc_id", "other_doc_id", "published_date", "other_published_date"),
        scratch.read(SHINGLE_SETS, "verify_in", str(part)),
        config,
    )
    scratch.write(verified, "verified", str(part))
    return verified.height


# -- 7. neighbours: the indexed documents the new ones may join ------------------------


@phase("keys")
def match_keys(lake_dir: str, run_id: str, part: int, plan: DedupePlan) -> int:
    """Indexed documents sharing an exact or sentence key with a new one, in one key
    partition; the partition with the new keys parked for the index phase."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    new = scratch.read(STAGE_SCHEMAS[KEYS], "keys_in", str(part))
    old = empty(STAGE_SCHEMAS[KEYS]) if plan.rebuilt else read_part(lake, KEYS, part)
    met = old.join(new.select("key").unique(), on="key", how="semi").select("doc_id").unique()
    scratch.write(met, "neighbours", f"keys-{part:05d}")
    stored = pl.concat([old, new]).unique(maintain_order=True).sort("key", "doc_id")
    scratch.write(stored, "index_out", KEYS, str(part), "rows")
    return met.height


@phase("neighbours")
def route_neighbours(lake_dir: str, run_id: str, plan: DedupePlan) -> list[int]:
    """The indexed documents met by key or by a verified pair, by index partition."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    verified = scratch.read(EDGES, "verified")
    met = pl.concat(
        [scratch.read(IDS, "neighbours"), verified.select(doc_id="other_doc_id")]
    ).unique()
    fresh = scratch.read(IDS, "fingerprints")
    met = met.join(fresh, on="doc_id", how="anti")
    return scratch.routed(met, id_partition(pl.col("doc_id"), plan.parts), "wanted", "met")


@phase("documents")
def look_up_documents(
    lake_dir: str, run_id: str, part: int, plan: DedupePlan, round_: str
) -> list[int]:
    """Index rows of the wanted documents of one partition (`round_` "met": the
    neighbours, then "members": every member of their clusters); after the first round
    their clusters (kept_doc_id) go to the cluster partitions."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    wanted = scratch.read(IDS, "wanted", str(part)).unique()
    rows = read_part(lake, DOCS, part, LIGHT.names()).join(wanted, on="doc_id", how="semi")
    scratch.write(rows, "old_rows", str(part), round_)
    if round_ != "met":
        return []
    kept = rows.select("kept_doc_id").unique()
    return scratch.routed(
        kept,
        id_partition(pl.col("kept_doc_id"), plan.parts),
        "clusters_wanted",
        f"{part:05d}",
    )


@phase("members")
def look_up_members(lake_dir: str, run_id: str, part: int, plan: DedupePlan) -> list[int]:
    """The members of the wanted clusters of one cluster partition, sent to their
    document partitions."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    wanted = scratch.read(pl.Schema({"kept_doc_id": pl.String()}), "clusters_wanted", str(part))
    members = read_part(lake, CLUSTERS, part).join(wanted.unique(), on="kept_doc_id", how="semi")
    scratch.write(members.select("doc_id"), "members", str(part))
    return scratch.routed(
        members.select("doc_id"),
        id_partition(pl.col("doc_id"), plan.parts),
        "wanted",
        f"members-{part:05d}",
    )


# -- 8. components ---------------------------------------------------------------------


@phase("components")
def connect_components(
    lake_dir: str, run_id: str, plan: DedupePlan, config: DedupeConfig
) -> MergePlan:
    """Clusters of the new documents and the indexed ones they meet (with every member
    of those clusters); the members of the clusters that gained a document, planned
    into merge partitions of whole clusters and routed by batch."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    near = near_links(scratch.read(EDGES, "verified"))
    found = [scratch.read(HELD, "old_rows", part) for part in scratch.folders("old_rows")]
    old = pl.concat([empty(HELD), *found]).unique("doc_id", keep="first").sort("doc_id")
    fresh = scratch.read(IDS, "fingerprints")
    old = old.join(fresh, on="doc_id", how="anti")  # a killed run's rows
    del fresh
    # The new documents go straight in (no name here holds them: `linked` lets them go).
    links = linked(scratch.read(HELD_FP, "fingerprints"), old, near, config)
    batches = set(links.members["batch_id"].unique().to_list())
    if plan.rebuilt:
        batches |= {p.stem for stage in ("deduped", "duplicates") for p in lake.files(stage)}
    scratch.write(output_buckets(batches), "buckets")
    scratch.write(links.members.select("doc_id"), "members_changed")
    out = links.docs.with_columns(settings=pl.lit(settings_id(config)))
    scratch.routed(out, id_partition(pl.col("doc_id"), plan.parts), "docs_out", "docs")
    del out
    # A changed cluster's members leave the cluster partitions of their old kept_doc_id.
    leaving = old.join(links.members.select("doc_id"), on="doc_id", how="semi")
    scratch.routed(
        leaving.select("doc_id", "kept_doc_id"),
        id_partition(pl.col("kept_doc_id"), plan.parts),
        "clusters_out",
        "old",
    )
    planned = merge_plan(links.members)
    batch_names = []
    for (batch,), rows in planned.partition_by("batch_id", as_dict=True).items():
        scratch.write(rows, "merge_needs", str(batch))
        batch_names.append(str(batch))
    clusters = links.members["cluster"].n_unique()
    run_logger().info(
        "dedupe: %d clusters changed, %d documents in them", clusters, links.members.height
    )
    return MergePlan(
        batches=sorted(batch_names),
        chunks=sorted(planned["chunk"].unique().to_list()),
        members=links.members.height,
        clusters=clusters,
    )


# -- 9. row routes, 10. merge ----------------------------------------------------------


@phase("row-routes")
def route_rows(lake_dir: str, run_id: str, batches: list[str], config: DedupeConfig) -> int:
    """Cleaned rows of a group of batches' members (with keys, cluster and, for a cluster
    with copies, the shingle set), each to its merge partition."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    routed = []
    for batch in batches:
        part = scratch.read(PLANNED, "merge_needs", batch)
        rows = cleaned_rows(lake, batch, part["doc_id"], CLEANED.names())
        shingles = shingles_in_batch(lake, scratch, batch, copies_of(part), config)
        routed.append(keyed_rows(rows, part, shingles))
    keyed = pl.concat(routed, how="vertical_relaxed")
    scratch.routed(keyed, pl.col("chunk"), "merge_in", batches[0])
    return keyed.height


@phase("merge")
def merge_partition(
    lake_dir: str, run_id: str, chunk: int, plan: DedupePlan, config: DedupeConfig
) -> int:
    """One record per cluster of a merge partition and its duplicates, parked by output
    bucket; each member's kept doc_id parked for the index partitions; returns the
    records."""
    scratch = scratch_of(Lake(lake_dir), run_id)
    members = scratch.read(MEMBER_ROWS, "merge_in", str(chunk)).drop("chunk")
    records, duplicates = merge_clusters(members, run_id, config)
    buckets = scratch.read(BUCKETS, "buckets")
    name = f"{chunk:06d}"
    for stage, rows in (("deduped", records), ("duplicates", duplicates)):
        parked = bucketed(rows, buckets).select(PARKED[stage].names())
        for (bucket,), part in parked.partition_by("bucket", as_dict=True).items():
            scratch.write(part, f"parked_{stage}", str(bucket), name)
    kept = members.select("doc_id", "cluster").join(
        records.select("cluster", new_kept="doc_id"), on="cluster"
    )
    scratch.routed(
        kept.select("doc_id", "new_kept"),
        id_partition(pl.col("doc_id"), plan.parts),
        "kept",
        name,
    )
    joined = kept.select("new_kept", "doc_id").rename({"new_kept": "kept_doc_id"})
    scratch.routed(joined, id_partition(pl.col("kept_doc_id"), plan.parts), "clusters_in", name)
    return records.height


# -- 11. outputs, 12. index partitions, 13. finish -------------------------------------


@phase("outputs")
def rewrite_outputs(lake_dir: str, run_id: str, plan: DedupePlan) -> list[tuple[str, int]]:
    """Rewrite the changed deduped/ and duplicates/ files; returns the index partitions
    to write next."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    progress = Progress(run_logger(), "dedupe")

    def parked(stage: str, bucket: int) -> pl.DataFrame:
        return scratch.read(PARKED[stage], f"parked_{stage}", str(bucket))

    members = scratch.read(IDS, "members_changed")
    buckets = scratch.read(BUCKETS, "buckets")
    touched = write_outputs(
        lake, members, buckets, parked, run_id, plan.rebuilt is not None, progress
    )
    scratch.write(pl.DataFrame({"batch_id": touched}, schema={"batch_id": pl.String}), "touched")
    progress.done("rewrote deduped/ and duplicates/ of %d batches", len(touched))
    checkpoint("dedupe.before_index")
    written = {
        DOCS: folders(scratch, "docs_out") + folders(scratch, "heavy"),
        BANDS: [int(p) for p in scratch.folders("index_out", BANDS)],
        KEYS: [int(p) for p in scratch.folders("index_out", KEYS)],
        CLUSTERS: folders(scratch, "clusters_in") + folders(scratch, "clusters_out"),
    }
    return sorted({(table, part) for table, parts in written.items() for part in parts})


@phase("index")
def write_index_partition(
    lake_dir: str, run_id: str, table: str, part: int, plan: DedupePlan
) -> int:
    """One partition of one index table: its rows before the run with this run's
    documents and changes applied. Returns its rows."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    name = str(part)
    if table in (BANDS, KEYS):
        rows = scratch.read(STAGE_SCHEMAS[table], "index_out", table, name)
    elif table == CLUSTERS:
        old = empty(STAGE_SCHEMAS[CLUSTERS]) if plan.rebuilt else read_part(lake, CLUSTERS, part)
        leaving = scratch.read(IDS, "clusters_out", name)
        joining = scratch.read(STAGE_SCHEMAS[CLUSTERS], "clusters_in", name)
        gone = pl.concat([leaving, joining.select("doc_id")])
        rows = pl.concat([old.join(gone, on="doc_id", how="anti"), joining]).sort(
            "kept_doc_id", "doc_id"
        )
    else:
        old = empty(DEDUPE_INDEX) if plan.rebuilt else read_part(lake, DOCS, part)
        changed = scratch.read(SUB_DOCS, "docs_out", name)
        heavy = pl.concat([old.select(HEAVY.names()), scratch.read(HEAVY, "heavy", name)])
        kept = scratch.read(KEPT_DOCS, "kept", name)
        rows = updated_documents(old, changed, heavy, kept)
    write_part(lake, rows, table, part, run_id)
    return rows.height


def updated_documents(
    old: pl.DataFrame, changed: pl.DataFrame, heavy: pl.DataFrame, kept: pl.DataFrame
) -> pl.DataFrame:
    """An index partition: `old` rows with the `changed` rows (light columns) replaced,
    each with its band keys and signature (`heavy`: the last row of a doc_id wins) and,
    in a rewritten cluster, its new kept doc_id (`kept`: doc_id, new_kept)."""
    heavy = heavy.unique("doc_id", keep="last", maintain_order=True)
    rows = (
        changed.join(heavy, on="doc_id", how="left")
        .join(kept, on="doc_id", how="left")
        .with_columns(kept_doc_id=pl.coalesce("new_kept", "kept_doc_id"))
        .select(DEDUPE_INDEX.names())
    )
    return pl.concat([old.join(rows, on="doc_id", how="anti"), rows]).sort("doc_id")


@phase("finish")
def finish(
    lake_dir: str, run_id: str, plan: DedupePlan, written: list[tuple[str, int]]
) -> dict[str, Any]:
    """Write the batch list (last: until it is written, the next run sees this run's
    documents as new); on a rebuild remove the partitions it did not write; clear the
    scratch area."""
    lake = Lake(lake_dir)
    scratch = scratch_of(lake, run_id)
    touched: list[str] = []
    if plan.new:
        if plan.rebuilt:
            parts: dict[str, set[str]] = {}
            for table, part in written:
                parts.setdefault(table, set()).add(str(part))
            remove_unwritten(lake, parts)
        touched = scratch.read(pl.Schema({"batch_id": pl.String()}), "touched")[
            "batch_id"
        ].to_list()
    listed = scratch.read(STAGE_SCHEMAS[BATCHES], "batches")
    if plan.new or not listed.equals(indexed_batches(lake)):
        write_batch_list(lake, listed, run_id)
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
