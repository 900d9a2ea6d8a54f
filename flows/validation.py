"""The checks a run passes before it reads or writes anything, shared by the CLI and
the flow, so a run started from the UI or a schedule is refused with the same line
`newsflow run` prints.

Two kinds: a ParameterError is the run's own fault (CLI exit 2), an EnvironmentProblem
the world's (a lake that cannot be written, a server or scheduler that does not
answer; exit 1).
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsflow.config import PipelineConfig
from newsflow.run_config import EnvironmentProblem, ParameterError
from newsflow.storage import (
    MissingLocation,
    StorageError,
    as_location,
    check_readable,
    is_url,
    resolved,
    within,
)

# Folders a run's input_dir and lake_dir must lie in (os.pathsep-separated). `newsflow
# serve` sets it for the runs it executes: its --allowed-root folders, by default the
# input and lake it was served with.
ALLOWED_ROOTS_ENV = "NEWSFLOW_ALLOWED_ROOTS"
DASK_PORT = 8786
# Long enough for a scheduler or server on a busy machine, short next to Dask's 30 s.
ANSWER_TIMEOUT_S = 3.0


def validate(config: PipelineConfig, roots: Sequence[Path | str] | None = None) -> None:
    """Raise a ParameterError for the first parameter of `config` that cannot work.

    Reads no input and writes nothing: the roots come first, so a run pointed outside
    them learns nothing about what is there.
    """
    if roots is not None:
        for name, path in (("input_dir", config.input_dir), ("lake_dir", config.lake_dir)):
            if not any(within(path, root) for root in roots):
                allowed = ", ".join(str(r) for r in roots)
                raise ParameterError(
                    f"{name}: {path} is outside the allowed roots ({allowed}); "
                    f"widen them with {ALLOWED_ROOTS_ENV} or `newsflow serve --allowed-root`"
                )
    if is_url(config.input_dir):
        check_input_url(str(config.input_dir))
    elif not Path(config.input_dir).exists():
        raise ParameterError(f"input_dir: {config.input_dir} does not exist")
    elif not Path(config.input_dir).is_dir():
        raise ParameterError(f"input_dir: {config.input_dir} is a file, not a folder")
    if config.re_enrich and config.stop_after != "enrich":
        raise ParameterError(
            f"re_enrich: enriching every batch again needs stop_after enrich "
            f"(got stop_after {config.stop_after})"
        )
    from tasks.enrich import select_enrichers

    try:
        select_enrichers(config.enrichers)
    except ValueError as exc:
        raise ParameterError(f"enrichers: {exc}") from None


def check_input_url(url: str) -> None:
    """List the object-store input once: a missing bucket is the run's own fault
    (ParameterError), bad credentials or an endpoint that does not answer the world's."""
    try:
        check_readable(url)
    except MissingLocation as exc:
        raise ParameterError(f"input_dir: {exc}") from None
    except StorageError as exc:
        raise EnvironmentProblem(f"input_dir: {exc}") from None


def check_cron(cron: str) -> None:
    """A ParameterError unless `cron` parses as Prefect's schedule will parse it."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except ValueError:  # pydantic's ValidationError is a ValueError
        raise ParameterError(
            f'cron: "{cron}" is not a cron expression (minute hour day month weekday, '
            'e.g. "0 2 * * *")'
        ) from None


def check_lake(lake_dir: Path) -> None:
    """An EnvironmentProblem unless the lake folder exists (or can be made) and takes a
    file. A probe file, not os.access: root passes every access check, a read-only
    mount does not."""
    if lake_dir.exists() and not lake_dir.is_dir():
        raise EnvironmentProblem(f"lake_dir: {lake_dir} is a file, not a folder")
    try:
        lake_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=lake_dir, prefix=".newsflow-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise EnvironmentProblem(f"lake_dir: {lake_dir} cannot be written ({reason})") from None


def check_dask_scheduler(address: str, timeout_s: float = ANSWER_TIMEOUT_S) -> None:
    """An EnvironmentProblem unless something accepts connections at the scheduler's
    address within `timeout_s` (Dask itself waits 30 s, then prints a traceback)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    host, port = parts.hostname, parts.port or DASK_PORT
    if not host:
        raise ParameterError(f"dask_address: {address} names no host (tcp://HOST:PORT)")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise EnvironmentProblem(
            f"dask_address: no Dask scheduler answers at {address} within {timeout_s:g} s "
            f"({reason})"
        ) from None


