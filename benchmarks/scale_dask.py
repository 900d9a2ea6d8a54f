"""The whole flow on a local Dask cluster of memory-limited workers: memory, time and I/O per phase.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.scale_dask --docs CORPUS/docs --work DIR \
        [--workers 4] [--memory-limit 1.5GB] [--enrichers cheap] [--batch-size 500] \
        [--api-url http://127.0.0.1:4299/api] [--compare-threads] \
        [--code DIR --commit SHA] [--results benchmarks/results/scale_dask.json]

`CORPUS` comes from `benchmarks.synth_corpus --layouts all --compress 0.1 --feed-size 10`.
The benchmark starts a Dask scheduler and `--workers` single-threaded worker processes,
each under a nanny with `--memory-limit` (the nanny restarts a worker that passes 95 %
of it), and runs the flow through its entry point against that cluster:
`newsflow run --runner dask --dask-address tcp://… --enrichers …` (a subprocess; with
`--code`, that copy of the code, for the flow and the workers alike). Without
`--api-url` it starts a Prefect server of its own on loopback (state under
`--work/prefect-home`) and stops it at the end.

Measured (`benchmarks/worker_memory.py` on every worker, the Prefect API, psutil):

* per phase (a task run's name without its batch or counter: `ingest`, `clean`,
  `dedupe-fingerprints`, `dedupe-verify`, `enrich`, …): task runs, wall seconds (the
  union of its task runs' intervals, from the Prefect API), CPU seconds (summed over its
  executions on the workers), peak RSS of the worker process while one of its tasks
  ran (sampled every 0.05 s; the worker's own ~200 MB included) and the largest growth
  over the RSS the task started at, the same for the worker's process tree (the enrich
  stage runs a process pool inside each worker), bytes read and written (`rchar`/
  `wchar`: through read/write calls, so lake and scratch Parquet, page cache or not);
* the worker processes that started: more than `--workers` means the nanny restarted
  one (killed for memory, or crashed), with the cluster log's lines saying why;
* the `newsflow run` process tree (the flow itself: planning, commits, books): wall,
  CPU, peak RSS; the lake's bytes by folder after the run.

`--compare-threads` then runs the threads runner on the same input into another lake
and compares every stage's rows (`benchmarks.compare_lakes`). One record per run goes
to `--results` (`benchmarks.common.record`: commit, machine, command, when, figures).
Progress: the log prints a line a minute (task executions so far by phase), and the
flow's own log is `--work/flow-dask.log`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import REPO, RESULTS, record
from benchmarks.run_flow import enricher_names
from benchmarks.scale_bench import (
    POLL_S,
    TreeMonitor,
    _time,
    flow_and_task_runs,
    prefect_env,
    union_seconds,
)
from flows.runners import WORKER_ENV

BIN = REPO / ".venv" / "bin"
MB = 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A background process in its own session (stopped as a group at the end)."""
    out = log_path.open("ab")
    return subprocess.Popen(
        command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def prefect_server(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = env | {"PREFECT_UI_API_URL": f"{url}/api", "PREFECT_UI_URL": url}
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
    proc = start([*command, "--port", str(port)], env, work / "prefect-server.log")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=5).json() is True:
                return proc, f"{url}/api"
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(2)
    stop(proc)
    raise RuntimeError(f"the Prefect server did not answer; see {work / 'prefect-server.log'}")


class Cluster:
    """A Dask scheduler and `workers` nanny-managed worker processes on loopback."""

    def __init__(self, work: Path, env: dict[str, str], workers: int, memory_limit: str) -> None:
        self.log = work / "dask-cluster.log"
        self.address = f"tcp://127.0.0.1:{free_port()}"
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = start(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port]
            + ["--no-dashboard"],
            env,
            self.log,
        )
        self.workers = start(
            [str(BIN / "dask"), "worker", self.address, "--nworkers", str(workers)]
            + ["--nthreads", "1", "--memory-limit", memory_limit, "--host", "127.0.0.1"]
            + ["--no-dashboard", "--local-directory", str(work / "dask-space")],
            # WORKER_ENV as `newsflow run --runner dask` starts its own workers; a worker
            # that crashes (one segfaulted in libpython at bd7afa0) leaves its traceback.
            env | WORKER_ENV | {"PYTHONFAULTHANDLER": "1"},
            self.log,
        )

    def close(self) -> None:
        stop(self.workers)
        stop(self.scheduler)

    def lost_workers(self) -> list[str]:
        """The cluster log's lines about workers killed, restarted or lost."""
        words = ("restart", "killed", "exceeded", "memory budget", "lost", "died")
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if any(w in line.lower() for w in words)][:50]


