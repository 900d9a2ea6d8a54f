"""One local Prefect server for the session, and the lakes several test modules compare.

`newsflow run` processes talk to the server through PREFECT_API_URL; in-process flows
(the accounting test) point at it with Prefect's temporary settings. One server for
all of them instead of a temporary one per run: each of those takes 10-15 s to boot.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.corpus import SECOND_HALF, build_corpus
from tests.reliability.lakes import BATCH_SIZE, REPO, PrefectServer, Run, kill_group, newsflow_run

PREFECT = REPO / ".venv" / "bin" / "prefect"
SERVER_BOOT_S = 240  # the hang guard for a server boot on a busy machine
QUIET = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """`prefect server start` on loopback, killed with its process group at the end."""
    root = tmp_path_factory.mktemp("prefect")
    server_home, run_home, log = root / "server", root / "runs", root / "server.log"
    url = f"http://127.0.0.1:{_free_port()}/api"
    port = url.rsplit(":", 1)[1].split("/")[0]
    server_env = {**os.environ, **QUIET, "PREFECT_HOME": str(server_home)}
    server_env.pop("PREFECT_API_URL", None)
    command = [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", port]
    command += ["--no-services", "--no-ui", "--analytics-off"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, env=server_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_BOOT_S
        while not _healthy(url):
            assert proc.poll() is None, f"prefect server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"prefect server not up:\n{log.read_text()}"
            time.sleep(0.5)
        env = {**os.environ, **QUIET, "PREFECT_HOME": str(run_home), "PREFECT_API_URL": url}
        yield PrefectServer(url, env, (server_home, run_home), log)
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        kill_group(proc)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("corpus") / "raw")


@pytest.fixture(scope="session")
def reference(
    prefect_api: PrefectServer, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Run]:
    """The lake of one uninterrupted run over the whole corpus, and that run's output."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    run = newsflow_run(prefect_api.env, corpus, lake, "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output
    return lake, run


@pytest.fixture(scope="session")
def first_half(prefect_api: PrefectServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake after one run over the corpus without SECOND_HALF (tests copy it)."""
    root = tmp_path_factory.mktemp("first_half")
    raw = build_corpus(root / "raw", leave_out=SECOND_HALF)
    run = newsflow_run(prefect_api.env, raw, root / "lake", "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output
    return root / "lake"
