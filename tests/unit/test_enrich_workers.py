"""Worker processes of the model-bound enrichers: started early by a big run, reused by
`map_chunks`, never started for a small one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

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
