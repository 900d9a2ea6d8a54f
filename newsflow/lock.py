"""One writer per lake: an exclusive lock file held for the whole run.

A scheduled run and a run started by hand from the UI may start together; two
writers would race on the dedupe index and the file manifest. `fcntl.flock` is
held by the process, so a run that dies (even by SIGKILL) releases the lock with
it and never leaves a stale lock behind. The lock file names its holder, so the
run that has to wait (or give up) can say who is writing.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_FILE = ".newsflow.lock"


class LakeBusyError(RuntimeError):
    """Another run holds the lake's lock for longer than this run would wait."""


def lock_path(lake_root: Path) -> Path:
    return lake_root / LOCK_FILE


def holder(lake_root: Path) -> dict[str, Any]:
    """Who holds (or last held) the lock, as the holder wrote it; {} if unknown."""
    try:
        return dict(json.loads(lock_path(lake_root).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _describe(info: dict[str, Any]) -> str:
    if not info:
        return "another run"
    return (
        f"run {info.get('run_id', '?')} (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"since {info.get('since', '?')})"
    )


@contextmanager
def lake_lock(
    lake_root: Path,
    run_id: str,
    wait_seconds: float,
    on_wait: Any = None,
    poll_seconds: float = 0.5,
    report_seconds: float = 50.0,
    waited_before: float = 0.0,
    record: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Hold the lake's write lock, waiting up to `wait_seconds` for another run.

    `on_wait(message)` is called when the lock is found busy and again every
    `report_seconds` while it stays so, so a waiting run says so (and for whom) at
    least once a minute. Raises LakeBusyError when the wait ends. `waited_before`: the
    part of `wait_seconds` the run already spent waiting for the lake elsewhere.
    `record`: more about the holder for the lock file (its concurrency lease).
    """
    lake_root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(lake_root), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = time.monotonic() - waited_before
        deadline = started + wait_seconds
        next_report = started
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                busy = f"lake {lake_root} is being written by {_describe(holder(lake_root))}"
                if time.monotonic() >= deadline:
                    raise LakeBusyError(
                        f"{busy}; gave up after {wait_seconds:g} s (lock_wait_seconds)"
                    ) from None
                now = time.monotonic()
                if on_wait is not None and now >= next_report:
                    on_wait(f"{busy}; waited {now - started:.0f} of {wait_seconds:g} s")
                    next_report = now + report_seconds
                time.sleep(poll_seconds)
        info = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(record or {}),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def gone_from_this_host(info: dict[str, Any]) -> bool:
    """Whether the holder `info` names was a process of this host that no longer runs
    (a pid now used by another process counts as running: never a false "gone")."""
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
