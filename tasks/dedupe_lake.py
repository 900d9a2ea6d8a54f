"""dedupe in the lake: the `dedupe` task over cleaned/, its persistent index and the
deduped/ and duplicates/ files (the transforms are in tasks/dedupe.py).

The index (`dedupe_index/documents.parquet`) holds, for every cleaned document seen so
far, its keys, band keys, shingle count, date, the near duplicates verified when it
was indexed, and its cluster's kept doc_id. A run fingerprints only documents not in
it, proposes pairs against the index's band keys, re-reads just the cleaned rows it
needs (candidates to verify, copies of clusters that changed), and rewrites only the
`deduped/` and `duplicates/` files of the batches those clusters touch. Links are
pairwise facts that do not depend on what else is in the lake, so components, and so
records, come out the same whether documents arrive in one run or several. The index
is written last; when it does not match the outputs (a crash between the two, outputs
deleted by hand, other settings) dedupe rebuilds everything from `cleaned/`.

Memory and time follow the corpus linearly (issue #10): the task fingerprints one
cleaned batch file at a time, keeps only the index columns, and parks each new
document's shingle set in a scratch folder. Rows that must meet (both documents of a
candidate pair, every copy of a cluster) are brought together by a shuffle
(tasks/shuffle.py): each batch file is read once and its rows appended to the part that
needs them; pairs are then verified `VERIFY_CHUNK` at a time and clusters merged
`MERGE_CHUNK` documents at a time (tasks/dedupe.py), part by part, and the output rows
shuffled once more to groups of `OUTPUT_BATCHES` batch files. Every step works per
document, per pair or per cluster, so parts change no output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.config import DedupeConfig
from newsflow.faults import checkpoint
from newsflow.lake import DEDUPED_RUN_KEY, Lake
from newsflow.progress import Progress, run_logger
from newsflow.schema import CLEANED, DEDUPE_INDEX, DEDUPED, DUPLICATES, empty
from tasks.dedupe import (
    SHINGLES,
    Verify,
    copies_of,
    indexed,
    keyed_rows,
    linked,
    merge_plan,
    pair_ids,
    settings_id,
    updated_index,
    verified_pairs,
)
from tasks.fingerprints import shingle_sets
from tasks.merge import merge_clusters
from tasks.shuffle import Shuffle, extended

INDEX_NAME = "documents"
# Batch files whose output rows are read back together before they are written.
OUTPUT_BATCHES = 16


def cleaned_rows(lake: Lake, batch: str, ids: pl.Series, columns: list[str]) -> pl.DataFrame:
    """`columns` of the cleaned rows of `batch` whose doc_id is in `ids` (first copy of
    an id only)."""
    return (
        pl.scan_parquet(lake.stage_dir("cleaned") / f"{batch}.parquet")
        .filter(pl.col("doc_id").is_in(ids.implode()))
        .select(columns)
        .collect()
        .unique("doc_id", keep="first", maintain_order=True)
    )


class ShingleStore:
    """Shingle sets by batch: this run's new documents' as fingerprinting made them
    (parked under `folder`, one file per batch), any other's shingled again from its
    cleaned body when asked (documents indexed by an earlier run)."""

    def __init__(self, lake: Lake, folder: Path, config: DedupeConfig) -> None:
        self.lake, self.folder, self.config = lake, folder, config
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, batch: str, shingles: pl.DataFrame) -> None:
        shingles.select("doc_id", "shingles").write_parquet(self.folder / f"{batch}.parquet")

    def of(self, batch: str, ids: pl.Series) -> pl.DataFrame:
        """doc_id and shingles of the documents `ids` of cleaned batch `batch`."""
        found = pl.DataFrame(schema={"doc_id": pl.String, "shingles": SHINGLES})
        if ids.is_empty():
            return found
        path = self.folder / f"{batch}.parquet"
        if path.exists():
            found = pl.read_parquet(path).filter(pl.col("doc_id").is_in(ids.implode()))
        rest = ids.filter(~ids.is_in(found["doc_id"].implode()))
        if rest.is_empty():
            return found
        rows = cleaned_rows(self.lake, batch, rest, ["doc_id", "body"])
        shingled = rows.select(
            "doc_id", shingles=shingle_sets(rows["body"], self.config.shingle_size)
        )
        return pl.concat([found, shingled])


def lake_fingerprints(
    lake: Lake,
    new: pl.DataFrame,
    run_id: str,
    config: DedupeConfig,
    store: ShingleStore,
    progress: Progress,
) -> pl.DataFrame:
    """Index columns (no shingles) of the `new` documents (doc_id, batch_id), read and
    fingerprinted one cleaned batch file at a time: bodies never outlive their batch,
    shingle sets go to `store`."""
    columns = ["doc_id", "batch_id", "title", "body", "published_date"]
    frames = []
    groups = new.group_by("batch_id", maintain_order=True)
    total = new["batch_id"].n_unique()
    for (batch,), part in progress.each(groups, total, "fingerprinted batch files"):
        fp = indexed(cleaned_rows(lake, str(batch), part["doc_id"], columns), run_id, config)
        store.put(str(batch), fp)
        frames.append(fp.drop("shingles"))
    return pl.concat(frames)


def route_shingles(
    store: ShingleStore,
    locations: pl.DataFrame,
    needed: pl.DataFrame,
    shuffle: Shuffle,
    progress: Progress,
) -> None:
    """Send the shingle set of each `needed` (doc_id, chunk) to its chunk, reading each
    batch once (`locations`: doc_id -> batch_id)."""
    placed = needed.join(locations, on="doc_id")
    groups = placed.group_by("batch_id", maintain_order=True)
    total = placed["batch_id"].n_unique()
    for (batch,), part in progress.each(groups, total, "shingle sets read from batch files"):
        shingles = store.of(str(batch), part["doc_id"].unique())
        shuffle.add(part.join(shingles, on="doc_id").select("doc_id", "shingles", "chunk"), "chunk")


def verify_routed(
    store: ShingleStore,
    locations: pl.DataFrame,
    folder: Path,
    config: DedupeConfig,
    progress: Progress,
) -> Verify:
    """Verify slices of pairs on shingle sets shuffled to one part per slice."""
    schema = pl.Schema([("doc_id", pl.String()), ("shingles", SHINGLES), ("chunk", pl.Int64())])

    def verify(slices: list[pl.DataFrame]) -> pl.DataFrame:
        progress.done("proposed %d candidate pairs", sum(pairs.height for pairs in slices))
        needed = pl.concat(
            pair_ids(pairs).to_frame("doc_id").with_columns(chunk=pl.lit(i, pl.Int64))
            for i, pairs in enumerate(slices)
        )
        with Shuffle(folder, schema) as shuffle:
            route_shingles(store, locations, needed, shuffle, progress)
        found = [
            verified_pairs(pairs, shuffle.read(i).select("doc_id", "shingles"), config)
            for i, pairs in progress.each(enumerate(slices), len(slices), "verified slices")
        ]
        return pl.concat(
            [pl.DataFrame(schema={"doc_id": pl.String, "other_doc_id": pl.String})] + found
        )

    return verify


def merged_routed(
    lake: Lake,
    store: ShingleStore,
    locations: pl.DataFrame,
    members: pl.DataFrame,
    folder: Path,
    run_id: str,
    config: DedupeConfig,
    progress: Progress,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """`merged_chunks` on the lake: each member's cleaned row (and shingle set, if it
    has a copy) is shuffled to its chunk in one pass over the batch files, then the
    chunks are merged one by one."""
    plan = merge_plan(members)
    schema = extended(
        CLEANED,
        exact_key=pl.String(),
        sentence_key=pl.String(),
        title_key=pl.UInt64(),
        short_body=pl.Boolean(),
        cluster=pl.String(),
        chunk=pl.Int64(),
        shingles=SHINGLES,
    )
    placed = plan.join(locations.rename({"batch_id": "file"}), on="doc_id")
    with Shuffle(folder, schema) as shuffle:
        groups = placed.group_by("file", maintain_order=True)
        total = placed["file"].n_unique()
        for (batch,), part in progress.each(groups, total, "cleaned rows read from batch files"):
            rows = cleaned_rows(lake, str(batch), part["doc_id"], CLEANED.names())
            shingles = store.of(str(batch), copies_of(part))
            shuffle.add(keyed_rows(rows, part, shingles), "chunk")
    chunks = shuffle.parts()
    for chunk in progress.each(chunks, len(chunks), "merged chunks"):
        yield merge_clusters(shuffle.read(chunk).drop("chunk"), run_id, config)


def stored_index(lake: Lake) -> tuple[pl.DataFrame, str | None]:
    """The index, or an empty one and why when its files lack a column of the contract
    (written by an older dedupe, e.g. before title_key and short_body)."""
    try:
        return lake.scan("dedupe_index").collect(), None
    except pl.exceptions.ColumnNotFoundError as exc:
        missing = str(exc).split(";")[0]
        return empty(DEDUPE_INDEX), f"the index lacks a column ({missing})"


def rebuild_reason(
    lake: Lake, index: pl.DataFrame, cleaned: pl.DataFrame, config: DedupeConfig
) -> str | None:
    """Why the index cannot be trusted to continue from, or None when it can."""
    outputs = lake.count("deduped") + lake.count("duplicates")
    if index.is_empty():
        return "outputs without an index" if outputs else None
    if (index["settings"] != settings_id(config)).any():
        return "dedupe settings changed"
    if not index.join(cleaned, on="doc_id", how="anti").is_empty():
        return "indexed documents are no longer in cleaned/"
    if index.height != outputs:
        return f"index has {index.height} documents, deduped + duplicates {outputs}"
    return None


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
    parked: dict[str, Shuffle],
    run_id: str,
    rebuild: bool,
    progress: Progress,
) -> list[str]:
    """Replace the rows of every changed cluster in deduped/ and duplicates/ with the
    rows parked in `parked[stage]` (by bucket), one batch file at a time, in batch order.

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
            rows = parked[stage].read(int(bucket))
            for batch in group["batch_id"]:
                path = lake.stage_dir(stage) / f"{batch}.parquet"
                if path.exists() and not rebuild:
                    before = pl.read_parquet(path).join(member_ids, on="doc_id", how="anti")
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


