"""dedupe's rules, phase by phase, as pure polars transforms: what copies are, which
pairs are worth verifying, clusters, the merge plan. tasks/dedupe_stage.py runs them as
Prefect tasks over partitions of the lake's scratch area.

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
one record. Every rule here is a fact about one document, one pair or one cluster, so
how the documents are split into partitions changes no output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from newsflow.config import DedupeConfig
from newsflow.schema import CLEANED
from tasks.clusters import cluster_ids
from tasks.fingerprints import fingerprints
from tasks.minhash import (
    SIGNATURE_ALGORITHM,
    in_window,
    keys_of,
    near_method,
    pair_similarity,
    plausible,
    signature_column,
    signatures,
)
from tasks.short_links import short_links, titles_agree

# fingerprint_v2: the index keeps each document's MinHash signature.
# fingerprint_v3: words of unspaced scripts are letters (newsflow/text_rules.py), so Chinese,
# Japanese and Thai bodies get letter shingles; 。！？ end sentences.
# fingerprint_v4: keys without the title; short bodies flagged, matched under an agreeing
# title and date (tasks/short_links.py).
FINGERPRINT_VERSION = "fingerprint_v4"
# What a record holds; a new version rebuilds the index and rewrites every record.
# records_v2: deduped rows carry site_name. records_v3: the source's fields and the flags.
# records_v4: a truncated copy's body loses to a complete one (tasks/merge.py).
RECORD_VERSION = "records_v4"
# Documents merged in one partition (whole clusters, so a partition can be a little
# larger): their cleaned rows and shingle sets are what a merge task holds.
MERGE_CHUNK = 4_000
# Shingles (both sets of each pair, summed) of the candidate pairs judged at once:
# judging explodes the sets and joins them on (document, shingle), so this, not a
# partition's pairs nor its documents' lengths, bounds what a verify task holds for it.
# At 1M documents 1,000 pairs (~690 shingles each) at once rose a task 130 MB.
JUDGED_SHINGLES = 300_000
SHINGLES = pl.List(pl.UInt64)
# What a candidate pair needs of each of its documents to be judged worth verifying.
PAIR_COLUMNS = [
    "doc_id",
    "batch_id",
    "exact_key",
    "sentence_key",
    "title_key",
    "short_body",
    "published_date",
]
NO_NEAR = pl.DataFrame(schema={"doc_id": pl.String, "near_doc_ids": pl.List(pl.String)})


def settings_id(config: DedupeConfig) -> str:
    """Everything stored keys and links depend on; a change rebuilds the index."""
    return (
        f"{FINGERPRINT_VERSION} {RECORD_VERSION} {SIGNATURE_ALGORITHM} {config.model_dump_json()}"
    )


# Documents with the same sentence set and date have the same shingles and the same
# window: one representative of each shape (the smallest doc_id) is searched. A short
# body's title is part of its shape: it decides what the body may match.
SHAPE = ["sentence_key", "published_date", "shape_title"]


def band_search(
    new: pl.DataFrame, old: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(query, pool, stored) of the near-duplicate search in one band partition, from
    the band rows (PAIR_COLUMNS and key) of the new searchable documents (`new`) and of
    the index's representatives (`old`).

    The query is the new representatives of shapes the index does not hold yet; the
    pool the index's representatives; `stored` the partition's representatives after
    the run. Documents of one shape have the same band keys, so each partition sees
    every document of the shapes it holds, and its representatives are the corpus's.
    """
    shape_title = pl.when("short_body").then("title_key").alias("shape_title")
    first = pl.col("doc_id") == pl.col("doc_id").min().over(SHAPE)
    old = old.with_columns(shape_title)
    new = new.with_columns(shape_title)
    query = new.join(old.select(SHAPE).unique(), on=SHAPE, how="anti", nulls_equal=True)
    stored = pl.concat([old, new]).filter(first).unique().sort("key", "doc_id")
    return (
        query.filter(first).drop("shape_title"),
        old.drop("shape_title"),
        stored.drop("shape_title"),
    )


