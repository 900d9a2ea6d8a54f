"""Enrich in one process vs over worker processes: same rows out, how much faster?

Usage (from the repository root):

    .venv/bin/python benchmarks/enrich_workers.py /tmp/nf/c10k/docs [--rows 600] \
        [--enrichers all|cheap|name,name] [--workers 2]

Ingests, cleans and dedupes the folder (not timed), then enriches the first `--rows`
deduped rows twice: in-process (`NEWSFLOW_ENRICH_WORKERS=1`) and over `--workers`
processes. The pool is warmed up first (its model loads, once per run, are timed
apart), and the two outputs must be equal row for row (`assert_frame_equal`).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import polars as pl
from _common import dedupe_frame, run_stages
from polars.testing import assert_frame_equal
from run_flow import enricher_names

from newsflow.inputs import list_inputs
from tasks.enrich import enrich_frame, select_enrichers
from tasks.enrichers import workers


def enriched(
    rows: pl.DataFrame, names: list[str] | None, processes: int
) -> tuple[pl.DataFrame, float]:
    os.environ[workers.WORKERS_ENV] = str(processes)
    started = time.perf_counter()
    out = enrich_frame(rows, select_enrichers(names))
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--enrichers", default="all")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    names = enricher_names(args.enrichers)

    files, _ = list_inputs(args.folder)
    deduped, _ = dedupe_frame(run_stages(args.folder, files, "bench").cleaned, "bench")
    rows = deduped.head(args.rows)
    enriched(rows.head(20), names, 1)  # in-process model loads
    started = time.perf_counter()
    enriched(rows.head(workers.MIN_ROWS * args.workers), names, args.workers)
    print(
        f"pool warm-up (model loads in {args.workers} workers): "
        f"{time.perf_counter() - started:.1f} s"
    )

    single, single_s = enriched(rows, names, 1)
    pooled, pooled_s = enriched(rows, names, args.workers)
    assert_frame_equal(single, pooled)
    print(f"{rows.height} rows, enrichers {args.enrichers}: identical outputs")
    print("| processes | s | docs/s |")
    print("| --- | --- | --- |")
    for label, s in (("1 (in-process)", single_s), (f"{args.workers} workers", pooled_s)):
        print(f"| {label} | {s:.1f} | {rows.height / s:,.1f} |")
    print(f"speed-up: {single_s / pooled_s:.2f}x")


if __name__ == "__main__":
    main()
