"""Throughput of the clean stage's transform on a real corpus, per core.

Usage (from the repository root):

    POLARS_MAX_THREADS=1 .venv/bin/python -m benchmarks.clean_throughput \
        ../shared/corpus/bbc_fulltext/raw

Ingests the folder once (not timed), then times `clean_frame` over all its rows
(best of --repeat runs). With POLARS_MAX_THREADS=1 the figure is per core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.ingest import ingest_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files, _ = list_inputs(args.folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, args.folder, PipelineConfig(), "bench").ingested
    mb = ingested["body"].str.len_bytes().sum() / 1e6
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        cleaned, _, quarantined = clean_frame(ingested, dt.date.today())
        best = min(best, time.perf_counter() - started)
    threads = os.environ.get("POLARS_MAX_THREADS", "all")
    print(f"{ingested.height} docs, {mb:.1f} MB of body text, polars threads: {threads}")
    print(
        f"clean_frame best of {args.repeat}: {best:.2f} s -> "
        f"{ingested.height / best:,.0f} docs/s, {mb / best:.2f} MB/s"
    )
    print(f"rows cleaned {cleaned.height}, quarantined {quarantined.height}")


if __name__ == "__main__":
    main()
