"""`newsflow server`'s record of the server it started: found only while it answers."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app import local_server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    return tmp_path


def test_nothing_recorded_means_no_server_and_stop_is_a_no_op(home: Path) -> None:
    assert local_server.recorded() is None
    assert local_server.running() is None
    assert local_server.stop() is None


def test_a_recorded_server_that_does_not_answer_is_not_used(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    (home / local_server.STATE_FILE).write_text(json.dumps({"pid": 999_999_999, "url": url}))
    assert local_server.recorded() == local_server.LocalServer(999_999_999, url)
    assert local_server.running() is None
    assert local_server.stop() is None  # the process is gone: nothing to stop
    assert not (home / local_server.STATE_FILE).exists()


def test_stop_ends_the_recorded_process_group(home: Path) -> None:
    # Looks like `prefect server` to stop(): it checks before it signals a recorded pid.
    sleeper = "import time; time.sleep(60)"
    proc = subprocess.Popen(
        [sys.executable, "-c", sleeper, "bin/prefect", "server"], start_new_session=True
    )
    reaper = threading.Thread(target=proc.wait)  # as init would reap a detached server
    reaper.start()
    # Until the child has exec'd, its command line is pytest's (a loaded machine shows it).
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    deadline = time.monotonic() + 10
    while b"server" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    state = {"pid": proc.pid, "url": "http://127.0.0.1:9"}
    (home / local_server.STATE_FILE).write_text(json.dumps(state))
    stopped = local_server.stop()
    reaper.join(15)
    assert stopped is not None
    assert stopped.pid == proc.pid
    assert proc.returncode == -signal.SIGTERM


def test_stop_leaves_a_process_that_is_not_a_prefect_server_alone(home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        state = {"pid": proc.pid, "url": "http://127.0.0.1:9"}
        (home / local_server.STATE_FILE).write_text(json.dumps(state))
        assert local_server.stop() is None
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def answering_health() -> Iterator[str]:
    """A loopback HTTP server answering /api/health as Prefect's does; yields its URL."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_uses_the_recorded_server_only_while_it_answers(
    home: Path, answering_health: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from app.cli import _local_server_if_up
    from flows.validation import api_url

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        with _local_server_if_up():  # nothing recorded: today's temporary server
            assert api_url() is None
        assert capsys.readouterr().err == ""
        state = {"pid": 1, "url": answering_health}
        (home / local_server.STATE_FILE).write_text(json.dumps(state))
        with _local_server_if_up():
            assert api_url() == f"{answering_health}/api"
        assert api_url() is None
        assert "using the Prefect server at" in capsys.readouterr().err
        # A configured PREFECT_API_URL wins over the recorded server.
        configured = temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"})
        with configured, _local_server_if_up():
            assert api_url() == "http://127.0.0.1:9/api"
