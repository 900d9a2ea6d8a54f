"""Worker processes of the model-bound enrichers: started early by a big run, reused by
`map_chunks`, never started for a small one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import flows.pipeline
from flows.pipeline import WARM_UP_BYTES, _warm_up
from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, InputFile
from tasks.enrichers import workers

MARKERS = "NEWSFLOW_TEST_MARKERS"


def mark_process() -> None:
    """A loader: leaves a file named after the process it ran in."""
    Path(os.environ[MARKERS], str(os.getpid())).touch()


def pid_of(items: list[int]) -> list[int]:
    return [os.getpid()] * len(items)


@pytest.fixture
def no_pool() -> Iterator[None]:
    if workers._pool is not None:
        workers._discard(workers._pool)
    yield
    if workers._pool is not None:
        workers._discard(workers._pool)


def test_warm_loads_in_worker_processes_that_map_chunks_then_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pool: None
) -> None:
    monkeypatch.setenv(MARKERS, str(tmp_path))
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    workers.warm([mark_process])
    pool = workers._pool
    assert pool is not None
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    loaded_in = {int(p.name) for p in tmp_path.iterdir()}
    ran_in = set(workers.map_chunks(pid_of, list(range(workers.MIN_ROWS))))
    assert workers._pool is pool  # the warmed pool, not a new one
    processes = set(pool._processes)
    assert len(processes) == 2
    assert os.getpid() not in processes
    assert loaded_in  # at least one worker ran the loader...
    assert loaded_in <= processes  # ...in the pool's processes
    assert ran_in <= processes


def test_warm_starts_nothing_without_workers(
    monkeypatch: pytest.MonkeyPatch, no_pool: None
) -> None:
    monkeypatch.setenv(workers.WORKERS_ENV, "1")
    workers.warm([mark_process])
    assert workers._pool is None
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    workers.warm([])
    assert workers._pool is None


def batches_of(size: int) -> list[Batch]:
    return [
        Batch("b", (InputFile("a.txt", "h", size // 2), InputFile("b.txt", "i", size - size // 2)))
    ]


@pytest.mark.parametrize("tasks_here", [True, False])
@pytest.mark.parametrize(
    ("size", "stop_after", "warmed"),
    [
        (WARM_UP_BYTES[0], "enrich", True),
        (WARM_UP_BYTES[1] - 1, "enrich", True),
        (WARM_UP_BYTES[0] - 1, "enrich", False),  # too few documents for the workers
        (WARM_UP_BYTES[1], "enrich", False),  # workers would sit through dedupe's peak
        (WARM_UP_BYTES[0], "dedupe", False),  # no enrich in this run
        (0, "enrich", False),
    ],
)
def test_a_run_warms_the_enrichers_only_when_it_will_use_workers(
    monkeypatch: pytest.MonkeyPatch, size: int, stop_after: str, warmed: bool, tasks_here: bool
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(flows.pipeline, "warm_up", calls.append)
    config = PipelineConfig(stop_after=stop_after, enrichers=["language_v2"])
    _warm_up(config, batches_of(size) if size else [], tasks_here)
    # Tasks on Dask enrich in its worker processes: nothing to start here.
    assert calls == ([["language_v2"]] if warmed and tasks_here else [])


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The pids of `pids` still running after up to `timeout_s` (zombies count as gone)."""
    deadline = time.monotonic() + timeout_s
    alive = pids
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and not is_zombie(p)]
        if not alive:
            break
        time.sleep(0.1)
    return alive


def is_zombie(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_the_last_run_to_end_shuts_the_workers_down(
    monkeypatch: pytest.MonkeyPatch, no_pool: None
) -> None:
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    with workers.held_by_run():
        with workers.held_by_run():  # a second run in this process, ending first
            workers.map_chunks(pid_of, list(range(workers.MIN_ROWS)))
            pids = workers.worker_pids()
        assert len(pids) == 2
        assert workers.worker_pids() == pids  # still in use by the other run
    assert workers._pool is None
    assert wait_gone(pids, 10) == []


def test_a_failing_run_still_shuts_the_workers_down(
    monkeypatch: pytest.MonkeyPatch, no_pool: None
) -> None:
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    pids: list[int] = []

    def failing_run() -> None:
        with workers.held_by_run():
            workers.map_chunks(pid_of, list(range(workers.MIN_ROWS)))
            pids.extend(workers.worker_pids())
            raise KeyError("the run failed")

    with pytest.raises(KeyError):
        failing_run()
    assert len(pids) == 2
    assert wait_gone(pids, 10) == []


KILLED_PARENT = """
import os, sys, time
os.environ["{env}"] = "2"
from tasks.enrichers import workers
from tests.unit.test_enrich_workers import pid_of
workers.map_chunks(pid_of, list(range(workers.MIN_ROWS)))
print(" ".join(map(str, workers.worker_pids())), flush=True)
time.sleep(600)
"""


def test_workers_die_with_a_parent_killed_outright(tmp_path: Path) -> None:
    """SIGKILL runs no clean-up in the parent: the workers must notice by themselves."""
    script = KILLED_PARENT.format(env=workers.WORKERS_ENV)
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2, pids
        assert all(psutil.Process(p).ppid() == parent.pid for p in pids)
        parent.kill()
        parent.wait()
        assert wait_gone(pids, 5) == []
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()


def test_a_worker_whose_parent_is_gone_exits_at_once() -> None:
    """The race the parent-death signal leaves: the parent died before it was armed."""
    child = subprocess.run(
        [sys.executable, "-c", "from tasks.enrichers import workers; workers._die_with_parent(1)"],
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    assert child.returncode == 1
