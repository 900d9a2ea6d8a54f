"""dedupe: cleaned rows -> one record per article, a trace of every copy merged, and a
persistent index so that every run matches new documents against everything before.

Copies are linked three ways (fingerprints in tasks/fingerprints.py):

* `exact_body`: the same normalised body;
* `sentence_set`: the same set of normalised sentences, in any order (a headed copy
  with shuffled sentences meets its dated twin);
* `near_jaccard` / `near_containment`: MinHash LSH over sentence-bounded word shingles
  proposes pairs (tasks/minhash.py), each verified on the real shingle sets: Jaccard
  for edited copies, containment for a story inside a longer page or a flattened copy.
  Bodies under `min_shingles` never match this way. With both dates known, near
  duplicates must lie within `date_window_days`.

A short body (under `short_body_words` words: an author-bio teaser, a consent wall)
matches another, by key or as a near duplicate, only when their titles agree after
normalisation (or one has none) and their dates, when both are known, lie within the
window (tasks/short_links.py), so the furniture of different pages stays apart.

Clusters are the connected components of these links; tasks/merge.py turns each into
one record.

The lake task (index, scratch shuffles, output files) is tasks/dedupe_lake.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from newsflow.config import DedupeConfig
from newsflow.schema import CLEANED, DEDUPE_INDEX, DEDUPED, DUPLICATES, empty
from tasks.clusters import cluster_ids
from tasks.fingerprints import fingerprints, shingle_sets
from tasks.merge import merge_clusters
from tasks.minhash import (
    SIGNATURE_ALGORITHM,
    candidate_pairs,
    in_window,
    keys_of,
    near_method,
    pair_similarity,
    plausible,
    signature_column,
    signature_matrix,
    signatures,
)
from tasks.short_links import short_links, titles_agree

# fingerprint_v2: the index keeps each document's MinHash signature.
# fingerprint_v3: words of unspaced scripts are letters (tasks/words.py), so Chinese,
# Japanese and Thai bodies get letter shingles; 。！？ end sentences.
# fingerprint_v4: keys without the title; short bodies flagged, matched under an agreeing
# title and date (tasks/short_links.py).
FINGERPRINT_VERSION = "fingerprint_v4"
# What a record holds; a new version rebuilds the index and rewrites every record.
# records_v2: deduped rows carry site_name. records_v3: the source's fields and the flags.
# records_v4: a truncated copy's body loses to a complete one (tasks/merge.py).
RECORD_VERSION = "records_v4"
# Candidate pairs verified at a time: the shingle sets of at most twice as many
# documents (~3 KB each, plus their exploded table while verifying) are held at once.
VERIFY_CHUNK = 5_000
# Documents merged at a time (whole clusters, so a chunk can be a little larger): their
# cleaned rows and shingle sets are what a chunk holds.
MERGE_CHUNK = 4_000
# Returns the cleaned rows of the given (already indexed) doc_ids.
Fetch = Callable[[pl.Series], pl.DataFrame]
# Returns doc_id and shingles (the set of shingle hashes) of the given doc_ids.
ShingleFetch = Callable[[pl.Series], pl.DataFrame]
# Candidate pairs (doc_id, other_doc_id, published_date, other_published_date) in
# `VERIFY_CHUNK` slices -> the (doc_id, other_doc_id) that are near duplicates.
Verify = Callable[[list[pl.DataFrame]], pl.DataFrame]
SHINGLES = pl.List(pl.UInt64)


def settings_id(config: DedupeConfig) -> str:
    """Everything stored keys and links depend on; a change rebuilds the index."""
    return (
        f"{FINGERPRINT_VERSION} {RECORD_VERSION} {SIGNATURE_ALGORITHM} {config.model_dump_json()}"
    )


@dataclass(frozen=True)
class DedupeUpdate:
    records: pl.DataFrame  # DEDUPED rows of every cluster that gained a document
    duplicates: pl.DataFrame  # DUPLICATES rows of those clusters
    index: pl.DataFrame  # the whole index after the update
    members: pl.DataFrame  # doc_id, batch_id of every document in those clusters


def near_links(
    new: pl.DataFrame, index: pl.DataFrame, verify: Verify, config: DedupeConfig
) -> pl.DataFrame:
    """doc_id -> near_doc_ids: verified near duplicates of new (indexed) documents.

    Documents with the same sentence set and date have the same shingles and the same
    window, so one representative of each is searched (the smallest doc_id), and only
    for shapes the index does not hold yet. A pair of two new documents is kept once.
    `verify` checks the candidate pairs, handed over `VERIFY_CHUNK` at a time.
    """
    # A short body's title is part of its shape: it decides what the body may match.
    shape = ["sentence_key", "published_date", "shape_title"]
    columns = ["doc_id", "exact_key", "sentence_key", "published_date", "band_keys"]
    columns += ["signature", "shingle_count", "title_key", "short_body"]
    searchable = pl.col("shingle_count") >= config.min_shingles
    shape_title = pl.when("short_body").then("title_key").alias("shape_title")
    old = (
        index.filter(searchable)
        .with_columns(shape_title)
        .sort("doc_id")
        .unique(shape, keep="first", maintain_order=True)
    )
    reps = (
        new.filter(searchable)
        .with_columns(shape_title)
        .join(old.select(shape), on=shape, how="anti", nulls_equal=True)
        .sort("doc_id")
        .unique(shape, keep="first", maintain_order=True)
    )
    none = pl.DataFrame(schema={"doc_id": pl.String, "near_doc_ids": pl.List(pl.String)})
    if reps.is_empty():
        return none
    pool = pl.concat([old.select(columns), reps.select(columns)])
    hits = candidate_pairs(reps, pool, worth_verifying(pool, reps.height, config))
    pairs = hits.join(
        pool.select("doc_id", "published_date"), on="doc_id", how="left", maintain_order="left"
    ).join(
        pool.select(other_doc_id="doc_id", other_published_date="published_date"),
        on="other_doc_id",
        how="left",
        maintain_order="left",
    )
    pairs = pairs.sort("doc_id", "other_doc_id")
    if pairs.is_empty():
        return none
    verified = verify(list(pairs.iter_slices(VERIFY_CHUNK)))
    return verified.group_by("doc_id").agg(near_doc_ids=pl.col("other_doc_id").sort())


def worth_verifying(
    pool: pl.DataFrame, new: int, config: DedupeConfig
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A filter for `candidate_pairs` hits (q: row of the query, whose document is pool
    row q + len(pool) - `new`; p: row of the pool) keeping the pairs worth verifying.

    The pool's last `new` rows are the new documents; a pair of two new documents is
    kept once (smaller doc_id first). Pairs already linked by a key are dropped, as are
    pairs outside the date window (exact: verification refuses them), pairs with a short
    body whose titles disagree (tasks/short_links.py) and pairs whose MinHash estimates
    leave no chance of passing (`plausible`). All of it works on row
    numbers, so the millions of pairs two documents sharing a paragraph make in a large
    corpus are never joined to ids.
    """
    offset = pool.height - new
    rows = pool.select(
        doc=pl.col("doc_id").rank("dense").cast(pl.UInt32),
        is_new=pl.int_range(pl.len()) >= offset,
        exact=pl.col("exact_key").rank("dense"),
        sentence=pl.col("sentence_key").rank("dense"),
        title=pl.col("title_key").rank("dense"),
        short="short_body",
        published_date="published_date",
    )
    sig = signature_matrix(pool["signature"], config)
    counts = pool["shingle_count"].to_numpy()

    def keep(hits: pl.DataFrame) -> pl.DataFrame:
        a = hits["q"].cast(pl.UInt32) + offset
        b = hits["p"].cast(pl.UInt32)
        mine = rows.select(pl.all().gather(a))
        other = rows.select(pl.all().gather(b)).rename(lambda c: f"other_{c}")
        pairs = pl.concat([hits.select("q", "p"), mine, other], how="horizontal").filter(
            (~pl.col("other_is_new") | (pl.col("doc") < pl.col("other_doc")))
            & (pl.col("doc") != pl.col("other_doc"))
            & (pl.col("exact") != pl.col("other_exact"))
            & (pl.col("sentence") != pl.col("other_sentence"))
            & in_window(config)
            & (
                ~(pl.col("short") | pl.col("other_short"))
                | titles_agree(pl.col("title"), pl.col("other_title"))
            )
        )
        if pairs.is_empty():
            return pairs.select("q", "p")
        mine_rows = (pairs["q"].cast(pl.UInt32) + offset).to_numpy()
        mask = plausible(mine_rows, pairs["p"].to_numpy(), sig, counts, config)
        return pairs.select("q", "p").filter(pl.Series(mask))

    return keep


