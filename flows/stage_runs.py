"""How the flow runs a stage's tasks: one helper for every stage.

`run_batches` submits one task run per batch (named by the batch's label, so the UI
shows `clean-bbc_001.txt+499-3fa2c1`), collects each result as it completes, logs it,
marks it done in the run's progress and hands it to the run's books. `run_one` and
`call` run a single task. These four names are the only places the flow body touches
Prefect's task machinery: flows/bare.py swaps `submit`, `call`, `as_completed` and
`was_cached` to run the same body without Prefect, so other modules call `submit` and
`call` through this module (`stage_runs.submit(...)`), never a name imported from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from prefect import Task
from prefect.futures import PrefectFuture, as_completed
from prefect.utilities.annotations import quote

from flows.run_names import named
from newsflow.progress import RunProgress, run_logger
from tasks.futures import release
from tasks.stage_result import Reported

T = TypeVar("T")
R = TypeVar("R", bound=Reported)


def submit(task: Task[..., T], *args: Any) -> PrefectFuture[T]:
    """`task` as a task run on the flow's task runner (threads or Dask workers)."""
    return task.submit(*args)


def call(task: Task[..., T], *args: Any) -> T:
    """`task` as a task run in the flow's own thread, whatever the task runner: for
    work whose result must not travel to or from a worker (planning's file list)."""
    return task(*args)


def run_one(task: Task[..., T], *args: Any) -> T:
    """`task` as one task run on the task runner; waits for its result."""
    return submit(task, *args).result()


def was_cached(future: Any) -> bool:
    return bool(future.state.name == "Cached")


def unwalked(value: T, tasks_here: bool) -> T:
    """A task argument Prefect need not search for upstream futures: quoted when tasks
    run on threads here (a batch's 500 file entries cost 36 ms per task run to walk; the
    task still gets the value itself). Under Dask, whose packing of task arguments turns
    a quote into a plain tuple, it goes as is."""
    return quote(value) if tasks_here else value  # type: ignore[return-value]


def run_batches(
    task: Task[..., R],
    stage: str,
    calls: Mapping[str, tuple[Any, ...]],
    fold: Callable[[R, bool], None],
    *,
    labels: Mapping[str, str] | None = None,
    progress: RunProgress | None = None,
    cached_note: str = " (cached)",
    beside: Callable[[], object] | None = None,
) -> list[R]:
    """Run `task` once per batch of `calls` (batch id -> arguments); as each run ends,
    `fold(result, was_cached)` counts it and the log says `<stage> i/n: <result.line()>`.
    With `labels`, each task run is named `<stage>-<batch label>`; with `progress`, each
    batch is marked done in it; `beside` submits other work once these tasks are queued,
    so it runs beside them, not before. Returns the results in the order they completed."""
    futures = [
        submit(named(task, stage, batch, labels) if labels is not None else task, *args)
        for batch, args in calls.items()
    ]
    if beside is not None:
        beside()
    logger, results = run_logger(), []
    for done, future in enumerate(as_completed(futures), start=1):
        result = future.result()
        cached = was_cached(future)
        release(future)
        fold(result, cached)
        note = cached_note if cached else ""
        logger.info("%s %d/%d: %s%s", stage, done, len(futures), result.line(), note)
        if progress is not None:
            progress.finish(stage, result.batch_id)
        results.append(result)
    return results