def document_keys(fp: pl.DataFrame) -> pl.DataFrame:
    """key, doc_id: each document's exact and sentence-set keys (what a new document is
    linked to an indexed one by)."""
    keys = [fp.select(key=c, doc_id="doc_id") for c in ("exact_key", "sentence_key")]
    return pl.concat(keys).drop_nulls("key").unique(maintain_order=True)


def band_partition(docs: pl.DataFrame, part: int, parts: int) -> pl.DataFrame:
    """One row per band key of `docs` (PAIR_COLUMNS plus band_keys) in partition `part`
    of `parts`: the key's value modulo `parts`. Keys are hashes, so partitions are even."""
    keys = docs.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        key=pl.col("band_keys").list.filter(pl.element() % parts == part),
    ).explode("key", empty_as_null=False)
    keys = keys.drop_nulls("key")
    return docs.select(PAIR_COLUMNS)[keys["row"]].with_columns(key=keys["key"])


def partition_candidates(
    query: pl.DataFrame, old: pl.DataFrame, config: DedupeConfig
) -> pl.DataFrame:
    """Pairs (doc_id, other_doc_id, batch ids, dates) worth verifying among the band rows
    (`band_partition`) of one partition: a query row and a row of the pool (`old`, the
    index's representatives, and the query) sharing a key.

    A pair of two query documents is kept once (smaller doc_id first). Pairs already
    linked by a key are dropped, as are pairs outside the date window (exact:
    verification refuses them) and pairs with a short body whose titles disagree
    (tasks/short_links.py). The MinHash estimate (`plausible`) needs signatures, so the
    verify phase applies it.
    """
    pool = pl.concat(
        [old.with_columns(is_new=pl.lit(False)), query.with_columns(is_new=pl.lit(True))]
    )
    hits = query.join(pool.rename(lambda c: c if c == "key" else f"other_{c}"), on="key")
    pairs = hits.filter(
        (~pl.col("other_is_new") | (pl.col("doc_id") < pl.col("other_doc_id")))
        & (pl.col("doc_id") != pl.col("other_doc_id"))
        & (pl.col("exact_key") != pl.col("other_exact_key"))
        & (pl.col("sentence_key") != pl.col("other_sentence_key"))
        & in_window(config)
        & (
            ~(pl.col("short_body") | pl.col("other_short_body"))
            | titles_agree(pl.col("title_key"), pl.col("other_title_key"))
        )
    )
    return pairs.select(
        "doc_id",
        "other_doc_id",
        "batch_id",
        "other_batch_id",
        "published_date",
        "other_published_date",
    ).unique(["doc_id", "other_doc_id"])