def verified_pairs(
    pairs: pl.DataFrame, shingles: pl.DataFrame, config: DedupeConfig
) -> pl.DataFrame:
    """The pairs (doc_id, other_doc_id) of `pairs` that are near duplicates, judged on
    `shingles` (doc_id, shingles) of their documents."""
    similar = pair_similarity(pairs.select("doc_id", "other_doc_id"), shingles).join(
        pairs, on=["doc_id", "other_doc_id"]
    )
    return similar.filter(near_method(config).is_not_null()).select("doc_id", "other_doc_id")


def pair_ids(pairs: pl.DataFrame) -> pl.Series:
    return pl.concat([pairs["doc_id"], pairs["other_doc_id"]]).unique()


def verify_in_memory(shingles_of: ShingleFetch, config: DedupeConfig) -> Verify:
    """Verify each slice of pairs on the shingles `shingles_of` returns for its ids."""

    def verify(slices: list[pl.DataFrame]) -> pl.DataFrame:
        found = [verified_pairs(p, shingles_of(pair_ids(p)), config) for p in slices]
        return pl.concat(found)

    return verify


def indexed(new: pl.DataFrame, run_id: str, config: DedupeConfig) -> pl.DataFrame:
    """Fingerprints of new cleaned rows: index columns plus `shingles` (not stored)."""
    fp = fingerprints(new, config).with_columns(
        batch_id=new["batch_id"], published_date=new["published_date"]
    )
    searchable = fp.filter(pl.col("shingle_count") >= config.min_shingles)
    sig = signatures(searchable["shingles"], config)
    bands = searchable.select(
        "doc_id", band_keys=keys_of(sig, config), signature=signature_column(sig)
    )
    return fp.join(bands, on="doc_id", how="left", maintain_order="left").with_columns(
        band_keys=pl.col("band_keys").fill_null(pl.lit([], pl.List(pl.UInt64))),
        signature=pl.col("signature").fill_null(pl.lit([], pl.List(pl.UInt32))),
        kept_doc_id=pl.lit(None, pl.String),
        settings=pl.lit(settings_id(config)),
        run_id=pl.lit(run_id),
    )


