"""What each Dask task execution cost its worker: peak RSS, CPU seconds, bytes read and written.

`TaskCosts` is a Dask `WorkerPlugin` (`Client.register_plugin`): on every worker, a
thread samples the worker process's RSS every `interval` seconds, and the plugin's
`transition` hook brackets each task's execution (the worker runs one task at a time:
one thread per worker). For each execution it appends one JSON line to
`<out>/worker-<pid>.jsonl`, flushed at once so a killed worker keeps what it wrote:

    {"pid", "key", "task_run_id", "start", "end", "rss_start", "rss_peak",
     "tree_rss_start", "tree_rss_peak", "cpu_s", "rchar", "wchar", "read_bytes",
     "write_bytes"}

`rss_*` is the worker process (what the nanny's memory limit watches); `tree_rss_*`
adds its children (the enrich stage's process pool lives inside the worker), sampled
every fourth tick. `cpu_s` is the tree's CPU seconds during the execution. I/O is the
worker process's own, from /proc/<pid>/io (`rchar`/`wchar`: bytes through read/write
calls, page cache included, so also local temporary files such as py3langid's model,
unpacked once per process; `read_bytes`/`write_bytes`: what reached the block layer).
A worker's first line is `{"pid", "started"}`: a nanny that restarts a worker shows as a new pid.
`task_run_id` is the Prefect task run prefect-dask passed to the execution, when the
task's spec exposes it; otherwise callers join by time (`benchmarks.scale_dask`).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from distributed import WorkerPlugin

IO = ("rchar", "wchar", "read_bytes", "write_bytes")


def _task_run_id(worker: Any, key: Any) -> str | None:
    """The Prefect task run id among the task's arguments (prefect-dask passes it)."""
    try:
        spec = worker.state.tasks[key].run_spec
        value = getattr(spec, "kwargs", {}).get("task_run_id")
        value = getattr(value, "value", value)  # a literal wrapped in the task spec
        return None if value is None else str(value)
    except Exception:  # the spec's shape is Dask's business: fall back to joining by time
        return None


class TaskCosts(WorkerPlugin):
    name = "newsflow-task-costs"

    def __init__(self, out: str, interval: float = 0.05) -> None:
        self.out = out
        self.interval = interval

    def setup(self, worker: Any) -> None:
        self.worker = worker
        self.process = psutil.Process()
        self.lock = threading.Lock()
        self.running: dict[Any, dict[str, Any]] = {}
        self.stopped = threading.Event()
        path = Path(self.out) / f"worker-{self.process.pid}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a")
        self._write({"pid": self.process.pid, "started": time.time()})
        threading.Thread(target=self._sample, name="task-costs", daemon=True).start()

    def teardown(self, worker: Any) -> None:
        self.stopped.set()
        self.file.close()

    def _write(self, line: dict[str, Any]) -> None:
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()

    def _tree(self) -> tuple[int, dict[int, float]]:
        """RSS summed over the worker and its children, and each one's CPU seconds."""
        rss, cpu = 0, {}
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    times = proc.cpu_times()
                    cpu[proc.pid] = times.user + times.system
                    if proc.pid == self.process.pid:  # children it has reaped
                        cpu[0] = times.children_user + times.children_system
            except psutil.Error:
                continue
        return rss, cpu

    def _snapshot(self) -> dict[str, Any]:
        io = self.process.io_counters()
        tree_rss, cpu = self._tree()
        return {
            "rss": self.process.memory_info().rss,
            "tree_rss": tree_rss,
            "cpu": cpu,
            "rchar": io.read_chars,
            "wchar": io.write_chars,
            "read_bytes": io.read_bytes,
            "write_bytes": io.write_bytes,
        }

    def _sample(self) -> None:
        tick = 0
        while not self.stopped.wait(self.interval):
            tick += 1
            try:
                rss = self.process.memory_info().rss
                tree_rss = self._tree()[0] if tick % 4 == 0 else 0
            except psutil.Error:
                return
            with self.lock:
                for run in self.running.values():
                    run["rss_peak"] = max(run["rss_peak"], rss)
                    run["tree_rss_peak"] = max(run["tree_rss_peak"], tree_rss)

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing":
            now = self._snapshot()
            with self.lock:
                self.running[key] = {
                    "start": time.time(),
                    "task_run_id": _task_run_id(self.worker, key),
                    "before": now,
                    "rss_peak": now["rss"],
                    "tree_rss_peak": now["tree_rss"],
                }
        elif start == "executing":
            with self.lock:
                run = self.running.pop(key, None)
            if run is None:
                return
            after = self._snapshot()
            before = run.pop("before")
            self._write(
                {
                    "pid": self.process.pid,
                    "key": str(key),
                    "task_run_id": run["task_run_id"],
                    "start": run["start"],
                    "end": time.time(),
                    "finish": finish,
                    "rss_start": before["rss"],
                    "rss_peak": max(run["rss_peak"], after["rss"]),
                    "tree_rss_start": before["tree_rss"],
                    "tree_rss_peak": max(run["tree_rss_peak"], after["tree_rss"]),
                    # a child that ended during the run keeps its last reading
                    "cpu_s": sum(
                        max(0.0, t - before["cpu"].get(pid, 0.0))
                        for pid, t in (before["cpu"] | after["cpu"]).items()
                    ),
                    **{k: after[k] - before[k] for k in IO},
                }
            )
