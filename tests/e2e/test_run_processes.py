"""Every process a served run starts ends with the run: Completed, Cancelled from the API
(as the UI cancels), or its flow-run process SIGKILLed. `serve` stops on SIGTERM within
10 s and leaves its schedule active; failed, crashed and late runs reach a webhook.

The runs read ~10 MB of invented articles, enough for the enrichers' worker processes
(tasks/enrichers/workers.py) to start. Processes are found through `serve`'s process
tree: its children are flow-run processes, their children the enrich workers (and
multiprocessing's resource tracker). `serve`'s own resource tracker, started with its
first run, lives as long as `serve` and is not a run's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from app.deploy import STOPPED_MESSAGE
from tests.e2e.big_input import write_articles
from tests.e2e.fixtures import wait_for_flow_run
from tests.e2e.processes import BIN, spawn, stop, tail, wait_until
from tests.prefect_server import PrefectServer

pytestmark = pytest.mark.e2e

ENRICHERS = ["counts_v2", "language_v2"]  # language_v2 runs in the worker processes
WORKER = "enrich-worker"


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    deployment_id: str
    name: str
    log: Path


@dataclass
class Receiver:
    """A loopback HTTP endpoint that keeps every JSON body POSTed to it."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [b for b in list(self.bodies) if match(b)]
            if found:
                return found[0]
            time.sleep(0.5)
        raise AssertionError(f"no notification matched within {timeout_s} s: {self.bodies}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    got = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            got.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()


@pytest.fixture(scope="module")
def big_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("big") / "raw"
    write_articles(raw, megabytes=10)
    return raw


def start_serve(server: PrefectServer, raw: Path, name: str, *options: str) -> Serve:
    log = server.logs / f"{name}.log"
    env = {**server.env, "PREFECT_RUNNER_POLL_FREQUENCY": "1", "NEWSFLOW_ENRICH_WORKERS": "2"}
    cmd = [str(BIN / "newsflow"), "serve", "--name", name, "--input", str(raw)]
    cmd += ["--lake", str(raw.parent / f"lake-{name}"), *options]
    # Runs may use any folder of this test session (each test's lake is in its tmp_path).
    cmd += ["--allowed-root", str(raw.parents[1])]
    proc = spawn(cmd, env, log)
    found: dict[str, Any] = {}

    def registered() -> bool:
        response = httpx.get(f"{server.api_url}/deployments/name/newsflow/{name}", timeout=5)
        found.update(response.json() if response.status_code == 200 else {})
        return bool(found)

    wait_until(registered, 180, f"newsflow serve {name}", proc, log)
    time.sleep(2)  # registered, not yet polling
    return Serve(proc, str(found["id"]), name, log)


@pytest.fixture(scope="module")
def served(prefect_server: PrefectServer, big_raw: Path, receiver: Receiver) -> Iterator[Serve]:
    serve = start_serve(
        prefect_server, big_raw, "newsflow-processes", "--alert-webhook", receiver.url
    )
    yield serve
    stop(serve.proc)


def start_run(server: PrefectServer, serve: Serve, raw: Path, lake: Path, **config: Any) -> str:
    body = {
        "parameters": {
            "config": {"input_dir": str(raw), "lake_dir": str(lake), "enrichers": ENRICHERS}
            | config
        },
        "state": {"type": "SCHEDULED"},
    }
    run = server.call("POST", f"/deployments/{serve.deployment_id}/create_flow_run", json=body)
    return str(run["id"])


def state_of(server: PrefectServer, flow_run_id: str) -> str:
    run = server.call("GET", f"/flow_runs/{flow_run_id}")
    return str(run["state"]["type"]) if run.get("state") else "PENDING"


class RunProcesses:
    """Every process seen under `serve` that belongs to a run: pid -> (start time, role)."""

    def __init__(self, serve_pid: int) -> None:
        self.serve = psutil.Process(serve_pid)
        self.seen: dict[int, tuple[float, str]] = {}

    def look(self) -> None:
        for child in self.serve.children():
            try:
                if "resource_tracker" in " ".join(child.cmdline()):
                    continue  # serve's own
                self.seen[child.pid] = (child.create_time(), "flow-run")
                for grandchild in child.children(recursive=True):
                    command = " ".join(grandchild.cmdline())
                    role = WORKER if "spawn_main" in command else "other"
                    self.seen[grandchild.pid] = (grandchild.create_time(), role)
            except psutil.Error:
                continue

    def watch_until(self, done: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, f"not done after {timeout_s} s"
            self.look()
            time.sleep(0.3)

    def pids(self, role: str | None = None) -> list[int]:
        return [p for p, (_, r) in self.seen.items() if role in (None, r)]

    def alive(self, role: str | None = None) -> list[str]:
        left = []
        for pid in self.pids(role):
            try:
                process = psutil.Process(pid)
                same = process.create_time() == self.seen[pid][0]
                if same and process.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{pid} {self.seen[pid][1]}: {' '.join(process.cmdline())[:120]}")
            except psutil.Error:
                continue
        return left

    def wait_all_gone(self, timeout_s: float, role: str | None = None) -> float:
        """Seconds until none of the seen processes (of `role`) is left; fails after."""
        start = time.monotonic()
        while self.alive(role) and time.monotonic() - start < timeout_s:
            time.sleep(0.2)
        assert not self.alive(role), self.alive(role)
        return time.monotonic() - start


def workers_started(processes: RunProcesses) -> Callable[[], bool]:
    return lambda: bool(processes.pids(WORKER))


def test_a_completed_run_leaves_no_process_behind(
    served: Serve, prefect_server: PrefectServer, big_raw: Path, tmp_path: Path
) -> None:
    flow_run = start_run(prefect_server, served, big_raw, tmp_path / "lake")
    processes = RunProcesses(served.proc.pid)
    terminal = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
    processes.watch_until(lambda: state_of(prefect_server, flow_run) in terminal, 900)
    assert state_of(prefect_server, flow_run) == "COMPLETED", tail(served.log)
    assert len(processes.pids(WORKER)) == 2  # the run did use the worker pool
    print(f"completed: every process gone {processes.wait_all_gone(15):.1f} s after the state")


def test_a_cancelled_run_stops_its_workers_within_seconds(
    served: Serve, prefect_server: PrefectServer, big_raw: Path, tmp_path: Path
) -> None:
    flow_run = start_run(prefect_server, served, big_raw, tmp_path / "lake")
    processes = RunProcesses(served.proc.pid)
    processes.watch_until(workers_started(processes), 600)
    # As the UI's Cancel does: the run goes Cancelling, the runner stops its process.
    cancelling = {"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": True}
    prefect_server.call("POST", f"/flow_runs/{flow_run}/set_state", json=cancelling)
    workers_s = processes.wait_all_gone(20, WORKER)
    all_s = processes.wait_all_gone(45)  # the flow-run process too (Prefect's grace is 30 s)
    print(f"cancel: workers gone after {workers_s:.1f} s, every process after {all_s:.1f} s")
    assert wait_for_flow_run(prefect_server, flow_run, 120).startswith("CANCELLED")


def test_workers_die_with_a_sigkilled_flow_run_and_the_crash_is_alerted(
    served: Serve, prefect_server: PrefectServer, big_raw: Path, tmp_path: Path, receiver: Receiver
) -> None:
    flow_run = start_run(prefect_server, served, big_raw, tmp_path / "lake")
    processes = RunProcesses(served.proc.pid)
    processes.watch_until(workers_started(processes), 600)
    [flow_process] = {psutil.Process(p).ppid() for p in processes.pids(WORKER)}
    os.kill(flow_process, signal.SIGKILL)
    print(f"SIGKILL: workers gone after {processes.wait_all_gone(5, WORKER):.1f} s")
    assert wait_for_flow_run(prefect_server, flow_run, 120).startswith("CRASHED")
    alert = receiver.wait_for(lambda b: flow_run in b.get("body", ""), 120)
    assert "Crashed" in alert["subject"]


def test_a_failed_run_is_alerted(
    served: Serve, prefect_server: PrefectServer, big_raw: Path, tmp_path: Path, receiver: Receiver
) -> None:
    flow_run = start_run(prefect_server, served, big_raw, tmp_path / "lake", enrichers=["bogus_v9"])
    assert wait_for_flow_run(prefect_server, flow_run, 300).startswith("FAILED")
    alert = receiver.wait_for(lambda b: flow_run in b.get("body", ""), 120)
    assert "Failed" in alert["subject"]
    assert "bogus_v9" in alert["body"]  # the state message says what failed


@dataclass
class Stopped:
    serve: Serve
    seconds: float
    processes: RunProcesses


@pytest.fixture(scope="module")
def sigtermed(prefect_server: PrefectServer, big_raw: Path) -> Iterator[Stopped]:
    """A second `serve`, sent SIGTERM (as systemd or `kill` stop it) while a run is busy."""
    serve = start_serve(prefect_server, big_raw, "newsflow-sigterm")
    try:
        start_run(prefect_server, serve, big_raw, big_raw.parent / "lake-sigterm-run")
        processes = RunProcesses(serve.proc.pid)
        processes.watch_until(workers_started(processes), 600)
        start = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            serve.proc.wait(timeout=30)
        yield Stopped(serve, time.monotonic() - start, processes)
    finally:
        stop(serve.proc)


def test_sigterm_stops_serve_and_its_run_within_10_s(sigtermed: Stopped) -> None:
    assert sigtermed.serve.proc.returncode is not None, tail(sigtermed.serve.log)
    print(f"SIGTERM: serve exited after {sigtermed.seconds:.1f} s")
    assert sigtermed.seconds <= 10, tail(sigtermed.serve.log)
    sigtermed.processes.wait_all_gone(5)
    assert STOPPED_MESSAGE.format(name=sigtermed.serve.name) in sigtermed.serve.log.read_text()


def test_stopping_serve_leaves_the_schedule_active(
    sigtermed: Stopped, prefect_server: PrefectServer
) -> None:
    deployment = prefect_server.call("GET", f"/deployments/{sigtermed.serve.deployment_id}")
    assert deployment["paused"] is False
    assert deployment["schedules"]
    assert all(s["active"] for s in deployment["schedules"])


def test_a_run_nobody_picks_up_goes_late_and_is_alerted(
    sigtermed: Stopped, prefect_server: PrefectServer, served: Serve, receiver: Receiver
) -> None:
    """`served` set the alerts up; the stopped serve's next run falls due unserved."""
    due = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    body = {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": due}}}
    deployment = sigtermed.serve.deployment_id
    flow_run = prefect_server.call("POST", f"/deployments/{deployment}/create_flow_run", json=body)
    alert = receiver.wait_for(lambda b: flow_run["id"] in b.get("body", ""), 120)
    assert "Late" in alert["subject"]
