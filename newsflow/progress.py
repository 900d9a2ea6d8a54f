"""Progress lines for a long task: each finished phase with its counts and seconds, and
a loop's position at most once a minute, so a task that runs for half an hour on a
large lake is not silent in the Prefect UI for all of it. `RunProgress` does the same
for a run's long stages (ingest and clean per batch, enrich per chunk of documents): rows done /
total, rate and ETA, in the run's log (terminal and Prefect UI)."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

T = TypeVar("T")
Logger = logging.Logger | logging.LoggerAdapter[Any]


def run_logger() -> Logger:
    """The run's logger (its lines reach the Prefect UI), or newsflow's outside a run
    (a task's `.fn` called directly, as benchmarks and unit tests do)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("newsflow")


class Progress:
    """Logs `"<name>: <message> in <seconds> s"` as each phase ends, and the position in
    a long loop every `every` seconds."""

    def __init__(
        self,
        logger: Logger,
        name: str,
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.name, self.every, self.clock = logger, name, every, clock
        self.started = clock()

    def done(self, message: str, *args: object) -> None:
        """Log the phase that ends now (`message % args`) with its seconds; the next
        phase starts now."""
        now = self.clock()
        self.logger.info(
            "%s: %s in %.1f s", self.name, message % args if args else message, now - self.started
        )
        self.started = now

    def each(self, items: Iterable[T], total: int, what: str) -> Iterator[T]:
        """`items`, logging `"<what> i/total (p %)"` when `every` seconds have passed
        since the last line (or the loop's start) and the loop is not over."""
        last = self.clock()
        for i, item in enumerate(items, start=1):
            yield item
            now = self.clock()
            if now - last >= self.every and i < total:
                self.logger.info(
                    "%s: %s %d/%d (%.0f %%)", self.name, what, i, total, 100 * i / total
                )
                last = now


# -- progress inside a run's long stages: rows done / total, rate, ETA ----------------

# Lines at most this often (a busy log hides everything else) and at least this often
# (an operator watching a silent run cannot tell slow from stuck).
MIN_INTERVAL_S = 10.0
MAX_INTERVAL_S = 60.0
DEFAULT_INTERVAL_S = 30.0


def line_interval(every: float) -> float:
    """`every`, held between MIN_INTERVAL_S and MAX_INTERVAL_S."""
    return min(max(every, MIN_INTERVAL_S), MAX_INTERVAL_S)


def line_due(last_line_at: float, now: float, every: float) -> bool:
    """Whether a progress line is due: `every` seconds since the last one (or the start)."""
    return now - last_line_at >= line_interval(every)


def rate(done: float, elapsed: float) -> float:
    """Units per second so far (0 before any time has passed)."""
    return done / elapsed if elapsed > 0 else 0.0


def eta_seconds(done: float, total: float, elapsed: float) -> float | None:
    """Seconds left at the rate so far: 0 when all is done, None before the first unit
    (no rate to extrapolate from)."""
    remaining = max(total - done, 0.0)
    if remaining == 0:
        return 0.0
    if done <= 0 or elapsed <= 0:
        return None
    return remaining * elapsed / done


def duration(seconds: float) -> str:
    """`42 s`, `3m 05s`, `1h 02m`: short enough for a log line, exact enough for an ETA."""
    whole = round(max(seconds, 0.0))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


@dataclass
class StageTally:
    """Units done and to do per item (batch) of one stage. A unit is a row, or for a
    stage that passes each row through `scale` steps (enrich's per-document enrichers),
    one row through one step; rows shown are units / scale."""

    name: str
    unit: str
    totals: dict[str, int]
    started_at: float
    scale: int = 1
    done: dict[str, int] = field(default_factory=dict)

    def advance(self, item: str, units: int) -> None:
        """`units` more of `item` done; never past the item's total."""
        total = self.totals.get(item, 0)
        self.done[item] = min(self.done.get(item, 0) + max(units, 0), total)

    def finish(self, item: str) -> None:
        self.done[item] = self.totals.get(item, 0)

    @property
    def rows_done(self) -> float:
        return sum(self.done.values()) / self.scale

    @property
    def rows_total(self) -> float:
        return sum(self.totals.values()) / self.scale


class RunProgress:
    """Progress of a run's current stage, logged while it runs: rows done / total, rate
    and ETA of the stage, the run's elapsed time, and its ETA when the stage is the last
    one planned. A line goes out when a stage advances and `every` seconds have passed
    since the last line, and, from a heartbeat thread, when nothing advanced for that
    long (a chunk of model work can take minutes).

    Tasks running in this process report through `reporter(run_id, stage, item)`; tasks
    elsewhere (Dask workers) are counted when the flow sees their item finish.

    With `artifacts`, each stage also gets a Prefect progress artifact (a bar on the flow
    run's Artifacts tab, described by the last line), created where the stage starts (the
    flow's thread, in the run's context) and updated by the heartbeat thread, so a slow
    or failing API call never holds up a task.
    """

    def __init__(
        self,
        run_id: str,
        logger: Logger,
        stages: Iterable[str],
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: bool = True,
        artifacts: bool = False,
    ) -> None:
        self.run_id, self.logger, self.clock = run_id, logger, clock
        self.stages = list(stages)
        self.every = line_interval(DEFAULT_INTERVAL_S if every is None else every)
        self.run_started = self.last_line = clock()
        self.stage: StageTally | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # The thread runs in a copy of this context: Prefect's settings and run live in
        # context variables, and a bare thread would talk to no server or another one.
        beat = contextvars.copy_context().run
        self._beat = (
            threading.Thread(target=beat, args=(self._heartbeat,), daemon=True)
            if heartbeat
            else None
        )
        self.artifacts = artifacts
        self._artifact: Any = None  # the current stage's progress artifact id
        self._shown: tuple[Any, float, str] | None = None  # (artifact, %, line) to push

    def __enter__(self) -> RunProgress:
        _ACTIVE[self.run_id] = self
        if self._beat is not None:
            self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.pop(self.run_id, None)
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        self._push_artifact()

    def start(self, stage: str, totals: dict[str, int], unit: str = "rows", scale: int = 1) -> None:
        """The run enters `stage`, with `totals` units to do per item; its first line
        comes `every` seconds on (a line at 0 % says nothing). A stage with nothing to
        do (no new batch) logs nothing."""
        with self._lock:
            self.last_line = self.clock()
            if not totals:
                self.stage = None
                return
            self.stage = StageTally(stage, unit, dict(totals), self.last_line, max(scale, 1))
            if self.artifacts:
                self._artifact = _new_artifact(self.logger, f"{stage}: started")

    def advance(self, stage: str, item: str, units: int) -> None:
        self._update(stage, lambda tally: tally.advance(item, units))

    def finish(self, stage: str, item: str) -> None:
        """`item` is done (its task returned): counted whole, whatever it reported."""
        self._update(stage, lambda tally: tally.finish(item))

    def end(self, stage: str) -> None:
        """Log the stage's totals and rate; the run is between stages until the next."""
        with self._lock:
            tally = self.stage
            if tally is None or tally.name != stage:
                return
            self.stage = None
            elapsed = self.clock() - tally.started_at
            text = (
                f"{stage}: {tally.rows_done:,.0f} {tally.unit} in {duration(elapsed)} "
                f"({rate(tally.rows_done, elapsed):.1f} {tally.unit}/s)"
            )
            self.logger.info("%s", text)
            self._show(100.0, text)

    def line(self) -> str | None:
        """The current stage's progress line (None between stages)."""
        tally, now = self.stage, self.clock()
        if tally is None:
            return None
        done, total = tally.rows_done, tally.rows_total
        elapsed = now - tally.started_at
        eta = eta_seconds(done, total, elapsed)
        share = 100 * done / total if total else 100.0
        stage_eta = "ETA unknown yet" if eta is None else f"ETA {duration(eta)}"
        # The run's ETA is the stage's when no stage is left after it; before that it
        # would be a guess at stages whose rows and speed are not known yet.
        later = (
            self.stages[self.stages.index(tally.name) + 1 :] if tally.name in self.stages else []
        )
        run_eta = f"{', '.join(later)} to follow" if later else stage_eta
        return (
            f"{tally.name}: {done:,.0f}/{total:,.0f} {tally.unit} ({share:.0f} %), "
            f"{rate(done, elapsed):.1f} {tally.unit}/s, {stage_eta}; "
            f"run: {duration(now - self.run_started)} elapsed, {run_eta}"
        )

    def tick(self) -> None:
        """Log the progress line if one is due."""
        with self._lock:
            self._log_if_due()

    def _update(self, stage: str, change: Callable[[StageTally], None]) -> None:
        with self._lock:
            if self.stage is not None and self.stage.name == stage:
                change(self.stage)
                self._log_if_due()

    def _log_if_due(self) -> None:
        now = self.clock()
        if self.stage is None or not line_due(self.last_line, now, self.every):
            return
        text = self.line()
        if text:
            self.logger.info("%s", text)
            self.last_line = now
            total = self.stage.rows_total
            self._show(100.0 * self.stage.rows_done / total if total else 100.0, text)

    def _show(self, percent: float, text: str) -> None:
        if self._artifact is not None:
            self._shown = (self._artifact, percent, text)

    def _push_artifact(self) -> None:
        with self._lock:
            shown, self._shown = self._shown, None
        if shown is not None:
            _update_artifact(self.logger, *shown)

    def _heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()
            self._push_artifact()


def _new_artifact(logger: Logger, description: str) -> Any:
    """A progress artifact of the current flow run at 0 %, or None if the API refused."""
    from prefect.artifacts import create_progress_artifact

    try:
        return create_progress_artifact(0.0, description=description)
    except Exception as exc:  # progress must never fail a run
        logger.debug("no progress artifact: %s", exc)
        return None


def _update_artifact(logger: Logger, artifact: Any, percent: float, description: str) -> None:
    from prefect.artifacts import update_progress_artifact

    try:
        update_progress_artifact(artifact, min(max(percent, 0.0), 100.0), description=description)
    except Exception as exc:  # progress must never fail a run
        logger.debug("progress artifact not updated: %s", exc)


_ACTIVE: dict[str, RunProgress] = {}


def reporter(run_id: str, stage: str, item: str) -> Callable[[int], None] | None:
    """A callback adding units to `item` of `stage` of run `run_id`, when that run's
    progress lives in this process (tasks on threads); None elsewhere."""
    progress = _ACTIVE.get(run_id)
    if progress is None:
        return None
    return lambda units: progress.advance(stage, item, units)
