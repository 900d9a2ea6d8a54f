"""Session fixtures of the end-to-end and browser tests: a real `prefect server` on
loopback and `newsflow serve` against it.

Both test folders import these fixtures; the processes behind them are kept in
`_RUNNING`, so one pytest session starts each server once, whichever folder asks first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import BIN, REPO, free_port, quiet_prefect_env, spawn, stop, wait_until

DEPLOYMENT = "newsflow-scheduled"
CRON = "0 2 * * *"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class PrefectServer:
    url: str  # the UI
    api_url: str
    home: Path
    logs: Path
    env: dict[str, str] = field(default_factory=dict)  # for processes that talk to it

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call, retried on 503 as Prefect's own client does (SQLite is busy
        while the scheduler and the runner write); the JSON answer."""
        with self.api() as api:
            for attempt in range(6):
                response = api.request(method, path, **kwargs)
                if response.status_code != 503:
                    break
                time.sleep(0.5 * 2**attempt)
        return response.raise_for_status().json()


@dataclass
class ServedDeployment:
    server: PrefectServer
    deployment: dict[str, Any]  # as GET /api/deployments/{id} returns it
    default_input: Path
    default_lake: Path

    @property
    def id(self) -> str:
        return str(self.deployment["id"])


_RUNNING: dict[str, Any] = {}
_PROCESSES: list[subprocess.Popen[bytes]] = []


def _once(key: str, start: Callable[[], Any]) -> Any:
    if key not in _RUNNING:
        _RUNNING[key] = start()
    return _RUNNING[key]


def _stop_all() -> None:
    while _PROCESSES:
        stop(_PROCESSES.pop())
    _RUNNING.clear()


def _start_server(root: Path) -> PrefectServer:
    port = free_port()
    home, logs = root / "prefect-home", root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    env = quiet_prefect_env(home)
    # The UI asks the browser to call this API: without these it points at 4200.
    env.update(PREFECT_UI_API_URL=f"{url}/api", PREFECT_UI_URL=url)
    env["PREFECT_API_LOG_RETRYABLE_ERRORS"] = "true"  # a 503 in a test shows its cause
    log = logs / "prefect-server.log"
    proc = spawn(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        log,
    )
    _PROCESSES.append(proc)

    def healthy() -> bool:
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200

    wait_until(healthy, 180, "prefect server", proc, log)
    client_env = quiet_prefect_env(home)
    client_env["PREFECT_API_URL"] = f"{url}/api"
    return PrefectServer(url=url, api_url=f"{url}/api", home=home, logs=logs, env=client_env)


def _start_serve(server: PrefectServer, root: Path) -> ServedDeployment:
    default_input, default_lake = root / "raw", root / "lake-defaults"
    shutil.copytree(REPO / "data" / "raw", default_input)
    env = {**server.env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = server.logs / "newsflow-serve.log"
    cmd = [str(BIN / "newsflow"), "serve", "--cron", CRON, "--name", DEPLOYMENT]
    cmd += ["--input", str(default_input), "--lake", str(default_lake), "--batch-size", "2"]
    # Tests run the deployment on folders beside `root` (all under pytest's base temp).
    cmd += ["--allowed-root", str(root.parent)]
    proc = spawn(cmd, env, log)
    _PROCESSES.append(proc)
    found: dict[str, Any] = {}

    def registered() -> bool:
        response = httpx.get(f"{server.api_url}/deployments/name/newsflow/{DEPLOYMENT}", timeout=5)
        found.update(response.json() if response.status_code == 200 else {})
        return bool(found)

    wait_until(registered, 180, "newsflow serve", proc, log)
    # Registered is not yet polling: give the runner a moment to start its loop.
    time.sleep(2)
    return ServedDeployment(server, found, default_input, default_lake)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A real `prefect server start` on a free loopback port, with a throwaway home."""
    try:
        yield _once("server", lambda: _start_server(tmp_path_factory.mktemp("prefect")))
    finally:
        _stop_all()


@pytest.fixture(scope="session")
def served_deployment(
    prefect_api: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> ServedDeployment:
    """`newsflow serve` against `prefect_api`; default parameters point at temporary folders."""
    served: ServedDeployment = _once(
        "serve", lambda: _start_serve(prefect_api, tmp_path_factory.mktemp("served"))
    )
    return served


def wait_for_flow_run(server: PrefectServer, flow_run_id: str, timeout_s: float = 300) -> str:
    """Poll the API until the flow run ends: "COMPLETED", or the final state and its message."""
    deadline = time.monotonic() + timeout_s
    state = "PENDING"
    while time.monotonic() < deadline:
        run = server.call("GET", f"/flow_runs/{flow_run_id}")
        state = run["state"]["type"] if run.get("state") else "PENDING"
        if state == "COMPLETED":
            return state
        if state in TERMINAL:
            return f"{state}: {run['state'].get('message')}"
        time.sleep(1)
    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in server.logs.glob("*.log"))
    print(logs, file=sys.stderr)
    raise TimeoutError(f"flow run {flow_run_id} still {state} after {timeout_s:.0f} s")
