"""How a long-lived Dask worker's memory grows with the number of ingest tasks it has run.

Usage (from the repository root; `--mode flow` needs a Prefect server in PREFECT_API_URL):

    .venv/bin/python -m benchmarks.worker_growth --input CORPUS/docs --work DIR \
        --mode {pure,flow} [--batch-size 100] [--tasks 120] [--release] [--trace types|malloc]

One worker process (LocalCluster, one thread, no memory limit, the TaskCosts plugin of
`benchmarks/worker_memory.py`) runs the ingest batches of `--input`:

* `pure`: the ingest function itself, `client.submit(ingest.fn, ...)`, one batch after
  another: Dask alone. Futures are kept to the end (as the flow keeps a stage's
  futures) unless `--release`;
* `flow`: the real entry point, `newsflow run --runner dask --dask-address <it>
  --stop-after clean`, into a fresh lake.

RSS is each ingest execution's `rss_start` (what the nanny's limit watches). `--trace
types` prints the object types that grew in the worker between the 10th and the
`--tasks`th ingest execution (gc.get_objects); `malloc` adds tracemalloc's top lines
(slow). Prints one JSON line: RSS before ingest executions 1, 10 and the last, and the
growth per task over executions 10..last (MB; the first ten include imports and warm-up).
`--record` appends it to `benchmarks/results/worker_growth.json` (commit, machine).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

MB = 1e6


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def trace_start() -> None:
    tracemalloc.start(1)


_SNAPSHOTS: dict[str, Any] = {}


def trace_mark(name: str) -> dict[str, int]:
    gc.collect()
    if tracemalloc.is_tracing():
        _SNAPSHOTS[name] = tracemalloc.take_snapshot()
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    _SNAPSHOTS[name + "-types"] = counts
    return {"rss": rss()}


def trace_diff(a: str, b: str) -> str:
    lines = []
    stats = _SNAPSHOTS[b].compare_to(_SNAPSHOTS[a], "lineno") if a in _SNAPSHOTS else []
    for stat in stats[:12]:
        lines.append(f"{stat.size_diff / MB:8.2f} MB {stat.count_diff:+7d} blocks")
        lines.extend("      " + line for line in stat.traceback.format()[-2:])
    types = _SNAPSHOTS[b + "-types"] - _SNAPSHOTS[a + "-types"]
    lines.append("object types grown: " + repr(types.most_common(15)))
    return "\n".join(lines)


def result_caches() -> list[tuple[int, int]]:
    """Prefect's in-memory result caches alive in this process: (entries, pickled bytes)."""
    import pickle

    from cachetools import LRUCache

    found = []
    for obj in gc.get_objects():
        if isinstance(obj, LRUCache) and len(obj):
            size = sum(len(pickle.dumps(getattr(r, "result", None))) for r in obj.values())
            found.append((len(obj), size))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--mode", choices=["pure", "flow"])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=120)
    parser.add_argument("--release", action="store_true")
    parser.add_argument(
        "--record", action="store_true", help="append to results/worker_growth.json"
    )
    parser.add_argument("--trace", choices=["types", "malloc"], default=None)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    # by reference (this module, not __main__), so the marks persist in the worker
    from benchmarks import worker_growth as here
    from benchmarks.worker_memory import TaskCosts
    from flows.plan import plan_run, prepare_lake
    from newsflow.config import PipelineConfig
    from newsflow.lake import Lake
    from tasks.ingest import ingest

    lake_dir = args.work / f"lake-{args.mode}{'-release' if args.release else ''}"
    config = PipelineConfig(input_dir=args.input, lake_dir=lake_dir, batch_size=args.batch_size)
    run_id = f"growth-{os.getpid()}"
    shutil.rmtree(lake_dir, ignore_errors=True)
    if args.mode == "pure":
        prepare_lake(Lake(lake_dir), full_refresh=True)
        batches = list(plan_run.fn(config, run_id).batches)[: args.tasks]

    samples: list[int] = []
    trace_text = ""
    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, memory_limit=0, dashboard_address=None
    )
    client = Client(cluster)
    costs = args.work / f"costs-{run_id}"
    client.register_plugin(TaskCosts(str(costs)))
    if args.trace == "malloc":
        client.run(here.trace_start)
    if args.mode == "pure":
        held = []
        for i, batch in enumerate(batches):
            future = client.submit(ingest.fn, batch, config, run_id, pure=False, key=f"ingest-{i}")
            future.result()
            if not args.release:
                held.append(future)
            del future
            if args.trace and i == 9:
                client.run(here.trace_mark, "a")
    else:  # the real entry point, its flow's tasks on this cluster
        command = [
            str(Path(sys.executable).parent / "newsflow"),
            "run",
            "--input",
            str(args.input),
            "--lake",
            str(lake_dir),
            "--batch-size",
            str(args.batch_size),
            "--stop-after",
            "clean",
            "--runner",
            "dask",
            "--dask-address",
            cluster.scheduler_address,
        ]
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        marks = {10: "a", args.tasks: "b"} if args.trace else {}
        while run.poll() is None:
            time.sleep(0.2)
            done = sum('"key": "ingest' in line for f in costs.glob("*.jsonl") for line in f.open())
            for at in [at for at in marks if done >= at]:
                client.run(here.trace_mark, marks.pop(at))
        print("ingest executions seen:", done, "marks left:", marks)
        for name in marks.values():
            client.run(here.trace_mark, name)
        if run.returncode:
            raise SystemExit(f"newsflow run failed: {run.returncode}")
    print("result caches in the worker:", client.run(here.result_caches))
    if args.trace and args.mode == "pure":
        client.run(here.trace_mark, "b")
    if args.trace:
        trace_text = next(iter(client.run(here.trace_diff, "a", "b").values()))
    client.close()
    cluster.close()
    runs = [json.loads(line) for f in costs.glob("*.jsonl") for line in f.open()]
    samples = [
        r["rss_start"]
        for r in sorted(runs, key=lambda r: r.get("start", 0))
        if str(r.get("key", "")).startswith("ingest")
    ][: args.tasks]
    n = len(samples)
    growth = (samples[-1] - samples[9]) / (n - 10) / MB if n > 10 else float("nan")
    print(trace_text)
    figures = {
        "mode": args.mode,
        "release": args.release,
        "tasks": n,
        "files_per_task": args.batch_size,
        "rss_mb_before_execution": {
            "1": round(samples[0] / MB, 1),
            "10": round(samples[min(9, n - 1)] / MB, 1),
            str(n): round(samples[-1] / MB, 1),
        },
        "growth_mb_per_task_10_to_last": round(growth, 3),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures))
    if args.record:
        from benchmarks.common import record

        print("recorded in", record("worker_growth", figures))


if __name__ == "__main__":
    main()
