"""What Prefect costs a run before it runs any task: a fresh process with one empty flow.

Usage (from the repository root, with a `prefect server` on loopback):

    .venv/bin/python -m benchmarks.prefect_fixed_cost --api-url http://127.0.0.1:4299/api \
        [--repeats 5] [--out FILE]

Each repeat starts three processes of this script, in turn: one that only starts the
interpreter, imports `app.cli` and exits (`python`), one that imports Prefect and
runs an empty flow with Prefect's default settings (`flow`, a heartbeat every 180 s),
and one that runs it as `newsflow run` does (`flow_no_heartbeat`,
`app.cli.heartbeats_only_if_set`). The wall time of each process is taken from
outside; inside, the flow processes report how long importing Prefect and calling the
flow took. Every `newsflow run` pays this once, whatever its input: the floor under
Prefect's share of a run's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("python", "flow", "flow_no_heartbeat")


def child(mode: str) -> None:
    """Run in the measured process: import Prefect, call an empty flow, print the split.
    Every mode imports the CLI module first (it does not import Prefect), so the
    differences are Prefect's alone."""
    from app.cli import heartbeats_only_if_set

    if mode == "python":
        return
    started = time.perf_counter()
    from prefect import flow

    @flow(name="empty")
    def empty() -> None:
        return None

    imported = time.perf_counter()
    with heartbeats_only_if_set() if mode == "flow_no_heartbeat" else nullcontext():
        empty()
    print(json.dumps({"import_s": imported - started, "flow_s": time.perf_counter() - imported}))


def measure(mode: str, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.prefect_fixed_cost", "--child", mode],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    row = {"wall_s": time.perf_counter() - started}
    if mode != "python":
        row |= json.loads(done.stdout.strip().splitlines()[-1])
    return {key: round(value, 3) for key, value in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", help="the server the flows report to (required)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.api_url:
        parser.error("--api-url is required")
    from app.cli import PREFECT_DEFAULTS

    # What `newsflow run` gives a user (INFO logs), not scale_bench's quieter benchmark
    # env (WARNING): that one measured 0.3 s less per run, side by side.
    env = PREFECT_DEFAULTS | dict(os.environ) | {"PREFECT_API_URL": args.api_url}
    env["PYTHONPATH"] = str(REPO)
    measure("flow", env)  # uncounted: the first flow after a server starts is slower
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for _ in range(args.repeats):
        for mode in MODES:
            runs[mode].append(measure(mode, env))
            print(mode, runs[mode][-1], flush=True)
    medians = {
        mode: {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}
        for mode, rows in runs.items()
    }
    python_s = medians["python"]["wall_s"]
    result = {
        "repeats": args.repeats,
        "load_avg_at_end": os.getloadavg(),
        "runs": runs,
        "medians": medians,
        "fixed_cost_s": {mode: round(medians[mode]["wall_s"] - python_s, 3) for mode in MODES[1:]},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    from benchmarks.common import record

    print("recorded in", record("prefect_fixed_cost", result, results=args.out))


if __name__ == "__main__":
    main()