@dataclass
class VerifyPacking:
    """Verify partitions of at most `limit` candidate pairs, filled one bucket at a time
    (`place`): a bucket joins the open partition when it fits and opens the next one
    when it does not; a bucket over `limit` is cut, in doc_id order, over partitions of
    its own. A task's pairs, and so the shingle sets it holds, stay bounded however many
    pairs a document has."""

    limit: int
    filling: int = 0  # the partition being filled
    held: int = 0  # its pairs

    def place(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """`pairs` (one bucket's, unique) with the verify partition of each (`part`)."""
        if self.held and self.held + pairs.height > self.limit:
            self.filling, self.held = self.filling + 1, 0
        if pairs.height <= self.limit:
            self.held += pairs.height
            return pairs.with_columns(part=pl.lit(self.filling, pl.Int64))
        cuts = -(-pairs.height // self.limit)
        size = -(-pairs.height // cuts)
        first = self.filling
        self.filling = first + cuts
        part = first + pl.int_range(pl.len(), dtype=pl.Int64) // size
        return pairs.sort("doc_id", "other_doc_id").with_columns(part=part)


def verified_partition(
    pairs: pl.DataFrame, shingles: pl.DataFrame, config: DedupeConfig
) -> pl.DataFrame:
    """The pairs of one partition (doc_id, other_doc_id and their dates) that are near
    duplicates: first those whose MinHash estimates could pass (`plausible`, on
    signatures made again from the shingle sets: the same as the stored ones), then
    judged on the real sets (`shingles`: doc_id, shingles of every id in `pairs`),
    `JUDGED_SHINGLES` at a time."""
    if pairs.is_empty():
        return pairs.select("doc_id", "other_doc_id")
    # A set read twice (a retried route) would double its pairs; copying every set to
    # make them unique would double the task's largest holding.
    docs = shingles.unique("doc_id") if shingles["doc_id"].is_duplicated().any() else shingles
    sig = signatures(docs["shingles"], config)
    counts = docs["shingles"].list.len().cast(pl.Int64).to_numpy()
    rows = docs.select("doc_id", row=pl.int_range(pl.len(), dtype=pl.UInt32))
    numbered = pairs.join(rows, on="doc_id").join(
        rows.rename({"doc_id": "other_doc_id", "row": "other_row"}), on="other_doc_id"
    )
    keep = plausible(
        numbered["row"].to_numpy().astype(np.int64),
        numbered["other_row"].to_numpy().astype(np.int64),
        sig,
        counts,
        config,
    )
    kept = numbered.filter(pl.Series(keep))
    del numbered
    both = counts[kept["row"].to_numpy()] + counts[kept["other_row"].to_numpy()]
    kept = kept.drop("row", "other_row").with_columns(
        chunk=pl.Series(np.cumsum(both) // JUDGED_SHINGLES, dtype=pl.Int64)
    )
    judged = [
        verified_pairs(chunk.drop("chunk"), docs, config)
        for chunk in kept.partition_by("chunk", maintain_order=True)
    ]
    return pl.concat([kept.clear().select("doc_id", "other_doc_id"), *judged])


def near_links(verified: pl.DataFrame) -> pl.DataFrame:
    """doc_id -> near_doc_ids (sorted) from verified pairs (doc_id, other_doc_id)."""
    if verified.is_empty():
        return NO_NEAR
    return verified.group_by("doc_id").agg(near_doc_ids=pl.col("other_doc_id").sort())


def verified_pairs(
    pairs: pl.DataFrame, shingles: pl.DataFrame, config: DedupeConfig
) -> pl.DataFrame:
    """The pairs (doc_id, other_doc_id) of `pairs` that are near duplicates, judged on
    `shingles` (doc_id, shingles) of their documents."""
    similar = pair_similarity(pairs.select("doc_id", "other_doc_id"), shingles).join(
        pairs, on=["doc_id", "other_doc_id"]
    )
    return similar.filter(near_method(config).is_not_null()).select("doc_id", "other_doc_id")


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


def linked(
    fp: pl.DataFrame, index: pl.DataFrame, near: pl.DataFrame, config: DedupeConfig
) -> Linked:
    """Clusters of the index plus the new documents `fp` (index columns, shingles not
    needed) with their verified near duplicates `near` (doc_id, near_doc_ids); only ids
    and keys are held.

    The caller hands over `fp` (no other reference): it is let go once joined, so a
    first run over a million documents holds one copy of them fewer."""
    new_ids = fp.select("doc_id")
    links = short_links(fp, index, config)
    added = fp.join(near, on="doc_id", how="left", maintain_order="left").with_columns(
        near_doc_ids=pl.col("near_doc_ids").fill_null(pl.lit([], pl.List(pl.String)))
    )
    del fp
    docs = pl.concat([index, added.select(index.columns)])
    del added
    docs = with_links(docs, links)
    docs = docs.with_columns(cluster=cluster_ids(docs))
    changed = docs.join(new_ids, on="doc_id", how="semi")["cluster"].unique()
    columns = ["doc_id", "batch_id", "cluster", "exact_key", "sentence_key", "title_key"]
    if changed.len() == docs["cluster"].n_unique():  # every cluster changed: no copy
        members = docs.select(*columns, "short_body")
    else:
        members = docs.filter(pl.col("cluster").is_in(changed.implode())).select(
            *columns, "short_body"
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