def executions(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(task executions, worker starts) the workers' plugin wrote."""
    runs: list[dict[str, Any]] = []
    starts: list[dict[str, Any]] = []
    for path in sorted(out.glob("worker-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a killed worker
                continue
            (starts if "started" in row else runs).append(row)
    return runs, starts


def phase_of(task_run: dict[str, Any]) -> str:
    """The task's name: `dedupe-verify-3c2` -> `dedupe-verify` (Prefect's default run
    name adds three hex digits); `ingest-001.txt+2-3fa2c1` -> `ingest` (a batch's run);
    `line-counts-12` -> `line-counts` (the line statistics' tasks name their runs)."""
    name = str(task_run["name"])
    if re.fullmatch(r".+-[0-9a-f]{3}", name):
        return name[:-4]
    if name.startswith("line-"):
        return "-".join(name.split("-", 2)[:2])
    return name.split("-", 1)[0]


def joined(task_runs: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each Prefect task run with the worker execution that ran it: by the task run id
    when the plugin saw it, else the execution whose interval holds the task run's
    (one task at a time per worker)."""
    by_id = {r["task_run_id"]: r for r in runs if r.get("task_run_id")}
    by_start = sorted(runs, key=lambda r: r["start"])
    out = []
    for t in task_runs:
        if not (t["start_time"] and t["end_time"]):
            continue
        start, end = _time(t["start_time"]), _time(t["end_time"])
        run = by_id.get(t["id"])
        if run is None:
            held = [r for r in by_start if r["start"] <= start + 0.05 and end <= r["end"] + 0.05]
            run = min(held, key=lambda r: r["end"] - r["start"]) if held else None
        out.append({"phase": phase_of(t), "start": start, "end": end, "run": run})
    return out


def as_task_run(run: dict[str, Any]) -> dict[str, Any]:
    """A worker's execution in the shape of a Prefect task run, named by its task
    function (`verify_pairs-<hash>` -> `verify_pairs`)."""

    def iso(seconds: float) -> str:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()

    return {
        "id": run.get("task_run_id"),
        "name": str(run["key"]).rsplit("-", 1)[0],
        "start_time": iso(run["start"]),
        "end_time": iso(run["end"]),
    }


def phase_figures(rows: list[dict[str, Any]], docs: int) -> dict[str, dict[str, Any]]:
    phases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        phases[row["phase"]].append(row)
    figures = {}
    for phase, members in sorted(phases.items(), key=lambda kv: min(r["start"] for r in kv[1])):
        runs = [r["run"] for r in members if r["run"]]
        total = {k: sum(r[k] for r in runs) for k in ("cpu_s", "rchar", "wchar", "write_bytes")}
        figures[phase] = {
            "task_runs": len(members),
            "joined": len(runs),
            "wall_s": round(union_seconds([(r["start"], r["end"]) for r in members]), 2),
            "span_s": round(max(r["end"] for r in members) - min(r["start"] for r in members), 2),
            "cpu_s": round(total["cpu_s"], 2),
            "cpu_ms_per_doc": round(1000 * total["cpu_s"] / docs, 4),
            "peak_rss_mb": round(max((r["rss_peak"] for r in runs), default=0) / MB, 1),
            "peak_growth_mb": round(
                max((r["rss_peak"] - r["rss_start"] for r in runs), default=0) / MB, 1
            ),
            "peak_tree_rss_mb": round(max((r["tree_rss_peak"] for r in runs), default=0) / MB, 1),
            "read_mb": round(total["rchar"] / MB, 1),
            "written_mb": round(total["wchar"] / MB, 1),
            "written_to_disk_mb": round(total["write_bytes"] / MB, 1),
            "read_bytes_per_doc": round(total["rchar"] / docs),
            "written_bytes_per_doc": round(total["wchar"] / docs),
        }
    return figures


def corpus_size(docs: Path) -> int:
    """Documents in a generated corpus (`synth_info.json` beside `docs/`), for a run
    that failed before writing its manifest."""
    return int(json.loads((docs.parent / "synth_info.json").read_text())["n"])


def folder_bytes(lake: Path) -> dict[str, int]:
    """Bytes per lake folder, `_work/<stage>` and `tables/<stage>` apart (a table's
    files are hard links to working files: counted in both)."""
    sizes: dict[str, int] = defaultdict(int)
    for path in lake.rglob("*"):
        if path.is_file() and not path.is_symlink():
            parts = path.relative_to(lake).parts
            top = "/".join(parts[:2]) if parts[0] in ("_work", "tables") else parts[0]
            sizes[top] += path.stat().st_size
    return dict(sorted(sizes.items()))


def run_flow(
    args: argparse.Namespace, env: dict[str, str], lake: Path, runner: list[str], name: str
) -> dict[str, Any]:
    """`newsflow run` (the console script) as a subprocess, its process tree polled."""
    command = [str(BIN / "newsflow"), "run", *runner, "--input", str(args.docs)]
    command += ["--lake", str(lake), "--batch-size", str(args.batch_size)]
    if names := enricher_names(args.enrichers):
        command += ["--enrichers", ",".join(names)]
    shutil.rmtree(lake, ignore_errors=True)
    flow_log = args.work / f"flow-{name}.log"
    log(f"{name}: {' '.join(command)} (log {flow_log})")
    started = time.perf_counter()
    with flow_log.open("w") as out:
        proc = subprocess.Popen(command, cwd=args.code or REPO, env=env, stdout=out, stderr=out)
        monitor = TreeMonitor(proc.pid)
        next_report = time.monotonic() + 60
        while proc.poll() is None:
            monitor.poll()
            time.sleep(POLL_S)
            if time.monotonic() > next_report and name == "dask":
                next_report += 60
                runs, starts = executions(args.work / "task-costs")
                counts: dict[str, int] = defaultdict(int)
                for r in runs:
                    counts[r["key"].rsplit("-", 1)[0]] += 1
                log(
                    f"progress: {len(runs)} task executions {dict(counts)}, "
                    f"{len(starts)} worker starts, load {os.getloadavg()[0]:.1f}"
                )
    wall = time.perf_counter() - started
    # A failed run is a result too (a worker killed for memory): recorded, not raised.
    manifests = sorted((lake / "runs").glob("*.json")) if not proc.returncode else []
    manifest = json.loads(manifests[-1].read_text()) if manifests else {}
    if proc.returncode:
        log(f"{name} run exited {proc.returncode}; see {flow_log}")
    return {
        "command": " ".join(command),
        "exit_code": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(monitor.cpu_s, 1),
        "peak_rss_mb": round(monitor.peak_rss / 2**20, 1),
        "counts": manifest.get("counts", {}),
        "timings": manifest.get("timings", {}),
    }


def measure(args: argparse.Namespace, env: dict[str, str], api_url: str) -> dict[str, Any]:
    from distributed import Client

    from benchmarks.worker_memory import TaskCosts

    costs = args.work / "task-costs"
    for old in costs.glob("*.jsonl"):
        old.unlink()
    cluster = Cluster(args.work, env, args.workers, args.memory_limit)
    try:
        with Client(cluster.address, timeout=120) as client:
            client.wait_for_workers(args.workers, timeout=300)
            client.register_plugin(TaskCosts(str(costs)))
        lake = args.work / "lake-dask"
        since = time.time() - 1
        flow = run_flow(
            args, env, lake, ["--runner", "dask", "--dask-address", cluster.address], "dask"
        )
    finally:
        cluster.close()
    runs, starts = executions(costs)
    api_error = None
    try:
        flow_run, task_runs = flow_and_task_runs(api_url, lake, since, finished=False)
    except (httpx.HTTPError, StopIteration) as error:
        # The workers' own figures still make the record (phases by task function)
        # when the server cannot answer: its disk full, say, as at 2c74770.
        api_error = f"{type(error).__name__}: {error}"
        flow_run, task_runs = {"id": None}, [as_task_run(r) for r in runs]
    rows = joined(task_runs, runs)
    docs = flow["counts"].get("records_in") or corpus_size(args.docs)
    return {
        "docs": docs,
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "enrichers": args.enrichers,
        "batch_size": args.batch_size,
        "flow_run_id": flow_run["id"],
        "prefect_api_error": api_error,
        "flow": flow,
        "task_runs": None if api_error else len(task_runs),
        "phases_by": "task function" if api_error else "task run name",
        "executions": len(runs),
        "task_runs_joined": sum(1 for r in rows if r["run"]),
        "worker_processes_started": len(starts),
        "worker_restarts": max(0, len(starts) - args.workers),
        "cluster_log_lost": cluster.lost_workers(),
        "worker_peak_rss_mb": round(max((r["rss_peak"] for r in runs), default=0) / MB, 1),
        "worker_tree_peak_rss_mb": round(
            max((r["tree_rss_peak"] for r in runs), default=0) / MB, 1
        ),
        "phases": phase_figures(rows, docs),
        "lake_bytes": folder_bytes(lake),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True, help="the corpus's docs/ folder")
    parser.add_argument("--work", type=Path, required=True, help="lakes, logs, cluster files")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--memory-limit", default="1.5GB", help="per worker (Dask's units)")
    parser.add_argument("--enrichers", default="cheap")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--api-url", default=None, help="a Prefect server; default: start one")
    parser.add_argument("--compare-threads", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS / "scale_dask.json")
    parser.add_argument("--code", type=Path, default=None, help="run this copy of the code")
    parser.add_argument("--commit", default=None, help="the commit of --code")
    args = parser.parse_args()
    args.docs, args.work = args.docs.resolve(), args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    env = prefect_env(args.work, args.api_url, args.code)
    # Workers import the plugin (benchmarks/) and the tasks from the code that runs.
    env["PYTHONPATH"] = str(args.code or REPO)
    env["DASK_DISTRIBUTED__LOGGING__DISTRIBUTED"] = "warning"
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the flow's log shows its progress
    server = None
    if args.api_url is None:
        server, api_url = prefect_server(args.work, env)
        env["PREFECT_API_URL"] = api_url
    else:
        api_url = args.api_url
    try:
        figures = measure(args, env, api_url)
        if args.compare_threads:
            from benchmarks.compare_lakes import differing_stages

            lake = args.work / "lake-threads"
            figures["threads"] = run_flow(args, env, lake, ["--runner", "threads"], "threads")
            differences = differing_stages(lake, args.work / "lake-dask")
            figures["lakes_equal"] = not differences and not figures["flow"]["exit_code"]
            figures["lake_differences"] = differences
    finally:
        if server:
            stop(server)
    path = record("scale_dask", figures, commit=args.commit, code=args.code, results=args.results)
    log(f"recorded in {path}")
    print(json.dumps(figures, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
