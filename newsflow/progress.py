"""Progress lines for a long task: each finished phase with its counts and seconds, and
a loop's position at most once a minute, so a task that runs for half an hour on a
large lake is not silent in the Prefect UI for all of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
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
