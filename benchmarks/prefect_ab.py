"""Prefect's share of the wall time, measured as a difference: the same pipeline run with
Prefect (`run_flow.py`) and without it (`bare_run.py`), alternately, on the same corpus.

Usage (from the repository root, with a `prefect server` on loopback):

    .venv/bin/python -m benchmarks.prefect_ab --size 10000 \
        --api-url http://127.0.0.1:4299/api [--rounds 3] [--enrichers cheap] \
        [--work /tmp/nf/scale] [--code DIR] [--commit SHA] [--out FILE]

Each round runs both, in alternating order, each on a fresh lake, in its own process
(wall time from start to exit, CPU seconds of its process tree). The bare run still
imports Prefect (the task modules are decorated with it), so Prefect's import is timed
on its own, `--rounds` times in fresh interpreters, and added back:

    overhead = median(with Prefect) - median(bare) + median(import prefect)

and, paired by round (the two runs of a round are back to back, so a slow spell of the
shared machine hits both), median over rounds of (with Prefect - bare) + the import.

Each run's manifest holds the flow body's own time (`timings.total_s`), so the wall
time a run adds splits into the body (task engine, API calls from the tasks) and the
rest of the process (interpreter, imports, flow run set-up and teardown). `--warmup`
runs with Prefect go first and are not counted: the server's first flow runs after it
starts are slower (its caches and services warming up), which a long-lived server does
not pay on every run.

The loopback server's CPU seconds during each run are recorded too; on two cores they
compete with the pipeline's threads, and the difference of wall times already holds
whatever that costs. `prefect_overhead.py` attributes the same cost by sampling.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, REPO, driver, record
from benchmarks.datatrove_compare import watched
from benchmarks.prefect_overhead import cpu_seconds, run_arguments, server_process
from benchmarks.scale_bench import corpus, prefect_env

IMPORT_PREFECT = (
    "import time; t = time.perf_counter(); import prefect, prefect.flows; "
    "print(time.perf_counter() - t)"
)


def main() -> None:
    parser = run_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs with Prefect")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/")
    args = parser.parse_args()

    code = (args.code or REPO).resolve()
    load_at_start = os.getloadavg()  # how busy the shared machine was before the runs
    docs = corpus(args.work, args.size, args.seed) / "docs"
    env = prefect_env(args.work, args.api_url, args.code)
    server = server_process(args.api_url)
    drivers = {"prefect": "run_flow", "bare": "bare_run"}
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in drivers}
    imports = []

    def run(mode: str) -> dict[str, float]:
        lake = args.work / f"lake-{args.size}-ab-{mode}"
        shutil.rmtree(lake, ignore_errors=True)
        command = [str(PYTHON), *driver(code, drivers[mode])]
        command += ["--enrichers", args.enrichers, "--input", str(docs)]
        command += ["--lake", str(lake), "--batch-size", str(args.batch_size)]
        before = cpu_seconds(server)
        measured = watched(command, code, env, args.work / f"ab-{args.size}-{mode}.log")
        measured["server_cpu_s"] = round(cpu_seconds(server) - before, 2)
        (manifest,) = (lake / "runs").glob("*.json")  # a fresh lake: this run's only
        measured["flow_s"] = json.loads(manifest.read_text())["timings"]["total_s"]
        print(mode, measured, flush=True)
        return measured

    for _ in range(args.warmup):
        run("prefect")
    for round_ in range(args.rounds):
        order = list(drivers) if round_ % 2 == 0 else list(reversed(drivers))
        for mode in order:
            runs[mode].append(run(mode))
        took = subprocess.run(
            [str(PYTHON), "-c", IMPORT_PREFECT],
            cwd=code,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        imports.append(round(float(took.stdout.strip()), 3))

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    with_prefect, bare = median("prefect", "wall_s"), median("bare", "wall_s")
    import_s = statistics.median(imports)
    overhead = with_prefect - bare + import_s

    def paired_median(key: str) -> float:
        pairs = zip(runs["prefect"], runs["bare"], strict=True)
        return statistics.median(w[key] - b[key] for w, b in pairs)

    paired = paired_median("wall_s")
    in_flow = paired_median("flow_s")
    result: dict[str, Any] = {
        "size": args.size,
        "enrichers": args.enrichers,
        "load_avg_at_start": load_at_start,
        "rounds": args.rounds,
        "warmup_runs": args.warmup,
        "runs": runs,
        "import_prefect_s": imports,
        "wall_prefect_s": with_prefect,
        "wall_bare_s": bare,
        "cpu_prefect_s": median("prefect", "cpu_s"),
        "cpu_bare_s": median("bare", "cpu_s"),
        "overhead_s": round(overhead, 2),
        "prefect_share_of_wall": round(overhead / with_prefect, 4),
        "paired_overhead_s": round(paired + import_s, 2),
        "paired_share_of_wall": round((paired + import_s) / with_prefect, 4),
        # The paired overhead split: inside the flow body, and the rest of the process.
        "paired_in_flow_s": round(in_flow, 2),
        "paired_outside_flow_s": round(paired - in_flow + import_s, 2),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    print(
        "recorded in",
        record("prefect_ab", result, commit=args.commit, code=args.code, results=args.out),
    )


if __name__ == "__main__":
    main()
