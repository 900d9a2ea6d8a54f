"""`newsflow serve` against the session's Prefect server (the `served_deployment`
fixture of tests/conftest.py, used by the end-to-end and browser tests), and waiting
for a flow run through the API."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.processes import BIN, REPO, spawn, stop, wait_until
from tests.prefect_server import PrefectServer

DEPLOYMENT = "newsflow-scheduled"
CRON = "0 2 * * *"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class ServedDeployment:
    server: PrefectServer
    deployment: dict[str, Any]  # as GET /api/deployments/{id} returns it
    default_input: Path
    default_lake: Path

    @property
    def id(self) -> str:
        return str(self.deployment["id"])


@contextmanager
def served(server: PrefectServer, root: Path) -> Iterator[ServedDeployment]:
    """`newsflow serve` against `server`; default parameters point at temporary folders."""
    default_input, default_lake = root / "raw", root / "lake-defaults"
    shutil.copytree(REPO / "data" / "raw", default_input)
    env = {**server.env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    log = server.logs / "newsflow-serve.log"
    cmd = [str(BIN / "newsflow"), "serve", "--cron", CRON, "--name", DEPLOYMENT]
    cmd += ["--input", str(default_input), "--lake", str(default_lake), "--batch-size", "2"]
    # Tests run the deployment on folders beside `root` (all under pytest's base temp).
    cmd += ["--allowed-root", str(root.parent)]
    proc = spawn(cmd, env, log)
    found: dict[str, Any] = {}

    def registered() -> bool:
        response = httpx.get(f"{server.api_url}/deployments/name/newsflow/{DEPLOYMENT}", timeout=5)
        found.update(response.json() if response.status_code == 200 else {})
        return bool(found)

    try:
        wait_until(registered, 180, "newsflow serve", proc, log)
        # Registered is not yet polling: give the runner a moment to start its loop.
        time.sleep(2)
        yield ServedDeployment(server, found, default_input, default_lake)
    finally:
        stop(proc)


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
