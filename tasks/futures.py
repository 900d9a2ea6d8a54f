"""Task-run futures, as the flow's collector (flows/stage_runs.py) and dedupe's phases
(tasks/dedupe_stage.py) read them."""

from __future__ import annotations

from typing import Any


def release(future: Any) -> None:
    """Let the Dask worker that ran `future` forget it now that its result is read: a
    worker keeps a finished task's arguments (the batch's file list, the config, the
    task) and its result for as long as the flow holds the future, so a stage's futures
    held to its end grew each worker by ~0.3 MB per task run (benchmarks/worker_growth.py).
    Futures of the threads runner hold nothing in a worker: nothing to do."""
    release_wrapped = getattr(getattr(future, "wrapped_future", None), "release", None)
    if callable(release_wrapped):
        release_wrapped()
