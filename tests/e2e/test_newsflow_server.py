"""`newsflow server` starts a Prefect server for the project's PREFECT_HOME, `newsflow run`
uses it (and says so, and links the run's UI page), `--stop` ends it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from tests.conftest import SAMPLE_RAW
from tests.e2e.processes import BIN, REPO, free_port, quiet_prefect_env


def newsflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "newsflow"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_run_uses_the_server_newsflow_server_started_then_stop_ends_it(
    tmp_path: Path,
) -> None:
    env = quiet_prefect_env(tmp_path / "prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        started = newsflow("server", "--port", str(port), env=env)
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == url
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        # The UI is told where its API is (a port other than 4200 works in the browser).
        settings = httpx.get(f"{url}/ui-settings", timeout=5).json()
        assert settings["api_url"] == f"{url}/api"

        lake = tmp_path / "lake"
        run = newsflow(
            "run",
            "--input",
            str(SAMPLE_RAW),
            "--lake",
            str(lake),
            "--stop-after",
            "clean",
            env=env,
        )
        assert run.returncode == 0, run.stderr
        assert f"newsflow: using the Prefect server at {url} (newsflow server)" in run.stderr
        last = run.stdout.strip().splitlines()[-1]
        assert re.fullmatch(rf"  ui: +{re.escape(url)}/runs/flow-run/[0-9a-f-]{{36}}", last)
        flow_run_id = last.rsplit("/", 1)[1]
        flow_run = httpx.get(f"{url}/api/flow_runs/{flow_run_id}", timeout=10).json()
        run_id = run.stdout.split()[1]
        assert flow_run["name"].endswith(f" {run_id}")
    finally:
        stopped = newsflow("server", "--stop", env=env)
    assert stopped.returncode == 0
    assert f"stopped the Prefect server at {url}" in stopped.stderr
    try:
        httpx.get(f"{url}/api/health", timeout=2)
        answered = True
    except httpx.HTTPError:
        answered = False
    assert not answered
