"""Prefect's share of a pipeline run, measured by sampling where the CPU time goes.

Usage (from the repository root, with a `prefect server` on loopback):

    .venv/bin/python -m benchmarks.prefect_overhead --size 10000 \
        --api-url http://127.0.0.1:4299/api [--enrichers cheap] [--work /tmp/nf/scale] \
        [--code DIR] [--rate 100] [--commit SHA] [--out FILE]

`scale_bench.py`'s `prefect_share` is an upper bound: everything outside a task run
counts as Prefect's (interpreter start, importing polars and Great Expectations,
interpreter teardown). Here the run (same corpus and command as `scale_bench.py`) is
sampled by py-spy (`--rate` samples per second of every thread on a CPU, child processes
included, without pausing the target), and each sample goes to whoever is running:
the innermost frame that is either Prefect's (`site-packages/prefect/`) or the
project's (`flows/`, `tasks/`, `newsflow/`, `expectations/`, `benchmarks/run_flow.py`)
decides. A task's body (project code under Prefect's task engine) is the project's;
Prefect's engine around it, `submit`, state changes, its logging and API client, and
importing Prefect are Prefect's. The loopback server is another process: the CPU
seconds it spends during the run count as Prefect's too (psutil), less what it spends
idle (its own services poll the database): `--idle-s` seconds are measured before the
run and scaled to the run's length.

Reported: Prefect's CPU seconds (client samples + server), its share of all CPU
seconds, and the same seconds as a share of the run's wall time (an upper bound of
the wall time Prefect adds: on two cores some of it overlaps task work).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import REPO, record
from benchmarks.scale_bench import corpus, pipeline_command, prefect_env

PY_SPY = str(REPO / ".venv" / "bin" / "py-spy")  # in the dev group
PROJECT_DIRS = ("flows/", "tasks/", "newsflow/", "expectations/", "benchmarks/run_flow.py")


def owner(frame: str) -> str | None:
    """'prefect', 'project' or None for one py-spy frame `function (path:line)`; py-spy
    names a file relative to the folder it was imported from (site-packages or the
    project's root)."""
    path = frame.rsplit(" (", 1)[-1]
    if path.startswith("prefect/"):
        return "prefect"
    if path.startswith(PROJECT_DIRS):
        return "project"
    return None


def classify(stack: str) -> str:
    """Who a sample (frames root first, ';'-separated) belongs to: the innermost frame
    owned by Prefect or the project decides ('prefect_import' while a Prefect module is
    being imported); 'other' when neither appears (interpreter start-up and teardown,
    imports made by no project module)."""
    frames = stack.split(";")
    for frame in reversed(frames):
        who = owner(frame)
        if who == "prefect" and any(
            f.startswith("<module> (") and owner(f) == "prefect" for f in frames
        ):
            return "prefect_import"
        if who:
            return who
    return "other"


def tally(raw: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[classify(stack)] += int(n)
    return counts


def server_process(api_url: str) -> psutil.Process | None:
    """The process listening on the API's port, if it is on this machine."""
    port = int(api_url.split(":")[2].split("/")[0])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


def cpu_seconds(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def run_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments of one measured 10k-style run, shared with `prefect_ab.py`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--enrichers", default="cheap")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nf/scale"))
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--code", type=Path, default=None)
    parser.add_argument(
        "--commit",
        default=None,
        help="the commit of --code (a git archive has no .git); default: asked of git",
    )
    return parser


def main() -> None:
    parser = run_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/")
    args = parser.parse_args()
    if not Path(PY_SPY).exists():
        raise SystemExit(f"{PY_SPY} is missing: `make setup` installs the dev group")

    code = (args.code or REPO).resolve()
    root = corpus(args.work, args.size, args.seed)
    lake = args.work / f"lake-{args.size}-prefect-overhead"
    shutil.rmtree(lake, ignore_errors=True)
    raw = args.work / f"prefect-overhead-{args.size}.txt"
    command = pipeline_command(root / "docs", lake, args.enrichers, args.batch_size, args.code)
    sampler = [PY_SPY, "record", "--format", "raw", "--nonblocking", "--subprocesses"]
    sampler += ["--rate", str(args.rate), "--output", str(raw), "--"]
    env = prefect_env(args.work, args.api_url, args.code)
    server = server_process(args.api_url)
    idle_before = cpu_seconds(server)
    time.sleep(args.idle_s)
    server_idle_per_s = (cpu_seconds(server) - idle_before) / args.idle_s
    server_before = cpu_seconds(server)
    started = time.perf_counter()
    subprocess.run(sampler + command, cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    server_gross = cpu_seconds(server) - server_before
    server_cpu = max(0.0, server_gross - server_idle_per_s * wall)
    counts = tally(raw)
    sampled = sum(counts.values())
    prefect_s = (counts["prefect"] + counts["prefect_import"]) / args.rate + server_cpu
    total_s = sampled / args.rate + server_cpu
    result: dict[str, Any] = {
        "size": args.size,
        "enrichers": args.enrichers,
        "run_command": " ".join(command),
        "rate": args.rate,
        "wall_s": round(wall, 2),
        "samples": dict(counts),
        "server_cpu_gross_s": round(server_gross, 2),
        "server_idle_cpu_per_s": round(server_idle_per_s, 4),
        "server_cpu_s": round(server_cpu, 2),
        "prefect_cpu_s": round(prefect_s, 2),
        "cpu_s": round(total_s, 2),
        "prefect_share_of_cpu": round(prefect_s / total_s, 4),
        "prefect_share_of_wall": round(prefect_s / wall, 4),
    }
    print(json.dumps(result, indent=2))
    print(
        "recorded in",
        record("prefect_overhead", result, commit=args.commit, code=args.code, results=args.out),
    )


if __name__ == "__main__":
    main()
