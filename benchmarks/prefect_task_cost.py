"""What one Prefect task run costs: a flow of N no-op tasks against an empty flow.

Usage (from the repository root, with a `prefect server` on loopback and its
`PREFECT_API_URL` set):

    .venv/bin/python -m benchmarks.prefect_task_cost --api-url http://127.0.0.1:4299/api \
        [--tasks 100] [--repeats 3]

The tasks are submitted as the pipeline submits its own (`ThreadPoolTaskRunner` of 4
threads, no cache, nothing persisted). Runs alternate between an empty flow and one
of `--tasks` tasks, after one uncounted flow. Each reports its wall time, this
process's CPU seconds and the server's (with its children). The server records task
runs from their events in the background, so part of a flow's server CPU shows up in
the next measurements, and a flow started while it catches up waits for it: the
server's CPU per task run is quoted over all flows (an upper bound: the empty flows'
own share is in it), and no wall time per task is derived.
"""

from __future__ import annotations

import argparse
import time

import psutil
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from benchmarks.prefect_overhead import cpu_seconds, server_process


@task(cache_policy=NO_CACHE)
def noop(i: int) -> int:
    return i


@flow(task_runner=ThreadPoolTaskRunner(max_workers=4))  # type: ignore[arg-type]
def tasks_flow(n: int) -> int:
    return sum(f.result() for f in [noop.submit(i) for i in range(n)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="to find the server's process")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = server_process(args.api_url)
    me = psutil.Process()
    tasks_flow(1)
    runs: dict[int, list[list[float]]] = {0: [], args.tasks: []}
    for _ in range(args.repeats):
        for n in runs:
            client, served, started = cpu_seconds(me), cpu_seconds(server), time.perf_counter()
            tasks_flow(n)
            row = [
                time.perf_counter() - started,
                cpu_seconds(me) - client,
                cpu_seconds(server) - served,
            ]
            runs[n].append(row)
            print(
                f"{n:4d} tasks: wall {row[0]:.2f} s, client CPU {row[1]:.2f} s, "
                f"server CPU {row[2]:.2f} s",
                flush=True,
            )
    count = args.repeats * args.tasks
    empty, full = runs[0], runs[args.tasks]
    # Client CPU: a difference of sums. Server CPU: all it spent over all flows (the
    # backlog spills into the empty ones, which then wait for it: no wall time per task).
    client = (sum(r[1] for r in full) - sum(r[1] for r in empty)) / count
    served = sum(r[2] for r in full + empty) / count
    print(
        f"per task run: client CPU {client * 1000:.1f} ms, "
        f"server CPU at most {served * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
