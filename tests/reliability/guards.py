"""Hang and memory guards for hostile-input tests.

The time limit is a hang guard, not a speed test: it is generous, and it turns an
input that never finishes into a failing example instead of a stuck test run. SIGALRM
interrupts Python code; code stuck inside C (a regex, a decompressor) never sees it,
so faulthandler's watchdog thread ends the whole process a little later as a backstop.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Far above what any input here needs, even on a loaded machine.
HANG_SECONDS = 30.0


class Hang(Exception):
    """An input took longer than the hang guard allows."""


@contextmanager
def time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise `Hang` in the main thread if the block runs longer than `seconds`."""
    assert threading.current_thread() is threading.main_thread(), "SIGALRM needs the main thread"

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    # The interpreter's own stderr: pytest's capture must not swallow a hang's traceback.
    stderr = sys.__stderr__
    assert stderr is not None
    faulthandler.dump_traceback_later(2 * seconds, exit=True, file=stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Measure the peak of Python allocations in the block; the list gets the bytes."""
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
