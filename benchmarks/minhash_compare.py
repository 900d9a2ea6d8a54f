"""Which MinHash implementation should dedupe use? datasketch, rensa and numpy, same input.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.minhash_compare ../shared/corpus/bbc_fulltext/raw \
        [--docs 5000] [--repeat 3]

Ingests and cleans the folder (`ingest_files` + `clean_frame`, not timed), computes
every body's sentence-bounded shingle hashes once (`tasks.fingerprints.shingle_sets`,
timed on its own), then times each implementation turning the same shingle sets into
`num_perm` signatures (best of --repeat). The folder's bodies are repeated to reach
--docs. Accuracy: each implementation's Jaccard estimate (share of equal signature
values) against the true Jaccard of 300 pairs of a body and a copy with sentences
removed, as mean absolute error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import rensa
from datasketch import MinHash

from newsflow.config import DedupeConfig, PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.text_rules import hash64
from tasks.clean import clean_frame
from tasks.fingerprints import KEY_BYTE_ORDER, shingle_sets
from tasks.ingest import ingest_files
from tasks.minhash import signatures

Signer = Callable[[pl.Series, DedupeConfig], np.ndarray]


def datasketch_signatures(shingles: pl.Series, config: DedupeConfig) -> np.ndarray:
    """datasketch's bulk API; the shingle hashes are already 64-bit, so identity hashing."""
    sets = [np.asarray(s, dtype=np.uint64) for s in shingles.to_list()]
    hashes = MinHash.bulk(
        sets, num_perm=config.num_perm, seed=config.seed, hashfunc=int, scheme="affine64"
    )
    return np.stack([m.hashvalues for m in hashes])


def numpy_signatures(shingles: pl.Series, config: DedupeConfig) -> np.ndarray:
    """The same kind of signature in numpy: multiply-shift permutations, one per pass."""
    lengths = shingles.list.len().to_numpy().astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    flat = shingles.explode(empty_as_null=False).to_numpy().astype(np.uint64, copy=False)
    a = np.array(
        [hash64(f"{config.seed}:a{i}", KEY_BYTE_ORDER) | 1 for i in range(config.num_perm)],
        np.uint64,
    )
    b = np.array(
        [hash64(f"{config.seed}:b{i}", KEY_BYTE_ORDER) for i in range(config.num_perm)], np.uint64
    )
    out = np.empty((len(starts), config.num_perm), dtype=np.uint32)
    for i in range(config.num_perm):
        out[:, i] = np.minimum.reduceat((a[i] * flat + b[i]) >> np.uint64(32), starts)
    return out


def rensa_per_document(shingles: pl.Series, config: DedupeConfig) -> np.ndarray:
    """rensa from a list of hash lists (one Python list per document)."""
    matrix = rensa.RMinHash.digest_matrix_from_token_hash_sets(
        shingles.to_list(), config.num_perm, config.seed
    )
    return np.asarray(matrix.to_rows(), dtype=np.uint32)


def cminhash(shingles: pl.Series, config: DedupeConfig) -> np.ndarray:
    """rensa's C-MinHash (circulant permutations), 64-bit digests."""
    rows = rensa.CMinHash.digests64_from_token_hash_sets(
        shingles.to_list(), config.num_perm, config.seed
    )
    return np.asarray(rows, dtype=np.uint64)


IMPLEMENTATIONS: dict[str, Signer] = {
    "datasketch 2.0 MinHash.bulk (affine64)": datasketch_signatures,
    "rensa RMinHash, list of hash sets": rensa_per_document,
    "rensa CMinHash, list of hash sets": cminhash,
    "numpy, multiply-shift, one pass per permutation": numpy_signatures,
    "rensa RMinHash, flat buffer + offsets (pipeline)": signatures,
}


def accuracy_pairs(bodies: list[str], n: int, seed: int = 7) -> tuple[pl.Series, list[float]]:
    """Pairs (body, body without some sentences): shingle sets, side by side, and true J."""
    rnd = random.Random(seed)
    left, right = [], []
    for text in rnd.sample(bodies, n):
        sentences = text.replace("\n\n", " ").split(". ")
        keep = [s for s in sentences if rnd.random() > rnd.choice([0.05, 0.2, 0.4])]
        left.append(text)
        right.append(". ".join(keep or sentences[:1]))
    sets = shingle_sets(pl.Series(left + right), DedupeConfig().shingle_size)
    a, b = sets[:n].to_list(), sets[n:].to_list()
    truth = [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a, b, strict=True)]
    return sets, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = DedupeConfig()

    files, _ = list_inputs(args.folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, args.folder, PipelineConfig(), "bench").ingested
    cleaned, _, _ = clean_frame(ingested, dt.date.today())
    bodies = cleaned["body"]
    bodies = pl.concat([bodies] * (args.docs // bodies.len() + 1)).head(args.docs)

    started = time.perf_counter()
    shingles = shingle_sets(bodies, config.shingle_size)
    shingle_s = time.perf_counter() - started
    total = int(shingles.list.len().sum())
    print(
        f"{bodies.len():,} bodies ({cleaned.height:,} distinct), {total:,} shingles "
        f"({config.shingle_size}-word, sentence-bounded), num_perm {config.num_perm}"
    )
    print(f"shingling (shared by all): {shingle_s:.2f} s, {bodies.len() / shingle_s:,.0f} docs/s")

    pairs, truth = accuracy_pairs(cleaned["body"].to_list(), 300)
    n = len(truth)
    print()
    print(f"| implementation | best of {args.repeat} (s) | signatures/s | Jaccard MAE |")
    print("| --- | --- | --- | --- |")
    for name, sign in IMPLEMENTATIONS.items():
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            sig = sign(shingles, config)
            best = min(best, time.perf_counter() - started)
        assert sig.shape == (bodies.len(), config.num_perm), name
        est = sign(pairs, config)
        mae = float(np.mean(np.abs((est[:n] == est[n:]).mean(axis=1) - np.array(truth))))
        print(f"| {name} | {best:.3f} | {bodies.len() / best:,.0f} | {mae:.4f} |")


if __name__ == "__main__":
    main()
