"""`newsflow serve`: register the pipeline as a scheduled deployment and run its flow runs.

Serving needs a Prefect server that outlives this process: the schedule, the
deployment's page in the UI and the run history all live there. Prefect's temporary
server would vanish with the process, so serving without `PREFECT_API_URL` is refused.
"""

from __future__ import annotations

import sys
from typing import Any

from newsflow.config import DEFAULT_CRON, PipelineConfig

DEFAULT_NAME = "newsflow-scheduled"
STOPPED_MESSAGE = (
    "newsflow serve stopped. The schedule of {name} stays active: runs falling due "
    "while nothing serves it wait as Late (an alert fires if set up with --alert-webhook) "
    "and run when `newsflow serve` starts again. To pause it on purpose: "
    "prefect deployment schedule pause newsflow/{name} <schedule id>"
)


def deployment_parameters(
    config: PipelineConfig, task_runner: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The flow's parameters as the deployment stores them (and the UI's form shows):
    the config, and where tasks run (runner, dask_address, workers, dask_dashboard_port)."""
    return {"config": config.model_dump(mode="json"), **(task_runner or {})}


def serve_pipeline(
    config: PipelineConfig,
    name: str = DEFAULT_NAME,
    cron: str = DEFAULT_CRON,
    task_runner: dict[str, Any] | None = None,
) -> None:
    """Register the deployment `newsflow/<name>` and run its flow runs until interrupted
    (Ctrl-C or SIGTERM, which Prefect's runner turns into a shutdown that cancels the
    runs in flight; each run's worker processes end with it).

    Stopping does not pause the schedule (Prefect's `pause_on_shutdown` would, silently):
    a nightly schedule that stops because a process was restarted is the failure an
    operator notices last. Runs due meanwhile go Late, which the alerts report.
    """
    from flows.pipeline import newsflow_pipeline

    try:
        newsflow_pipeline.serve(
            name=name,
            cron=cron,
            parameters=deployment_parameters(config, task_runner),
            description="ingest -> clean -> dedupe -> enrich over a folder of raw news files",
            tags=["newsflow"],
            pause_on_shutdown=False,
        )
    finally:
        print(STOPPED_MESSAGE.format(name=name), file=sys.stderr, flush=True)
