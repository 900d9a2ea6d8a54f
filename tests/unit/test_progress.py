"""Progress lines of long tasks: phases with their own seconds, loop positions at most
once per interval, never after the last item."""

from __future__ import annotations

import itertools
import logging
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.progress import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    Progress,
    RunProgress,
    StageTally,
    duration,
    eta_seconds,
    line_interval,
    rate,
    reporter,
    run_logger,
)


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


# -- RunProgress: rows done / total, rate and ETA of a run's stage ---------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[float, str]] = []
        self.clock: Clock | None = None

    def emit(self, record: logging.LogRecord) -> None:
        assert self.clock is not None
        self.lines.append((self.clock.now, record.getMessage()))


def recorder(clock: Clock, name: str) -> tuple[logging.Logger, Lines]:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Lines()
    handler.clock = clock
    logger.handlers = [handler]
    return logger, handler


@given(
    steps=st.lists(st.tuples(st.floats(0, 90, allow_nan=False), st.integers(0, 50)), max_size=60),
    every=st.floats(0, 600, allow_nan=False),
)
def test_lines_never_come_closer_than_the_minimum_interval(
    steps: list[tuple[float, int]], every: float
) -> None:
    clock = Clock()
    logger, lines = recorder(clock, "test.progress.throttle")
    progress = RunProgress("r", logger, ["enrich"], every=every, clock=clock, heartbeat=False)
    progress.start("enrich", {"a": 500, "b": 500})
    for wait, units in steps:
        clock.now += wait
        progress.advance("enrich", "a" if units % 2 else "b", units)
        progress.tick()
    times = [t for t, _ in lines.lines]
    gaps = [later - earlier for earlier, later in itertools.pairwise([100.0, *times])]
    assert all(gap >= MIN_INTERVAL_S for gap in gaps)
    assert all(gap >= line_interval(every) for gap in gaps)


@given(ticks=st.lists(st.floats(0.5, 5, allow_nan=False), min_size=1, max_size=200))
def test_a_ticking_run_says_something_at_least_once_a_minute(ticks: list[float]) -> None:
    """The heartbeat calls tick() about once a second: with nothing advancing, a line
    still comes at least every MAX_INTERVAL_S (plus one tick)."""
    clock = Clock()
    logger, lines = recorder(clock, "test.progress.heartbeat")
    progress = RunProgress("r", logger, ["enrich"], every=1e9, clock=clock, heartbeat=False)
    progress.start("enrich", {"a": 10})
    for tick in ticks:
        clock.now += tick
        progress.tick()
    times = [100.0, *(t for t, _ in lines.lines), clock.now]
    assert all(b - a < MAX_INTERVAL_S + 5 for a, b in itertools.pairwise(times))


@given(
    # Rows done are units (whole) over the steps a row takes (1-7 enrichers).
    done=st.builds(lambda units, scale: units / scale, st.integers(0, 10**7), st.integers(1, 7)),
    total=st.integers(0, 10**7).map(float),
    # Clock readings: 0 (the stage just started) or at least a millisecond.
    elapsed=st.just(0.0) | st.floats(1e-3, 1e6),
)
def test_eta_is_never_negative_and_zero_only_when_done(
    done: float, total: float, elapsed: float
) -> None:
    eta = eta_seconds(done, total, elapsed)
    if done >= total:
        assert eta == 0
    elif done == 0 or elapsed == 0:
        assert eta is None
    else:
        assert eta is not None
        assert eta >= 0
        # At the rate so far, the rest takes the ETA: rate * (elapsed + eta) reaches total.
        assert math.isclose(rate(done, elapsed) * (elapsed + eta), total, rel_tol=1e-6)


@given(
    totals=st.dictionaries(st.sampled_from("abcde"), st.integers(0, 1000), min_size=1),
    reports=st.lists(st.tuples(st.sampled_from("abcdefg"), st.integers(-5, 400)), max_size=40),
    finished=st.lists(st.sampled_from("abcde"), max_size=5),
)
def test_done_never_passes_total(
    totals: dict[str, int], reports: list[tuple[str, int]], finished: list[str]
) -> None:
    tally = StageTally("enrich", "documents", totals, 0.0, scale=3)
    for item, units in reports:
        tally.advance(item, units)
        assert 0 <= tally.rows_done <= tally.rows_total
    for item in finished:
        tally.finish(item)
    assert 0 <= tally.rows_done <= tally.rows_total
    if set(finished) >= set(totals):
        assert tally.rows_done == tally.rows_total


def test_a_line_says_rows_rate_and_eta_of_the_stage_and_the_run() -> None:
    clock = Clock()
    logger, lines = recorder(clock, "test.progress.line")
    stages = ["clean", "dedupe", "enrich"]
    with RunProgress("r1", logger, stages, every=30, clock=clock, heartbeat=False) as run:
        clock.now += 15  # before the stage: the run's own time counts from its start
        run.start("clean", {"b1": 600, "b2": 400})
        clock.now += 40
        run.finish("clean", "b1")
        run.end("clean")
        # Enrich counts a document once per per-document enricher (scale 2): a chunk of
        # 100 documents through one enricher is 50 documents done.
        run.start("enrich", {"b1": 1_000}, unit="documents", scale=2)
        report = reporter("r1", "enrich", "b1")
        assert report is not None
        clock.now += 50
        report(100)  # 25 documents in 50 s -> 475 to go at 0.5/s
    assert reporter("r1", "enrich", "b1") is None  # the run is over: no reporting into it
    assert [text for _, text in lines.lines] == [
        "clean: 600/1,000 rows (60 %), 15.0 rows/s, ETA 27 s; run: 55 s elapsed, "
        "dedupe, enrich to follow",
        "clean: 600 rows in 40 s (15.0 rows/s)",
        "enrich: 50/500 documents (10 %), 1.0 documents/s, ETA 7m 30s; "
        "run: 1m 45s elapsed, ETA 7m 30s",
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (59.4, "59 s"), (60, "1m 00s"), (185, "3m 05s"), (3720, "1h 02m")],
)
def test_durations_read_short(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
