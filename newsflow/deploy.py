"""`newsflow serve`: register the pipeline as a scheduled deployment and run its flow runs.

Serving needs a Prefect server that outlives this process: the schedule, the
deployment's page in the UI and the run history all live there. Prefect's temporary
server would vanish with the process, so serving without `PREFECT_API_URL` is refused.
"""

from __future__ import annotations

from typing import Any

from newsflow.config import PipelineConfig

DEFAULT_CRON = "0 2 * * *"
DEFAULT_NAME = "newsflow-scheduled"
SERVER_HINT = "start one with `prefect server start --host 127.0.0.1` and export PREFECT_API_URL"


def api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def server_problem(url: str | None, timeout_s: float = 5.0) -> str | None:
    """Why no deployment can be served against `url`, in one line; None when it can."""
    if not url:
        return f"PREFECT_API_URL is not set; {SERVER_HINT}"
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"no Prefect server answers at {url} ({type(exc).__name__}); {SERVER_HINT}"
    if response.status_code != 200:
        return f"Prefect server at {url} is unhealthy (HTTP {response.status_code}); {SERVER_HINT}"
    return None


def deployment_parameters(config: PipelineConfig) -> dict[str, Any]:
    """The flow's parameters as the deployment stores them (and the UI's form shows)."""
    return {"config": config.model_dump(mode="json")}


def serve_pipeline(
    config: PipelineConfig, name: str = DEFAULT_NAME, cron: str = DEFAULT_CRON
) -> None:
    """Register the deployment `newsflow/<name>` and run its flow runs until interrupted.

    Scheduled and hand-started runs execute in subprocesses of this one; stopping it
    pauses the schedule (Prefect's `pause_on_shutdown`).
    """
    from flows.pipeline import newsflow_pipeline

    newsflow_pipeline.serve(
        name=name,
        cron=cron,
        parameters=deployment_parameters(config),
        description="ingest -> clean -> dedupe -> enrich over a folder of raw news files",
        tags=["newsflow"],
    )
