"""One run per lake through Prefect: a global concurrency limit named after the lake
admits one run; the next waits, says so at least once a minute, and gives up after
`lock_wait_seconds` naming the limit."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import flows.lake_slot
from flows.lake_slot import lake_limit_name, lake_slot, writer_lock
from newsflow.lease import LEASE_OBJECT
from newsflow.lock import LakeBusyError, holder

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