@dataclass(frozen=True)
class Linked:
    docs: pl.DataFrame  # the whole index with the new documents, and each one's cluster
    members: pl.DataFrame  # docs of every cluster that gained a document


def linked(fp: pl.DataFrame, index: pl.DataFrame, verify: Verify, config: DedupeConfig) -> Linked:
    """Clusters of the index plus the new documents `fp` (index columns, shingles not
    needed); only ids and keys are held."""
    links = near_links(fp, index, verify, config)
    added = fp.join(links, on="doc_id", how="left", maintain_order="left").with_columns(
        near_doc_ids=pl.col("near_doc_ids").fill_null(pl.lit([], pl.List(pl.String)))
    )
    docs = pl.concat([index, added.select(DEDUPE_INDEX.names())])
    docs = with_links(docs, short_links(fp, index, config))
    docs = docs.with_columns(cluster=cluster_ids(docs))
    changed = docs.join(fp.select("doc_id"), on="doc_id", how="semi")["cluster"].unique()
    members = docs.filter(pl.col("cluster").is_in(changed.implode())).select(
        "doc_id", "batch_id", "cluster", "exact_key", "sentence_key", "title_key", "short_body"
    )
    return Linked(docs=docs, members=members)


def with_links(docs: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """`docs` with each link (doc_id, other_doc_id) added to its doc's `near_doc_ids`
    (a link between two indexed documents changes an indexed row)."""
    if links.is_empty():
        return docs
    extra = links.group_by("doc_id").agg(extra="other_doc_id")
    return (
        docs.join(extra, on="doc_id", how="left", maintain_order="left")
        .with_columns(
            near_doc_ids=pl.when(pl.col("extra").is_null())
            .then("near_doc_ids")
            .otherwise(pl.concat_list("near_doc_ids", "extra").list.unique().list.sort())
        )
        .drop("extra")
    )


def merge_plan(members: pl.DataFrame) -> pl.DataFrame:
    """`members` with `chunk` (whole clusters, about `MERGE_CHUNK` documents each) and
    `size` (of the document's cluster).

    Clusters are taken in the order of their first batch, then id: the same members
    always make the same chunks.
    """
    sizes = (
        members.group_by("cluster")
        .agg(first_batch=pl.col("batch_id").min(), size=pl.len())
        .sort("first_batch", "cluster")
        .with_columns(chunk=(pl.col("size").cum_sum() - pl.col("size")) // MERGE_CHUNK)
    )
    return members.join(sizes.select("cluster", "chunk", "size"), on="cluster")


def keyed_rows(rows: pl.DataFrame, part: pl.DataFrame, shingles: pl.DataFrame) -> pl.DataFrame:
    """Cleaned `rows` of planned members `part` with their keys, cluster, chunk and
    shingle set (`shingles`: doc_id, shingles; only documents with a copy need one)."""
    return (
        rows.select(CLEANED.names())
        .unique("doc_id", keep="first", maintain_order=True)
        .join(
            part.select(
                "doc_id", "exact_key", "sentence_key", "title_key", "short_body", "cluster", "chunk"
            ),
            on="doc_id",
        )
        .join(shingles, on="doc_id", how="left", maintain_order="left")
        .with_columns(shingles=pl.col("shingles").fill_null(pl.lit([], SHINGLES)))
    )


def copies_of(part: pl.DataFrame) -> pl.Series:
    """Ids of planned members that have a copy: only they are compared with each other."""
    return part.filter(pl.col("size") > 1)["doc_id"]


def merged_chunks(
    members: pl.DataFrame, rows_of: Fetch, run_id: str, config: DedupeConfig
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(records, duplicates) of `members`' clusters, a chunk at a time (in memory: the
    lake task brings each chunk's rows together with a shuffle instead). Records keep
    their `cluster` column."""
    for (_,), part in merge_plan(members).group_by("chunk", maintain_order=True):
        rows = rows_of(part["doc_id"]).unique("doc_id", keep="first", maintain_order=True)
        copies = rows.filter(pl.col("doc_id").is_in(copies_of(part).implode()))
        shingles = copies.select(
            "doc_id", shingles=shingle_sets(copies["body"], config.shingle_size)
        )
        yield merge_clusters(keyed_rows(rows, part, shingles).drop("chunk"), run_id, config)


def updated_index(docs: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """The index with each rewritten cluster's kept doc_id (`kept`: cluster, new_kept)."""
    return (
        docs.join(kept, on="cluster", how="left", maintain_order="left")
        .with_columns(kept_doc_id=pl.coalesce("new_kept", "kept_doc_id"))
        .sort("doc_id")
        .select(DEDUPE_INDEX.names())
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
    All in memory; the `dedupe` task does the same a batch and a chunk at a time.
    """
    config = config or DedupeConfig()
    new = new.unique("doc_id", keep="first", maintain_order=True).join(
        index.select("doc_id"), on="doc_id", how="anti"
    )
    fp = indexed(new, run_id, config)

    def shingles_of(ids: pl.Series) -> pl.DataFrame:
        mine = fp.filter(pl.col("doc_id").is_in(ids.implode())).select("doc_id", "shingles")
        rest = ids.filter(~ids.is_in(fp["doc_id"].implode()))
        old = fetch(rest) if rest.len() else empty(CLEANED)
        shingled = old.select("doc_id", shingles=shingle_sets(old["body"], config.shingle_size))
        return pl.concat([mine, shingled])

    def rows_of(ids: pl.Series) -> pl.DataFrame:
        mine = new.filter(pl.col("doc_id").is_in(ids.implode())).select(CLEANED.names())
        rest = ids.filter(~ids.is_in(new["doc_id"].implode()))
        return pl.concat(
            [mine, fetch(rest).select(CLEANED.names()) if rest.len() else empty(CLEANED)]
        )

    links = linked(fp.drop("shingles"), index, verify_in_memory(shingles_of, config), config)
    parts = list(merged_chunks(links.members, rows_of, run_id, config))
    no_records = empty(DEDUPED).with_columns(cluster=pl.lit(None, pl.String))
    records = pl.concat([r for r, _ in parts]) if parts else no_records
    duplicates = pl.concat([empty(DUPLICATES)] + [d.select(DUPLICATES.names()) for _, d in parts])
    return DedupeUpdate(
        records=records.sort("doc_id").select(DEDUPED.names()),
        duplicates=duplicates.sort("doc_id"),
        index=updated_index(links.docs, records.select("cluster", new_kept="doc_id")),
        members=links.members.select("doc_id", "batch_id"),
    )


def dedupe_frame(
    cleaned: pl.DataFrame, run_id: str, config: DedupeConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse copies among `cleaned` (no index). Returns (deduped rows, duplicates)."""

    def fetch(ids: pl.Series) -> pl.DataFrame:
        return cleaned.filter(pl.col("doc_id").is_in(ids.implode()))

    update = dedupe_update(cleaned, empty(DEDUPE_INDEX), fetch, run_id, config)
    return update.records, update.duplicates
