"""Progress lines of long tasks: phases with their own seconds, loop positions at most
once per interval, never after the last item."""

from __future__ import annotations

import logging

import pytest

from newsflow.progress import Progress, run_logger


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.progress"]


def test_each_phase_is_timed_from_the_end_of_the_one_before(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    progress = Progress(logging.getLogger("test.progress"), "dedupe", clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        clock.now += 2.5
        progress.done("fingerprinted %d new documents", 7)
        clock.now += 40.0
        progress.done("merged 50% of nothing")  # no args: the message is not %-formatted
    assert messages(caplog) == [
        "dedupe: fingerprinted 7 new documents in 2.5 s",
        "dedupe: merged 50% of nothing in 40.0 s",
    ]


def test_a_loop_reports_its_position_once_per_interval_and_not_at_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    progress = Progress(logging.getLogger("test.progress"), "dedupe", every=60.0, clock=clock)
    seen = []
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for item in progress.each(range(10), 10, "batch files"):
            seen.append(item)
            clock.now += 25.0  # lines due after items 3 (75 s), 6 (150 s) and 9 (225 s)
    assert seen == list(range(10))
    assert messages(caplog) == [
        "dedupe: batch files 3/10 (30 %)",
        "dedupe: batch files 6/10 (60 %)",
        "dedupe: batch files 9/10 (90 %)",
    ]


def test_a_quick_loop_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(logging.getLogger("test.progress"), "dedupe", clock=Clock())
    with caplog.at_level(logging.INFO, logger="test.progress"):
        assert list(progress.each(["a", "b"], 2, "batch files")) == ["a", "b"]
    assert messages(caplog) == []


def test_outside_a_run_lines_go_to_newsflows_logger() -> None:
    logger = run_logger()
    assert isinstance(logger, logging.Logger)
    assert logger.name == "newsflow"
