"""MinHash signatures, LSH band keys and the verified similarity of candidate pairs.

Signatures come from rensa's Rust RMinHash, fed every document's shingle hashes at
once as one flat buffer with row offsets. On 5,000 BBC bodies (same shingles, 128
permutations, a busy 2-core machine) that made 63k-83k signatures/s, against 10k-16k
for a vectorised numpy version, 14k-17k for rensa fed Python lists and ~4k for
datasketch, with comparable Jaccard-estimate error (`benchmarks/minhash_compare.py`,
which holds the other versions).

LSH only proposes pairs: every candidate is verified on its real shingle sets, by
Jaccard |A∩B|/|A∪B| and by containment |A∩B|/min(|A|,|B|).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import rensa

from newsflow.config import DedupeConfig
from tasks.fingerprints import combine

# Written next to every stored band key: keys made by another algorithm never meet.
SIGNATURE_ALGORITHM = f"rensa-rminhash-v{rensa.RMinHash.ALGORITHM_VERSION}"
# Shingle sets made into signatures at once: all 40,000 sets of a verify partition at
# 1M documents at once rose its task ~250 MB (the flat copy, the rows as lists).
SIGNATURE_SETS = 5_000


def _flat(shingles: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """All shingle hashes in one array, and the row offsets into it."""
    lengths = shingles.list.len().to_numpy().astype(np.uint64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.uint64)
    np.cumsum(lengths, out=offsets[1:])
    flat = shingles.explode(empty_as_null=False).to_numpy().astype(np.uint64, copy=False)
    return flat, offsets


def signatures(shingles: pl.Series, config: DedupeConfig) -> np.ndarray:
    """MinHash signatures (rows × num_perm, uint32) of non-empty shingle sets, made
    `SIGNATURE_SETS` sets at a time: the flat buffer rensa reads is a copy of the sets,
    and its rows come back as Python lists."""
    made = [np.empty((0, config.num_perm), dtype=np.uint32)]
    for start in range(0, len(shingles), SIGNATURE_SETS):
        flat, offsets = _flat(shingles.slice(start, SIGNATURE_SETS))
        matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
            flat, offsets, config.num_perm, config.seed
        )
        rows = np.asarray(matrix.to_rows(), dtype=np.uint32)
        made.append(rows.reshape(-1, config.num_perm))
    return np.vstack(made)


def keys_of(sig: np.ndarray, config: DedupeConfig) -> pl.Series:
    """The band keys of signatures (rows × num_perm).

    The band's number is folded into its key, so one join on the key finds them.
    """
    rows = config.rows_per_band
    keys = np.empty((sig.shape[0], config.bands), dtype=np.uint64)
    for band in range(config.bands):
        columns = [sig[:, band * rows + r] for r in range(rows)]
        keys[:, band] = combine(columns, start=band + 1)
    return pl.Series("band_keys", keys, dtype=pl.Array(pl.UInt64, config.bands)).cast(
        pl.List(pl.UInt64)
    )


def signature_column(sig: np.ndarray) -> pl.Series:
    """Signatures (rows × num_perm) as a List(UInt32) column."""
    return pl.Series("signature", sig, dtype=pl.Array(pl.UInt32, sig.shape[1])).cast(
        pl.List(pl.UInt32)
    )


# A pair is verified unless its MinHash estimates sit this many standard errors below
# both thresholds: a true pair is dropped with odds under one in a million.
ESTIMATE_MARGIN = 5.0
ESTIMATE_CHUNK = 100_000


def plausible(
    a: np.ndarray, b: np.ndarray, sig: np.ndarray, counts: np.ndarray, config: DedupeConfig
) -> np.ndarray:
    """For each pair of rows (a[i], b[i]) of `sig` (signatures, rows x num_perm) and
    `counts` (shingle counts), whether its MinHash estimates could reach a verification
    threshold.

    LSH lets a pair through when any one band matches, so documents that share a
    paragraph or two become candidates by the thousand in a large corpus; verifying one
    reads both shingle sets, checking its estimate reads two signatures. With Jaccard
    J estimated from k permutations, the standard error is sqrt(J(1-J)/k); containment is
    estimated as J/(1+J)(|A|+|B|)/min(|A|,|B|), its error scaled alike. A pair is kept
    when either estimate plus `ESTIMATE_MARGIN` errors reaches its threshold.
    """
    same = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), ESTIMATE_CHUNK):
        end = start + ESTIMATE_CHUNK
        same[start:end] = (sig[a[start:end]] == sig[b[start:end]]).mean(axis=1)
    n_a = counts[a].astype(np.float64)
    n_b = counts[b].astype(np.float64)
    k = float(config.num_perm)
    clipped = np.clip(same, 1 / k, 1 - 1 / k)  # no zero error at an estimate of 0 or 1
    error = np.sqrt(clipped * (1 - clipped) / k)
    scale = (n_a + n_b) / ((1 + same) ** 2 * np.minimum(n_a, n_b))
    containment = same / (1 + same) * (n_a + n_b) / np.minimum(n_a, n_b)
    keep: np.ndarray = (same + ESTIMATE_MARGIN * error >= config.jaccard_threshold) | (
        containment + ESTIMATE_MARGIN * error * scale >= config.containment_threshold
    )
    return keep


def pair_similarity(pairs: pl.DataFrame, shingles: pl.DataFrame) -> pl.DataFrame:
    """`pairs` (doc_id, other_doc_id) with jaccard and containment of their shingle sets.

    `shingles` has doc_id and shingles (a set per document) for every id in `pairs`.
    """
    ids = pl.concat([pairs["doc_id"], pairs["other_doc_id"]]).unique().to_frame("doc_id")
    shingles = shingles.join(ids, on="doc_id", how="semi")
    sizes = shingles.select("doc_id", size=pl.col("shingles").list.len())
    long = shingles.select("doc_id", shingle="shingles").explode("shingle", empty_as_null=False)
    overlap = (
        pairs.join(long, on="doc_id")
        .join(long.rename({"doc_id": "other_doc_id"}), on=["other_doc_id", "shingle"], how="semi")
        .group_by("doc_id", "other_doc_id")
        .agg(shared=pl.len())
    )
    df = (
        pairs.join(overlap, on=["doc_id", "other_doc_id"], how="left", maintain_order="left")
        .join(sizes, on="doc_id", how="left", maintain_order="left")
        .join(
            sizes.rename({"doc_id": "other_doc_id", "size": "other_size"}),
            on="other_doc_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("shared").fill_null(0))
    )
    union = pl.col("size") + pl.col("other_size") - pl.col("shared")
    smaller = pl.min_horizontal("size", "other_size")
    return df.select(
        "doc_id",
        "other_doc_id",
        "size",
        "other_size",
        jaccard=pl.when(union > 0).then(pl.col("shared") / union).otherwise(0.0),
        containment=pl.when(smaller > 0).then(pl.col("shared") / smaller).otherwise(0.0),
    )


def in_window(config: DedupeConfig) -> pl.Expr:
    """With both dates known (`published_date`, `other_published_date`), they lie within
    the date window; always true without a window or a date."""
    if config.date_window_days is None:
        return pl.lit(True)
    gap = (pl.col("published_date") - pl.col("other_published_date")).dt.total_days().abs()
    return gap.fill_null(0) <= config.date_window_days


def near_method(config: DedupeConfig) -> pl.Expr:
    """near_jaccard, near_containment or null, over the columns of `pair_similarity` plus
    `published_date` and `other_published_date`.

    Both bodies need `min_shingles`; with both dates known they must lie within the
    date window. Jaccard is tried first: it is the stronger claim.
    """
    big_enough = pl.min_horizontal("size", "other_size") >= config.min_shingles
    ok = big_enough & in_window(config)
    return (
        pl.when(ok & (pl.col("jaccard") >= config.jaccard_threshold))
        .then(pl.lit("near_jaccard"))
        .when(ok & (pl.col("containment") >= config.containment_threshold))
        .then(pl.lit("near_containment"))
    )