@task(name="dedupe", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def dedupe(lake_dir: str, run_id: str, config: DedupeConfig | None = None) -> dict[str, Any]:
    """Index the lake's new cleaned rows and rewrite the clusters they join.

    Returns counts over the whole lake, and the batches whose deduped/ files changed
    (`batches`: rewritten, to enrich again; `touched`: rewritten or removed).
    """
    config = config or DedupeConfig()
    lake = Lake(lake_dir)
    progress = Progress(run_logger(), "dedupe")
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
        progress.logger.info("dedupe: rebuilding the index from cleaned/: %s", reason)
        index = empty(DEDUPE_INDEX)
    new = cleaned.join(index.select("doc_id"), on="doc_id", how="anti")
    progress.done(
        "%d cleaned documents, %d indexed, %d new", cleaned.height, index.height, new.height
    )
    touched: list[str] = []
    clusters = 0
    if not new.is_empty():
        with tempfile.TemporaryDirectory(prefix="newsflow-dedupe-") as tmp:
            scratch = Path(tmp)
            store = ShingleStore(lake, scratch / "shingles", config)
            fp = lake_fingerprints(lake, new, run_id, config, store, progress)
            progress.done("fingerprinted %d new documents", fp.height)
            verify = verify_routed(store, cleaned, scratch / "verify", config, progress)
            links = linked(fp, index, verify, config)
            del fp
            progress.done(
                "verified and linked: %d clusters changed, %d documents in them",
                links.members["cluster"].n_unique(),
                links.members.height,
            )
            batches = set(links.members["batch_id"])
            if reason:
                batches |= {
                    p.stem for stage in ("deduped", "duplicates") for p in lake.files(stage)
                }
            buckets = output_buckets(batches)
            parked = {
                "deduped": Shuffle(scratch / "deduped", extended(DEDUPED, bucket=pl.Int64())),
                "duplicates": Shuffle(
                    scratch / "duplicates", extended(DUPLICATES, bucket=pl.Int64())
                ),
            }
            kept = [pl.DataFrame(schema={"cluster": pl.String, "new_kept": pl.String})]
            with parked["deduped"], parked["duplicates"]:
                chunks = merged_routed(
                    lake, store, cleaned, links.members, scratch / "merge", run_id, config, progress
                )
                for records, duplicates in chunks:
                    parked["deduped"].add(bucketed(records, buckets), "bucket")
                    parked["duplicates"].add(bucketed(duplicates, buckets), "bucket")
                    kept.append(records.select("cluster", new_kept="doc_id"))
                    clusters += records.height
            progress.done("merged %d clusters", clusters)
            touched = write_outputs(
                lake, links.members, buckets, parked, run_id, reason is not None, progress
            )
            progress.done("rewrote deduped/ and duplicates/ of %d batches", len(touched))
        checkpoint("dedupe.before_index")
        index = updated_index(links.docs, pl.concat(kept))
        del links, kept  # only the new index is held while it is written
        # Last: until the index is written, the next run sees these documents as new.
        lake.write(index, "dedupe_index", INDEX_NAME, run_id)
        progress.done("wrote the index of %d documents", index.height)
    touched = sorted(set(touched) | unenriched_batches(lake))
    present = {p.stem for p in lake.files("deduped")}
    return {
        "cleaned": cleaned.height,
        "deduped": lake.count("deduped"),
        "duplicates": lake.count("duplicates"),
        "new": new.height,
        "clusters_rewritten": clusters,
        "rebuilt": reason,
        "batches": [b for b in touched if b in present],
        "touched": touched,
    }
