"""The fixed cost of a `newsflow run`: its wall time, process start to exit, on an input
folder with nothing new, with `newsflow server` up (issue 28; target <= 4 s).

Usage (from the repository root):

    .venv/bin/python benchmarks/fixed_cost.py [--input data/raw] [--repeats 5] [--port 4297]

Self-contained: a throwaway PREFECT_HOME and lake under a temporary folder; `newsflow
server --port PORT` is started there (unless one answers already), one untimed run fills
the lake, then `--repeats` runs of the same command with nothing new are timed from
outside (Popen to exit), and the server is stopped again (`--keep-server` leaves it up).
Also prints the same run without the server (Prefect's temporary server) once, for
comparison, unless `--no-baseline`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEWSFLOW = Path(sys.executable).with_name("newsflow")
CPU_SECONDS: list[float] = []


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def newsflow(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run `newsflow ARGS`; (wall seconds, the finished process). Its CPU seconds
    (user + system) go to CPU_SECONDS: on a shared machine they say what wall time
    would be on an idle one better than wall time does."""
    started, cpu = time.perf_counter(), cpu_of_children()
    done = subprocess.run(
        [str(NEWSFLOW), *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    CPU_SECONDS.append(cpu_of_children() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"newsflow {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=REPO / "data" / "raw")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--port", type=int, default=4297)
    parser.add_argument("--keep-server", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsflow-fixed-cost-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(work / "prefect-home"), DO_NOT_TRACK="1")
    run = ["run", "--input", str(args.input.resolve()), "--lake", str(work / "lake")]

    started, done = newsflow("server", "--port", str(args.port), env=env)
    print(f"server: {done.stdout.strip()} (up after {started:.1f} s)")
    try:
        first, done = newsflow(*run, env=env)
        print(f"first run (fills the lake, not counted): {first:.2f} s")
        times, cpu = [], len(CPU_SECONDS)
        for i in range(args.repeats):
            elapsed, done = newsflow(*run, env=env)
            times.append(elapsed)
            summary = done.stdout.splitlines()[0] if done.stdout else ""
            print(f"run {i + 1}: {elapsed:.2f} s wall, {CPU_SECONDS[-1]:.2f} s CPU   [{summary}]")
        used = [line for line in done.stderr.splitlines() if "using the Prefect server" in line]
        print(used[0] if used else "WARNING: the run did not say it used the server")
        print(
            f"fixed cost with the server up: median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs (target 4 s); "
            f"CPU median {statistics.median(CPU_SECONDS[cpu:]):.2f} s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    finally:
        if not args.keep_server:
            newsflow("server", "--stop", env=env)
    if not args.no_baseline:
        elapsed, _ = newsflow(*run, env=env)
        print(
            f"the same run without a server (temporary server): {elapsed:.2f} s wall, "
            f"{CPU_SECONDS[-1]:.2f} s CPU"
        )


if __name__ == "__main__":
    main()
