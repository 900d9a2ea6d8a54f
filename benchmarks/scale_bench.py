"""The whole pipeline at growing corpus sizes: throughput, memory, stage times, Prefect's share.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.scale_bench --sizes 10000,30000,100000 \
        [--enrichers cheap|all] [--work /tmp/nf/scale] [--api-url http://127.0.0.1:4299/api] \
        [--results benchmarks/results/scale_bench.json] [--commit SHA] [--plot]

For each size, `synth_corpus.py` writes a corpus in every layout (`--layouts all`,
10 % of files compressed, 10 records per json/jsonl/csv file) under `--work` unless it
is there already, then the pipeline runs on it as a subprocess, on a fresh lake:
`.venv/bin/newsflow run` for all enrichers, `benchmarks/run_flow.py` for another set
(ac19a65's CLI has no enricher flag). `--code DIR` runs another copy of the code instead
(`git archive` of a commit, plus files to try): the repository's working tree is shared
and changes under a long benchmark. Prefect keeps its state in `--work/prefect-home`; with
`--api-url` runs go to that server (`prefect server start --host 127.0.0.1`), without
it every run boots Prefect's ephemeral server (its ~10 s boot then counts as overhead).

Recorded per run as the `figures` of one `benchmarks.common.record` (commit, machine,
command, when) appended to `--results`, so a long series loses nothing:

* wall time of the subprocess, docs/s, MB/s of raw input (bytes on disk);
* CPU seconds of the whole process tree (psutil, polled every 0.25 s; a process that
  exits keeps its last reading): on a shared machine wall time depends on the
  neighbours, CPU time much less;
* peak RSS of the process tree (sum over the tree at each poll);
* the run manifest's `timings` (seconds per stage, per enricher);
* Prefect's share: from the Prefect API, the flow run and its task runs; task work is
  the union of the task runs' [start, end] intervals (time when at least one task is
  running; tasks run in parallel threads). `prefect_share` = (wall - task work -
  planning) / wall, where planning (`plan_s`: listing and hashing the input) is the
  flow's own work. It counts interpreter start, imports and Prefect's bookkeeping
  between tasks, and is an upper bound: Prefect's calls inside a task run (state
  changes) count as task work, not overhead. `in_flow_share` leaves out the time before
  the flow run started (interpreter, imports, server connection).

`--plot` draws `scale_cost_per_doc.png` and `scale_peak_rss.png` beside `--results`
from every run in it (the median of the runs at each size of a series).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import psutil

from benchmarks.common import PYTHON, REPO, RESULTS, driver, record

NEWSFLOW = REPO / ".venv" / "bin" / "newsflow"
POLL_S = 0.25
CORPUS_ARGS = ["--layouts", "all", "--compress", "0.1", "--feed-size", "10"]


def corpus(work: Path, size: int, seed: int) -> Path:
    """The generated corpus of `size` documents (made once, reused by later runs)."""
    out = work / f"corpus-{size}"
    if not (out / "synth_info.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run(
            [str(PYTHON), "-m", "benchmarks.synth_corpus", "--n", str(size)]
            + ["--out", str(out), "--seed", str(seed), *CORPUS_ARGS],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        info = json.loads((out / "synth_info.json").read_text())
        info["generate_s"] = round(time.perf_counter() - started, 1)
        (out / "synth_info.json").write_text(json.dumps(info, indent=2) + "\n")
    return out


class TreeMonitor:
    """Peak RSS and CPU seconds of a process and all its descendants, by polling."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self.peak_processes = 0

    def poll(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        rss = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    times = proc.cpu_times()
                    self.cpu[proc.pid] = times.user + times.system
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, len(procs))

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())


