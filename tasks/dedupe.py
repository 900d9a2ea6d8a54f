"""dedupe: cleaned rows -> one record per article, a trace of every copy merged, and a
persistent index so that every run matches new documents against everything before.

Copies are linked three ways (fingerprints in tasks/fingerprints.py):

* `exact_body`: the same normalised body;
* `sentence_set`: the same set of normalised sentences, in any order (a headed copy
  with shuffled sentences meets its dated twin);
* `near_jaccard` / `near_containment`: MinHash LSH over sentence-bounded word shingles
  proposes pairs (tasks/minhash.py), each verified on the real shingle sets: Jaccard
  for edited copies, containment for a story inside a longer page or a flattened copy.
  Bodies under `min_shingles` never match this way, and their two keys include the
  title, so furniture-only bodies of different pages stay apart. With both dates known,
  near duplicates must lie within `date_window_days`.

Clusters are the connected components of these links; tasks/merge.py turns each into
one record.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsflow.config import DedupeConfig
from newsflow.faults import checkpoint
from newsflow.lake import DEDUPED_RUN_KEY, Lake
from newsflow.schema import CLEANED, DEDUPE_INDEX, DEDUPED, DUPLICATES, empty
from tasks.clusters import cluster_ids
from tasks.fingerprints import fingerprints, shingle_sets
from tasks.merge import merge_clusters
from tasks.minhash import (
    SIGNATURE_ALGORITHM,
    band_keys,
    candidate_pairs,
    near_method,
    pair_similarity,
)

FINGERPRINT_VERSION = "fingerprint_v1"
INDEX_NAME = "documents"
# Returns the cleaned rows of the given (already indexed) doc_ids.
Fetch = Callable[[pl.Series], pl.DataFrame]


def settings_id(config: DedupeConfig) -> str:
    """Everything stored keys and links depend on; a change rebuilds the index."""
    return f"{FINGERPRINT_VERSION} {SIGNATURE_ALGORITHM} {config.model_dump_json()}"


@dataclass(frozen=True)
class DedupeUpdate:
    records: pl.DataFrame  # DEDUPED rows of every cluster that gained a document
    duplicates: pl.DataFrame  # DUPLICATES rows of those clusters
    index: pl.DataFrame  # the whole index after the update
    members: pl.DataFrame  # doc_id, batch_id of every document in those clusters


def near_links(
    new: pl.DataFrame, index: pl.DataFrame, fetch: Fetch, config: DedupeConfig
) -> pl.DataFrame:
    """doc_id -> near_doc_ids: verified near duplicates of new documents.

    Documents with the same sentence set and date have the same shingles and the same
    window, so one representative of each is searched (the smallest doc_id), and only
    for shapes the index does not hold yet. A pair of two new documents is kept once.
    """
    shape = ["sentence_key", "published_date"]
    columns = ["doc_id", "exact_key", "sentence_key", "published_date", "band_keys"]
    searchable = pl.col("shingle_count") >= config.min_shingles
    old = index.filter(searchable).sort("doc_id").unique(shape, keep="first", maintain_order=True)
    reps = (
        new.filter(searchable)
        .join(old.select(shape), on=shape, how="anti", nulls_equal=True)
        .sort("doc_id")
        .unique(shape, keep="first", maintain_order=True)
    )
    none = pl.DataFrame(schema={"doc_id": pl.String, "near_doc_ids": pl.List(pl.String)})
    if reps.is_empty():
        return none
    pool = pl.concat([old.select(columns), reps.select(columns)])
    rep_ids = reps["doc_id"].implode()
    other_is_old = ~pl.col("other_doc_id").is_in(rep_ids)
    meta = pool.select("doc_id", "exact_key", "sentence_key", "published_date")
    pairs = (
        candidate_pairs(reps, pool)
        .filter(other_is_old | (pl.col("doc_id") < pl.col("other_doc_id")))
        .join(meta, on="doc_id")
        .join(meta.rename(lambda c: f"other_{c}"), on="other_doc_id")
        .filter(
            (pl.col("exact_key") != pl.col("other_exact_key"))
            & (pl.col("sentence_key") != pl.col("other_sentence_key"))
        )
    )
    if pairs.is_empty():
        return none
    old_rows = fetch(pairs.filter(other_is_old)["other_doc_id"].unique())
    shingles = pl.concat(
        [
            reps.select("doc_id", "shingles"),
            old_rows.select("doc_id", shingles=shingle_sets(old_rows["body"], config.shingle_size)),
        ]
    )
    similar = pair_similarity(pairs.select("doc_id", "other_doc_id"), shingles).join(
        pairs.select("doc_id", "other_doc_id", "published_date", "other_published_date"),
        on=["doc_id", "other_doc_id"],
    )
    return (
        similar.filter(near_method(config).is_not_null())
        .group_by("doc_id")
        .agg(near_doc_ids=pl.col("other_doc_id").sort())
    )


def indexed(new: pl.DataFrame, run_id: str, config: DedupeConfig) -> pl.DataFrame:
    """Fingerprints of new cleaned rows: index columns plus `shingles` (not stored)."""
    fp = fingerprints(new, config).with_columns(
        batch_id=new["batch_id"], published_date=new["published_date"]
    )
    searchable = fp.filter(pl.col("shingle_count") >= config.min_shingles)
    bands = searchable.select("doc_id", band_keys=band_keys(searchable["shingles"], config))
    return fp.join(bands, on="doc_id", how="left", maintain_order="left").with_columns(
        band_keys=pl.col("band_keys").fill_null(pl.lit([], pl.List(pl.UInt64))),
        kept_doc_id=pl.lit(None, pl.String),
        settings=pl.lit(settings_id(config)),
        run_id=pl.lit(run_id),
    )


def dedupe_update(
    new: pl.DataFrame,
    index: pl.DataFrame,
    fetch: Fetch,
    run_id: str,
    config: DedupeConfig | None = None,
) -> DedupeUpdate:
    """Add new cleaned rows to the index; re-merge every cluster that gained a document.

    `index` is the DEDUPE_INDEX so far; `fetch` reads the cleaned rows of indexed ids.
    Rows already in the index are ignored, so feeding a batch twice changes nothing.
    """
    config = config or DedupeConfig()
    new = new.unique("doc_id", keep="first", maintain_order=True).join(
        index.select("doc_id"), on="doc_id", how="anti"
    )
    fp = indexed(new, run_id, config)
    links = near_links(fp, index, fetch, config)
    added = fp.join(links, on="doc_id", how="left", maintain_order="left").with_columns(
        near_doc_ids=pl.col("near_doc_ids").fill_null(pl.lit([], pl.List(pl.String)))
    )
    docs = pl.concat([index, added.select(DEDUPE_INDEX.names())])
    docs = docs.with_columns(cluster=cluster_ids(docs))
    changed = docs.join(new.select("doc_id"), on="doc_id", how="semi")["cluster"].unique()
    members = docs.filter(pl.col("cluster").is_in(changed.implode()))
    old_ids = members.join(new.select("doc_id"), on="doc_id", how="anti")["doc_id"]
    old_rows = fetch(old_ids).select(CLEANED.names()) if old_ids.len() else empty(CLEANED)
    old_fp = fingerprints(old_rows, config)
    key_columns = ["doc_id", "exact_key", "sentence_key", "shingles"]
    rows = (
        pl.concat([new.select(CLEANED.names()), old_rows])
        .join(pl.concat([fp.select(key_columns), old_fp.select(key_columns)]), on="doc_id")
        .join(members.select("doc_id", "cluster"), on="doc_id")
    )
    records, duplicates = merge_clusters(rows, run_id, config)
    kept = records.select("cluster", new_kept="doc_id")
    index_out = (
        docs.join(kept, on="cluster", how="left", maintain_order="left")
        .with_columns(kept_doc_id=pl.coalesce("new_kept", "kept_doc_id"))
        .sort("doc_id")
        .select(DEDUPE_INDEX.names())
    )
    return DedupeUpdate(
        records=records.sort("doc_id").select(DEDUPED.names()),
        duplicates=duplicates.sort("doc_id").select(DUPLICATES.names()),
        index=index_out,
        members=members.select("doc_id", "batch_id"),
    )


def dedupe_frame(
    cleaned: pl.DataFrame, run_id: str, config: DedupeConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse copies among `cleaned` (no index). Returns (deduped rows, duplicates)."""

    def fetch(ids: pl.Series) -> pl.DataFrame:
        return cleaned.filter(pl.col("doc_id").is_in(ids.implode()))

    update = dedupe_update(cleaned, empty(DEDUPE_INDEX), fetch, run_id, config)
    return update.records, update.duplicates


