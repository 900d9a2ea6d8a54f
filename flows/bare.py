"""The flow's body with every task called as a plain function: no Prefect run at all.

The baseline Prefect's share of a run is measured against (`benchmarks/bare_run.py`,
`benchmarks/prefect_ab.py`): same batches, same order of submission, same lake, on a
`ThreadPoolExecutor` as wide as the flow's task runner. What is left out is all that
Prefect adds: flow and task runs created and tracked on the API, state changes, retries
and timeouts, result handling, cache lookups, run loggers shipping to the server,
artifacts. Prefect is still imported (the task modules are decorated).

It lives beside the flow because it swaps the flow's own seams: the four names of
flows/stage_runs.py through which the flow body runs every task, the artifact calls of
flows/reporting.py and the flow's logger; dedupe's phase tasks, which `run_dedupe`
submits, by their names in `tasks.dedupe_stage`, and the `as_completed` it reads them
with. A change to how the flow body runs tasks must keep this list right, and
`tests/flows/test_bare_baseline.py` fails when it does not.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any
from unittest.mock import patch

from prefect.utilities.annotations import quote

from newsflow.config import PipelineConfig

LOGGER = logging.getLogger("newsflow.bare")


class PlainTask:
    """Stands in for a Prefect task inside the flow body: `submit` runs its function."""

    def __init__(self, task: Any, pool: ThreadPoolExecutor) -> None:
        self.fn = task.fn
        self.name = task.name
        self.pool = pool

    def with_options(self, **_options: Any) -> PlainTask:
        return self

    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        plain = (arg.unwrap() if isinstance(arg, quote) else arg for arg in args)
        return self.pool.submit(self.fn, *plain, **kwargs)


def plainly(pool: ThreadPoolExecutor) -> dict[str, Any]:
    """Stand-ins for the seams of flows/stage_runs.py: a task's function on the pool, or
    here, instead of a task run."""

    def submit(task: Any, *args: Any) -> Future[Any]:
        plain = (arg.unwrap() if isinstance(arg, quote) else arg for arg in args)
        return pool.submit(task.fn, *plain)

    return {
        "submit": submit,
        "call": lambda task, *args: task.fn(*args),
        "as_completed": as_completed,
        "was_cached": lambda _future: False,
    }


def run_without_prefect(config: PipelineConfig) -> dict[str, Any]:
    """The flow body of `flows.pipeline` with Prefect's task machinery swapped out (and
    put back after); returns what the flow returns."""
    import flows.pipeline as pipeline
    import flows.reporting as reporting
    import flows.stage_runs as stage_runs
    import tasks.dedupe_stage as dedupe_stage

    runner: Any = pipeline.newsflow_pipeline.task_runner
    workers = runner._max_workers  # no public accessor
    with ThreadPoolExecutor(max_workers=workers) as pool:
        phases: dict[str, Any] = {
            name: PlainTask(getattr(dedupe_stage, name), pool) for name in dedupe_stage.PHASES
        }
        # The tasks log through `newsflow.progress.run_logger`, which needs no run.
        with (
            patch.multiple(stage_runs, **plainly(pool)),
            patch.multiple(reporting, create_table_artifact=lambda **_kw: None),
            patch.multiple(pipeline, get_run_logger=lambda: LOGGER),
            patch.multiple(dedupe_stage, as_completed=as_completed, **phases),
        ):
            result: dict[str, Any] = pipeline.newsflow_pipeline.fn(config)
    return result