PREFECT_SERVER_HINT = (
    "start one with `prefect server start --host 127.0.0.1` and export PREFECT_API_URL"
)


def api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def server_problem(url: str | None, timeout_s: float = 5.0) -> str | None:
    """Why no deployment can be served against `url`, in one line; None when it can."""
    if not url:
        return f"PREFECT_API_URL is not set; {PREFECT_SERVER_HINT}"
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"no Prefect server answers at {url} ({type(exc).__name__}); {PREFECT_SERVER_HINT}"
    if response.status_code != 200:
        status = f"HTTP {response.status_code}"
        return f"Prefect server at {url} is unhealthy ({status}); {PREFECT_SERVER_HINT}"
    return None


def check_prefect_server(timeout_s: float = ANSWER_TIMEOUT_S) -> None:
    """An EnvironmentProblem when PREFECT_API_URL is set and no healthy server answers."""
    url = api_url()
    if url:
        problem = server_problem(url, timeout_s=timeout_s)
        if problem:
            raise EnvironmentProblem(problem)


def allowed_roots() -> list[Path | str] | None:
    """The folders this run must stay in; None: anywhere (a run from the command line).

    NEWSFLOW_ALLOWED_ROOTS when set; else, in a deployment run, the input and lake
    folders of the deployment's default parameters (those it was served or deployed
    with), so a run from the UI cannot point the worker at a private folder and
    publish its text into the lake.
    """
    flow_run = _current_flow_run()
    # A custom run may set job variables, environment included: roots set that way
    # would let the run choose its own limits.
    per_run_env = (getattr(flow_run, "job_variables", None) or {}).get("env") or {}
    if ALLOWED_ROOTS_ENV in per_run_env:
        raise ParameterError(
            f"job_variables: {ALLOWED_ROOTS_ENV} cannot be set per run or deployment; "
            "set it in the environment of `newsflow serve` or of the worker"
        )
    configured = os.environ.get(ALLOWED_ROOTS_ENV)
    if configured:
        return split_roots(configured)
    if flow_run is None or flow_run.deployment_id is None:
        return None
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        parameters = client.read_deployment(flow_run.deployment_id).parameters
    defaults: dict[str, Any] = (parameters or {}).get("config") or {}
    served = PipelineConfig(**defaults)
    return [resolved(served.input_dir), served.lake_dir.resolve()]


def _current_flow_run() -> Any:
    """The flow run this code runs in (Prefect's FlowRun), None outside one."""
    if "prefect.context" not in sys.modules:  # no flow run without Prefect: a CLI check
        return None
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return context.flow_run if context else None


def roots_env(roots: Sequence[Path | str]) -> str:
    """NEWSFLOW_ALLOWED_ROOTS's value for `roots` (folders, or object-store URLs)."""
    return os.pathsep.join(str(resolved(r)) for r in roots)


def split_roots(text: str) -> list[Path | str]:
    """NEWSFLOW_ALLOWED_ROOTS's roots. A URL's `scheme://` holds the separator `:`, so a
    part that is only a scheme joins the part after it again."""
    parts = text.split(os.pathsep)
    roots: list[Path | str] = []
    while parts:
        part = parts.pop(0)
        if os.pathsep == ":" and parts and parts[0].startswith("//") and part.isalnum():
            part = f"{part}:{parts.pop(0)}"
        if part:
            roots.append(resolved(as_location(part)))  # type: ignore[arg-type]
    return roots
