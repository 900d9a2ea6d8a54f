"""The same corpus through the pipeline on threads and on a local Dask cluster.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.dask_vs_threads ../shared/corpus/bbc_fulltext/raw \\
        [--workers 2] [--batch-size 250] [--keep DIR]

Each runner writes a fresh lake in a temporary folder (or under --keep). Both runs
report to one Prefect server (a temporary one unless PREFECT_API_URL is set), so
neither pays for booting it. Prints both wall times (the Dask one includes starting
the cluster), the flow's own stage timings, and whether the lakes' rows are identical
(every stage, run ids aside: see tests/e2e/lake_rows.py).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from app.cli import PREFECT_DEFAULTS
from flows.runners import Runner


def timed_run(
    raw: Path, lake: Path, batch_size: int, runner: Runner, workers: int | None = None
) -> tuple[float, dict[str, Any]]:
    from flows.pipeline import newsflow_pipeline
    from flows.runners import flow_on_runner
    from newsflow.config import PipelineConfig

    pipeline = flow_on_runner(newsflow_pipeline, runner, None, workers)
    started = time.perf_counter()
    run = pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, batch_size=batch_size))
    return time.perf_counter() - started, run


def stage_line(run: dict[str, Any]) -> str:
    t = run["timings"]
    stages = ("ingest_clean_s", "dedupe_s", "enrich_s", "total_s")
    return ", ".join(f"{k.removesuffix('_s')} {t[k]:.1f} s" for k in stages if k in t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--keep", type=Path, help="write the two lakes here and keep them")
    args = parser.parse_args()
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)

    from benchmarks.compare_lakes import differing_stages
    from flows.runners import api_shared_with_workers

    root = args.keep or Path(tempfile.mkdtemp(prefix="newsflow-dask-vs-threads-"))
    raw = args.corpus.resolve()
    with api_shared_with_workers() as api_url:
        print(f"corpus {raw}; Prefect API {api_url}; lakes under {root}")
        threads_s, threads = timed_run(raw, root / "threads", args.batch_size, "threads")
        print(f"threads: {threads_s:.1f} s wall ({stage_line(threads)})")
        dask_s, dask = timed_run(raw, root / "dask", args.batch_size, "dask", args.workers)
        print(f"dask ({args.workers} workers): {dask_s:.1f} s wall ({stage_line(dask)})")
    differences = differing_stages(root / "threads", root / "dask")
    same_counts = threads["counts"] == dask["counts"]
    print(f"counts identical: {same_counts}; rows: {threads['counts'].get('enriched')} enriched")
    print("rows identical in every stage" if not differences else f"rows differ: {differences}")
    print(f"dask / threads wall time: {dask_s / threads_s:.2f}")


if __name__ == "__main__":
    main()
