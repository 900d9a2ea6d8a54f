"""One run per lake through Prefect: a global concurrency limit named after the lake
admits one run; the next waits, says so at least once a minute, and gives up after
`lock_wait_seconds` naming the limit."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import flows.lake_slot
from flows.lake_slot import LEASE_SECONDS, lake_limit_name, lake_slot, writer_lock
from newsflow.lease import LEASE_OBJECT
from newsflow.lock import LakeBusyError, holder
from tests.prefect_server import PrefectServer

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, Recorder]]:
    log = logging.getLogger("test-lake-slot")
    recorder = Recorder()
    log.addHandler(recorder)
    log.setLevel(logging.INFO)
    yield log, recorder
    log.removeHandler(recorder)


def test_a_second_run_on_the_lake_waits_says_so_and_gives_up(
    tmp_path: Path, logger: tuple[logging.Logger, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, recorder = logger
    monkeypatch.setattr(flows.lake_slot, "REPORT_SECONDS", 1.0)
    monkeypatch.setattr(flows.lake_slot, "MIN_TRY_SECONDS", 1.0)
    lake = tmp_path / "lake"
    with lake_slot(lake, None, "first", 5, log):
        # Another thread, so the lake's lock file (held per process) is not what stops it.
        caught: list[BaseException] = []

        def second() -> None:
            try:
                with lake_slot(lake, None, "second", 3.5, log):
                    pass
            except BaseException as exc:
                caught.append(exc)

        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(60)
    [error] = caught
    assert isinstance(error, LakeBusyError)
    assert lake_limit_name(lake) in str(error)
    assert "gave up after 3.5 s" in str(error)
    waits = [line for line in recorder.lines if line.startswith("Waiting for the lake")]
    assert len(waits) >= 2, recorder.lines  # every REPORT_SECONDS while it waits


def test_the_next_run_gets_the_lake_when_the_first_ends(
    tmp_path: Path, logger: tuple[logging.Logger, Recorder]
) -> None:
    log, _ = logger
    lake = tmp_path / "lake"
    with lake_slot(lake, "shared", "first", 5, log) as waited:
        assert waited < 5
    with lake_slot(lake, "shared", "second", 5, log) as waited:
        assert waited < 5


def test_lakes_do_not_wait_for_each_other(
    tmp_path: Path, logger: tuple[logging.Logger, Recorder]
) -> None:
    log, recorder = logger
    with (
        lake_slot(tmp_path / "one", None, "first", 5, log),
        lake_slot(tmp_path / "two", None, "second", 5, log) as waited,
    ):
        assert waited < 5
    assert not [line for line in recorder.lines if line.startswith("Waiting")]


def test_writer_lock_on_a_local_lake_takes_its_limit_and_its_lock(
    tmp_path: Path, logger: tuple[logging.Logger, Recorder]
) -> None:
    from prefect import get_client

    log, _ = logger
    lake = tmp_path / "lake"
    with writer_lock(lake, None, "first", 5, log):
        assert holder(lake)["run_id"] == "first"
        with get_client(sync_client=True) as client:
            limit = client.read_global_concurrency_limit_by_name(lake_limit_name(lake))
        assert limit.active_slots == 1
    assert not (lake / LEASE_OBJECT).exists()


def test_a_run_killed_holding_the_lake_does_not_keep_its_slot_until_the_lease_lapses(
    prefect_server: PrefectServer, tmp_path: Path, logger: tuple[logging.Logger, Recorder]
) -> None:
    log, recorder = logger
    lake, ready = tmp_path / "lake", tmp_path / "held"
    script = textwrap.dedent(
        f"""
        import logging, pathlib, time
        from flows.lake_slot import lake_slot
        with lake_slot(pathlib.Path({str(lake)!r}), None, "victim", 5, logging.getLogger()):
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(600)
        """
    )
    env = {**os.environ, **prefect_server.env}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None, "the holder died before taking the lake"
            assert time.monotonic() < deadline, "the holder never took the lake"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # its slot's lease stays, renewed no more
        proc.wait()
    assert holder(lake)["slot_lease"]
    with lake_slot(lake, None, "next", 50, log) as waited:
        assert holder(lake)["run_id"] == "next"
    assert waited < LEASE_SECONDS / 2, recorder.lines  # not the lease's lapse
    released = [line for line in recorder.lines if line.startswith("Released the lake's")]
    assert len(released) == 1
    assert "run victim" in released[0]
