"""Where tasks run: the flow's parameters choose the task runner, and a run started on
another one (a deployment's default threads) is sent to a subflow on the right one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from flows.runners import WORKER_ENV, local_cluster_kwargs, make_task_runner, runs_on


@pytest.mark.parametrize(
    ("current", "runner", "workers", "expected"),
    [
        (ThreadPoolTaskRunner(max_workers=4), "threads", None, True),
        (ThreadPoolTaskRunner(max_workers=4), "threads", 4, True),
        (ThreadPoolTaskRunner(max_workers=4), "threads", 2, False),
        (ThreadPoolTaskRunner(max_workers=4), "dask", None, False),
        (DaskTaskRunner(), "dask", None, True),
        (DaskTaskRunner(), "threads", None, False),
    ],
)
def test_runs_on_tells_whether_the_run_needs_another_task_runner(
    current: object, runner: str, workers: int | None, expected: bool
) -> None:
    assert runs_on(current, runner, workers) is expected  # type: ignore[arg-type]


def test_the_runner_a_run_asks_for_is_the_runner_it_then_runs_on() -> None:
    for runner, workers in (("threads", 3), ("dask", 2), ("dask", None)):
        made = make_task_runner(runner, workers=workers)  # type: ignore[arg-type]
        assert runs_on(made, runner, workers)  # type: ignore[arg-type]


def test_the_dashboard_port_is_configurable_and_on_loopback() -> None:
    assert local_cluster_kwargs(2, 9876)["dashboard_address"] == "127.0.0.1:9876"
    assert local_cluster_kwargs(None)["dashboard_address"] == "127.0.0.1:8787"
    made = make_task_runner("dask", workers=2, dashboard_port=0)
    assert made.cluster_kwargs["dashboard_address"] == "127.0.0.1:0"  # type: ignore[attr-defined]


def test_dask_workers_return_freed_memory_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import Client, LocalCluster

    # What importing polars leaves in the environment of the flow's process.
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:500,muzzy_decay_ms:1000")
    make_task_runner("dask", workers=1, dashboard_port=0)
    with (
        LocalCluster(**local_cluster_kwargs(1, dashboard_port=0)) as cluster,
        Client(cluster) as client,
    ):
        seen = client.run(lambda: os.environ.get("_RJEM_MALLOC_CONF", ""))
    # Polars puts its own defaults first; the worker's setting, later, wins.
    assert [conf.endswith(WORKER_ENV["_RJEM_MALLOC_CONF"]) for conf in seen.values()] == [True]


LOCAL_CLUSTER = """
import time
import psutil
from distributed import LocalCluster
from flows.runners import local_cluster_kwargs
if __name__ == "__main__":
    cluster = LocalCluster(**local_cluster_kwargs(2, dashboard_port=0))
    print(" ".join(str(p.pid) for p in psutil.Process().children(recursive=True)), flush=True)
    time.sleep(600)
"""


def test_a_local_clusters_workers_die_with_a_run_killed_outright(tmp_path: Path) -> None:
    script = tmp_path / "cluster.py"
    script.write_text(LOCAL_CLUSTER)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) >= 2, pids  # two workers (and a resource tracker)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while (alive := [p for p in pids if running(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive == []
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