# -- the task: the index and the outputs in the lake ------------------------------------


def cleaned_reader(lake: Lake, locations: pl.DataFrame) -> Fetch:
    """Reads cleaned rows by doc_id from only the batch files that hold them.

    `locations` maps each doc_id of the lake's cleaned rows to one batch_id.
    """

    def fetch(ids: pl.Series) -> pl.DataFrame:
        wanted = locations.filter(pl.col("doc_id").is_in(ids.implode()))
        frames = [
            pl.scan_parquet(lake.stage_dir("cleaned") / f"{batch}.parquet")
            .filter(pl.col("doc_id").is_in(part["doc_id"].implode()))
            .select(CLEANED.names())
            .collect()
            for (batch,), part in wanted.group_by("batch_id", maintain_order=True)
        ]
        return pl.concat([empty(CLEANED), *frames])

    return fetch


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


def write_outputs(lake: Lake, update: DedupeUpdate, run_id: str, rebuild: bool) -> list[str]:
    """Replace the rows of every changed cluster in deduped/ and duplicates/.

    A cluster's rows live in the batch file of its kept copy, which is one of its
    members, so only the members' batch files change. On a rebuild every file does.
    Returns the batches whose files were rewritten or removed.
    """
    members = update.members["doc_id"].implode()
    touched = set(update.members["batch_id"]) | set(update.records["batch_id"])
    if rebuild:
        touched |= {p.stem for stage in ("deduped", "duplicates") for p in lake.files(stage)}
    for stage, frame in (("deduped", update.records), ("duplicates", update.duplicates)):
        written = []
        for batch in sorted(touched):
            path = lake.stage_dir(stage) / f"{batch}.parquet"
            before = pl.read_parquet(path) if path.exists() and not rebuild else frame.clear()
            part = pl.concat(
                [
                    before.filter(~pl.col("doc_id").is_in(members)),
                    frame.filter(pl.col("batch_id") == batch),
                ]
            ).sort("doc_id")
            if not part.is_empty():
                written += lake.write(part, stage, batch, run_id)
        lake.remove_except(stage, written, names=touched)
    return sorted(touched)


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
    # One batch per doc_id: a file re-ingested into another batch after a crash (before
    # the file manifest was written) is one document, not two.
    cleaned = (
        lake.scan("cleaned")
        .select("doc_id", "batch_id")
        .collect()
        .unique("doc_id", keep="first", maintain_order=True)
    )
    index = lake.scan("dedupe_index").collect()
    reason = rebuild_reason(lake, index, cleaned, config)
    if reason:
        get_run_logger().info("dedupe: rebuilding the index from cleaned/: %s", reason)
        index = empty(DEDUPE_INDEX)
    new = cleaned.join(index.select("doc_id"), on="doc_id", how="anti")
    touched: list[str] = []
    clusters = 0
    if not new.is_empty():
        fetch = cleaned_reader(lake, cleaned)
        update = dedupe_update(fetch(new["doc_id"]), index, fetch, run_id, config)
        touched = write_outputs(lake, update, run_id, rebuild=reason is not None)
        checkpoint("dedupe.before_index")
        # Last: until the index is written, the next run sees these documents as new.
        lake.write(update.index, "dedupe_index", INDEX_NAME, run_id)
        clusters = update.records.height
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