def pipeline_command(
    docs: Path, lake: Path, enrichers: str, batch_size: int, code: Path | None
) -> list[str]:
    if enrichers == "all":
        # `python -m app.cli` is what `.venv/bin/newsflow` runs; with `--code` it
        # runs that copy of the code (PYTHONPATH comes before the editable install).
        command = [str(PYTHON), "-m", "app.cli", "run"] if code else [str(NEWSFLOW), "run"]
    else:
        command = [str(PYTHON), *driver(code or REPO, "run_flow")]
        command += ["--enrichers", enrichers]
    return command + ["--input", str(docs), "--lake", str(lake), "--batch-size", str(batch_size)]


def prefect_env(work: Path, api_url: str | None, code: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = str(code)
    env.update(
        PREFECT_HOME=str(work / "prefect-home"),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


def _time(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of [start, end] intervals."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def flow_and_task_runs(
    api_url: str, lake: Path, since: float, *, finished: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The flow run that wrote `lake` (started after `since`; with `finished`, ended
    too) and all its task runs.

    Matched on the lake in the run's parameters: other runs may share the server.
    """
    with httpx.Client(base_url=api_url, timeout=120) as client:
        # An error reply (the server's disk full, say) fails here, not as a list of keys.
        flows = (
            client.post("/flow_runs/filter", json={"sort": "START_TIME_DESC", "limit": 50})
            .raise_for_status()
            .json()
        )
        flow = next(
            f
            for f in flows
            if f["start_time"]
            and (f["end_time"] or not finished)
            and _time(f["start_time"]) >= since
            and str(lake) in json.dumps(f.get("parameters", {}))
        )
        tasks: list[dict[str, Any]] = []
        while True:
            page = (
                client.post(
                    "/task_runs/filter",
                    json={
                        "flow_runs": {"id": {"any_": [flow["id"]]}},
                        "limit": 200,
                        "offset": len(tasks),
                    },
                )
                .raise_for_status()
                .json()
            )
            tasks += page
            if len(page) < 200:
                return flow, tasks


def prefect_runs(api_url: str, since: float, lake: Path) -> dict[str, Any]:
    """The flow run that wrote `lake` and the union and sum of its task runs' times."""
    flow, tasks = flow_and_task_runs(api_url, lake, since)
    intervals = [
        (_time(t["start_time"]), _time(t["end_time"]))
        for t in tasks
        if t["start_time"] and t["end_time"]
    ]
    per_task: dict[str, float] = {}
    for t in tasks:
        name = t["task_key"].split("-")[0] if t.get("task_key") else t["name"]
        per_task[name] = per_task.get(name, 0.0) + (t.get("total_run_time") or 0.0)
    return {
        "flow_start": _time(flow["start_time"]),
        "flow_end": _time(flow["end_time"]),
        "task_runs": len(tasks),
        "task_union_s": union_seconds(intervals),
        "task_run_time_s": {k: round(v, 2) for k, v in sorted(per_task.items())},
    }


def run_once(size: int, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    root = corpus(args.work, size, args.seed)
    docs = root / "docs"
    info = json.loads((root / "synth_info.json").read_text())
    raw_bytes = sum(p.stat().st_size for p in docs.rglob("*") if p.is_file())
    slug = "".join(c if c.isalnum() else "-" for c in (args.label or args.enrichers))
    lake = args.work / f"lake-{size}-{slug}"
    shutil.rmtree(lake, ignore_errors=True)
    command = pipeline_command(docs, lake, args.enrichers, args.batch_size, args.code)
    log = args.work / f"run-{size}-{slug}.log"
    started_at = time.time()
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=args.code or REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        monitor = TreeMonitor(proc.pid)
        while proc.poll() is None:
            monitor.poll()
            time.sleep(POLL_S)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}; see {log}")
    [manifest_path] = sorted((lake / "runs").glob("*.json"))[-1:]
    manifest = json.loads(manifest_path.read_text())
    docs_in = manifest["counts"]["records_in"]
    result: dict[str, Any] = {
        "size": size,
        "enrichers": args.enrichers,
        "label": args.label or args.enrichers,
        "run_command": " ".join(command),
        "load_avg_after": os.getloadavg(),
        "corpus": {k: info[k] for k in ("n", "layouts", "files", "duplicates", "seed")},
        "raw_mb": round(raw_bytes / 1e6, 2),
        "records_in": docs_in,
        "counts": manifest["counts"],
        "wall_s": round(wall, 2),
        "cpu_s": round(monitor.cpu_s, 2),
        "docs_per_s": round(docs_in / wall, 1),
        "mb_per_s": round(raw_bytes / 1e6 / wall, 3),
        "ms_per_doc_wall": round(1000 * wall / docs_in, 3),
        "ms_per_doc_cpu": round(1000 * monitor.cpu_s / docs_in, 3),
        "peak_rss_mb": round(monitor.peak_rss / 2**20, 1),
        "peak_processes": monitor.peak_processes,
        "timings": manifest["timings"],
    }
    if args.api_url:
        prefect = prefect_runs(args.api_url, started_at - 1, lake)
        plan = manifest["timings"].get("plan_s", 0.0)
        overhead = wall - prefect["task_union_s"] - plan
        flow_s = prefect["flow_end"] - prefect["flow_start"]
        result["prefect"] = prefect | {
            "startup_s": round(prefect["flow_start"] - started_at, 2),
            "flow_s": round(flow_s, 2),
            "task_union_s": round(prefect["task_union_s"], 2),
            "prefect_share": round(overhead / wall, 4),
            "in_flow_share": round((flow_s - prefect["task_union_s"] - plan) / flow_s, 4),
        }
    return result


def plot(records: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [r["figures"] for r in records]
    series: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        series.setdefault(r.get("label", r["enrichers"]), []).append(r)
    paths = []
    for name, metrics, ylabel in (
        (
            "scale_cost_per_doc.png",
            ("ms_per_doc_wall", "ms_per_doc_cpu"),
            "milliseconds per document",
        ),
        ("scale_peak_rss.png", ("peak_rss_mb",), "peak RSS of the process tree (MiB)"),
    ):
        fig, ax = plt.subplots(figsize=(10, 4.5))
        for enrichers, runs in sorted(series.items()):
            sizes = sorted({r["size"] for r in runs})
            for metric in metrics:
                label = f"{enrichers}, {metric.removeprefix('ms_per_doc_')}"
                # several runs at one size (one 10k run is too noisy here): their median
                values = [median(r[metric] for r in runs if r["size"] == n) for n in sizes]
                ax.plot(sizes, values, marker="o", label=label)
        if name == "scale_peak_rss.png":
            ax.axhline(4096, color="red", linestyle="--", label="target: 4 GiB")
        else:
            ax.set_yscale("log")  # all enrichers cost ~14x the cheap set per document
        ax.set_xscale("log")
        ax.set_xlabel("corpus size (documents)")
        ax.set_ylabel(ylabel)
        ax.set_title("newsflow run, 2 shared cores")
        ax.grid(True, which="both", alpha=0.3)
        # one line per series and metric: too many to sit over the data
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--enrichers", default="cheap")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nf/scale"))
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=RESULTS / "scale_bench.json")
    parser.add_argument("--plot", action="store_true")
    parser.add_argument(
        "--code", type=Path, default=None, help="run this copy of the code (e.g. a git archive)"
    )
    parser.add_argument("--label", default=None, help="name of the series in the plots")
    parser.add_argument(
        "--commit",
        default=None,
        help="the commit of --code (a git archive has no .git); default: asked of git",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = prefect_env(args.work, args.api_url, args.code)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        result = run_once(size, args, env)
        record("scale_bench", result, commit=args.commit, code=args.code, results=args.results)
        print(json.dumps({k: v for k, v in result.items() if k not in ("counts",)}), flush=True)
    if args.plot and args.results.exists():
        for path in plot(json.loads(args.results.read_text()), args.results.parent):
            print("plot:", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
