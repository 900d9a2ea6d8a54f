"""The one Prefect server of a test session: `prefect server start` on a loopback port.

Every test that needs Prefect asks for the `prefect_server` fixture (tests/conftest.py):
in-process flows (tests/flows, the accounting test) report to it through
PREFECT_API_URL, set with Prefect's public `temporary_settings`; processes
(`newsflow run`, `newsflow serve`, `prefect deploy`, Dask workers) get `env`. It serves
the UI too, for the browser tests. One boot (10-15 s) per session, whichever test asks
first; the server and everything it spawned end with the session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.processes import BIN, free_port, quiet_prefect_env, spawn, stop, wait_until

SERVER_BOOT_S = 240  # the hang guard for a boot on a busy machine, not a speed test


@dataclass(frozen=True)
class PrefectServer:
    url: str  # the UI
    api_url: str
    homes: tuple[Path, ...]  # PREFECT_HOME of the server, then of its clients
    logs: Path  # the folder of every log the servers of the session write
    env: dict[str, str]  # the environment of every process that talks to it

    @property
    def log(self) -> Path:
        """The server's own output."""
        return self.logs / "prefect-server.log"

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


@contextmanager
def running_prefect_server(root: Path) -> Iterator[PrefectServer]:
    """A server with its UI and services, a throwaway home, killed with its process group."""
    port = free_port()
    server_home, client_home, logs = root / "server-home", root / "client-home", root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    env = quiet_prefect_env(server_home)
    # The UI asks the browser to call this API: without these it points at 4200.
    env.update(PREFECT_UI_API_URL=f"{url}/api", PREFECT_UI_URL=url)
    env["PREFECT_API_LOG_RETRYABLE_ERRORS"] = "true"  # a 503 in a test shows its cause
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = PrefectServer(
        url=url,
        api_url=f"{url}/api",
        homes=(server_home, client_home),
        logs=logs,
        env={**quiet_prefect_env(client_home), "PREFECT_API_URL": f"{url}/api"},
    )
    proc = spawn([*command, "--analytics-off"], env, server.log)
    try:

        def healthy() -> bool:
            return httpx.get(f"{server.api_url}/health", timeout=5).status_code == 200

        wait_until(healthy, SERVER_BOOT_S, "prefect server", proc, server.log)
        yield server
    finally:
        stop(proc)


@contextmanager
def reporting_to(server: PrefectServer) -> Iterator[None]:
    """Flows and tasks called in this process report to `server`. The setting lives in a
    context variable: a thread a test starts must run in a copy of the test's context
    (`contextvars.copy_context().run`), or Prefect would boot a temporary server there."""
    from prefect.logging.handlers import APILogHandler
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield
        APILogHandler().flush()  # while the server is up: no failed log shipping at exit
