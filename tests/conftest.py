"""Shared fixtures: a private Prefect home, no network, one Prefect server per session."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.s3_server import S3Server, running_seaweedfs

# Before anything imports Prefect: a throwaway home, no telemetry, time to boot.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsflow-prefect-")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from tests.e2e.fixtures import ServedDeployment, served  # noqa: E402
from tests.prefect_server import PrefectServer, reporting_to, running_prefect_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RAW = REPO / "data" / "raw"
SEED_HEADED = "000_2c8ad440c62453d1.txt"
SEED_DATED = "002_1068fdf2287753f9.txt"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    """Tests may talk to servers on this machine, never to the network."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else str(address)
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise OSError(f"network access blocked in tests: {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


# No Hypothesis deadline: on a shared, loaded machine a first example that warms a cache
# can take 300 ms, and a deadline then fails a test that is correct (a "flaky" error).
settings.register_profile("newsflow", deadline=None)
settings.load_profile("newsflow")

# Every test in these folders carries the folder's marker (pyproject.toml), new ones too.
FOLDER_MARKERS = {"e2e": "e2e", "browser": "browser", "flows": "flow"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = REPO / "tests"
    for item in items:
        if item.path.is_relative_to(tests):
            folder = item.path.relative_to(tests).parts[0]
            if folder in FOLDER_MARKERS:
                item.add_marker(FOLDER_MARKERS[folder])


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """The session's one Prefect server (tests/prefect_server.py); flows called in this
    process report to it too."""
    root = tmp_path_factory.mktemp("prefect")
    with running_prefect_server(root) as server, reporting_to(server):
        yield server


@pytest.fixture(scope="session")
def served_deployment(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedDeployment]:
    """`newsflow serve` against the session's server, once for the e2e and browser tests."""
    with served(prefect_server, tmp_path_factory.mktemp("served")) as deployment:
        yield deployment


@pytest.fixture
def sample_raw(tmp_path: Path) -> Path:
    """A private copy of the shipped sample corpus, so tests can add or edit files."""
    target = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, target)
    return target


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS S3 server on loopback for the session (tests mark themselves `s3`);
    each test makes its own bucket with `s3_server.new_bucket()`."""
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The test server, named in this test's AWS_* environment as a user would."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    return s3_server
