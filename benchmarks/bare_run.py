"""The pipeline's own work without Prefect's engine: the baseline for Prefect's share.

Usage (from the repository root; the same arguments as `run_flow.py`):

    .venv/bin/python benchmarks/bare_run.py --input DIR --lake DIR \
        [--enrichers all|cheap|name,name] [--batch-size 500]

Runs the body of the `newsflow` flow with every task called as a plain function
(`task.fn`) on a `ThreadPoolExecutor` as wide as the flow's task runner: same batches,
same order of submission, same lake. What is left out is all that Prefect adds: flow
and task runs created and tracked on the API, state changes, retries and timeouts,
result handling, cache lookups, run loggers shipping to the server, artifacts. Prefect
is still imported (the task modules are decorated); `prefect_ab.py` measures that
import on its own. Meant for a fresh lake: nothing is cached either way.
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any
from unittest.mock import patch

from prefect.utilities.annotations import quote
from run_flow import config_from

from newsflow.cli import format_run

LOGGER = logging.getLogger("newsflow.bare")
# The task objects the flow body submits, by their names in `flows.pipeline`.
TASKS = (
    "ingest",
    "line_stats",
    "clean",
    "quality_gate",
    "roll_back",
    "dedupe",
    "enrich",
    "quality_check",
)


class PlainTask:
    """Stands in for a Prefect task inside the flow body: `submit` runs its function."""

    def __init__(self, task: Any, pool: ThreadPoolExecutor) -> None:
        self.fn = task.fn
        self.pool = pool

    def with_options(self, **_options: Any) -> PlainTask:
        return self

    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        plain = (arg.unwrap() if isinstance(arg, quote) else arg for arg in args)
        return self.pool.submit(self.fn, *plain, **kwargs)


def run_without_prefect(config: Any) -> dict[str, Any]:
    """The flow body of `flows.pipeline` with Prefect's task machinery swapped out (and
    put back after)."""
    import flows.pipeline as pipeline

    workers = pipeline.newsflow_pipeline.task_runner._max_workers  # no public accessor
    with ThreadPoolExecutor(max_workers=workers) as pool:
        plain = {name: PlainTask(getattr(pipeline, name), pool) for name in TASKS}
        # The tasks log through `newsflow.progress.run_logger`, which needs no run.
        with patch.multiple(
            pipeline,
            **plain,
            as_completed=as_completed,
            get_run_logger=lambda: LOGGER,
            create_table_artifact=lambda **_kw: None,
            _was_cached=lambda _future: False,
        ):
            result: dict[str, Any] = pipeline.newsflow_pipeline.fn(config)
    return result


def main(argv: list[str]) -> int:
    config = config_from(argv, __doc__.splitlines()[0])
    logging.basicConfig(level=logging.WARNING)
    print(format_run(run_without_prefect(config)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
