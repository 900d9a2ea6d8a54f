"""Seconds `short_links` takes at 1M indexed documents (synthetic keys, no text).

Usage (from the repository root):

    .venv/bin/python -m benchmarks.short_links_scale

Two shapes of 1,000,000 documents, each timed as one run (all new) and as a run adding
the last 10,000 to an index of the rest:

- `typical`: 3 % short bodies, a third of them sharing one of 200 furniture texts,
  every title distinct;
- `furniture-heavy`: 20 % short bodies sharing 500 texts, 50,000 titles, 10 % untitled,
  5 % undated (the worst case: every furniture group mixes titled, untitled and
  undated documents).
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import polars as pl

from newsflow.config import DedupeConfig
from tasks.short_links import short_links

N = 1_000_000
NEW = 10_000


def corpus(
    short_share: float,
    furniture_texts: int,
    shared_share: float,
    titles: int,
    untitled: float,
    undated: float,
    seed: int = 1,
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    short = rng.random(N) < short_share
    shared = short & (rng.random(N) < shared_share)
    key = np.where(shared, rng.integers(0, furniture_texts, N), np.arange(N) + furniture_texts)
    start = dt.date(2020, 1, 1)
    days = pl.Series(rng.integers(0, 1500, N)).cast(pl.Int32)
    return pl.DataFrame(
        {
            "doc_id": [f"d{i:07d}" for i in range(N)],
            "exact_key": key.astype(np.uint64),
            "sentence_key": key.astype(np.uint64),
            "title_key": pl.Series(rng.integers(0, titles, N).astype(np.uint64)).scatter(
                np.flatnonzero(rng.random(N) < untitled), None
            ),
            "short_body": short,
            "published_date": pl.Series([start + dt.timedelta(days=int(d)) for d in days]).scatter(
                np.flatnonzero(rng.random(N) < undated), None
            ),
        }
    )


def main() -> None:
    config = DedupeConfig()
    shapes = {
        "typical": corpus(0.03, 200, 0.3, 10**9, 0.0, 0.0),
        "furniture-heavy": corpus(0.2, 500, 1.0, 50_000, 0.1, 0.05),
    }
    for name, df in shapes.items():
        started = time.perf_counter()
        links = short_links(df, df.clear(), config)
        one = time.perf_counter() - started
        started = time.perf_counter()
        short_links(df.tail(NEW), df.head(N - NEW), config)
        more = time.perf_counter() - started
        print(f"{name}: one run {one:.1f} s ({links.height:,} links); +{NEW:,}: {more:.1f} s")


if __name__ == "__main__":
    main()
