"""`newsflow server`: one Prefect server (API and UI) in the background for this project's
PREFECT_HOME, which `newsflow run` then uses instead of booting a temporary one (~10 s)
per run.

The server runs in a session of its own (it outlives the command that started it);
`server.json` in PREFECT_HOME names its process and URL, so `newsflow server --stop`
and `newsflow run` find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from newsflow.config import DEFAULT_PREFECT_PORT

STATE_FILE = "newsflow-server.json"
LOG_FILE = "newsflow-server.log"
START_TIMEOUT_S = 120.0
# A server that is up answers /health in milliseconds; a run must not wait on one that is not.
PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class LocalServer:
    pid: int
    url: str  # the UI; the API is under /api

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")


def _state_path() -> Path:
    return prefect_home() / STATE_FILE


def recorded() -> LocalServer | None:
    """The server `newsflow server` last started here, whether or not it still runs."""
    try:
        state = json.loads(_state_path().read_text(encoding="utf-8"))
        return LocalServer(pid=int(state["pid"]), url=str(state["url"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def healthy(api_url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def running() -> LocalServer | None:
    """The recorded server if it answers now, else None."""
    server = recorded()
    return server if server and healthy(server.api_url) else None


def start(port: int = DEFAULT_PREFECT_PORT, timeout_s: float = START_TIMEOUT_S) -> LocalServer:
    """Start `prefect server start` on loopback in the background; returns once it answers.

    The UI is told where its API is (PREFECT_UI_API_URL), so a port other than 4200
    works in the browser too. Raises RuntimeError with the log's last line on failure.
    """
    current = running()
    if current:
        return current
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PREFECT_UI_API_URL": f"{url}/api", "PREFECT_UI_URL": url}
    env.pop("PREFECT_API_URL", None)  # the server is the API; it must not call another
    prefect = Path(sys.executable).with_name("prefect")
    log = home / LOG_FILE
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; stopped as a group
        )
    server = LocalServer(pid=proc.pid, url=url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited ({_last_line(log)}); log: {log}")
        if healthy(server.api_url):
            _state_path().write_text(json.dumps({"pid": proc.pid, "url": url}), encoding="utf-8")
            return server
        time.sleep(0.5)
    _stop_group(proc.pid)
    raise RuntimeError(f"the Prefect server did not answer within {timeout_s:g} s; log: {log}")


def stop() -> LocalServer | None:
    """Stop the recorded server (its whole process group); returns it, None if none ran."""
    server = recorded()
    _state_path().unlink(missing_ok=True)
    if server is None or not _is_prefect_server(server.pid) or not _stop_group(server.pid):
        return None
    return server


def _is_prefect_server(pid: int) -> bool:
    """Whether `pid` still runs `prefect server` (and not a process that got its pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"server" in command and any(part.endswith(b"prefect") for part in command)


def _stop_group(pid: int, grace_s: float = 10.0) -> bool:
    """SIGTERM the group `pid` leads, SIGKILL after `grace_s`; False if it was gone."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return lines[-1] if lines else "no output"
