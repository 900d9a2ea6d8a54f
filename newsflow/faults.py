"""Fault injection for crash-safety tests: die here, now, like a power cut (or fail).

`checkpoint(name)` kills the whole process with SIGKILL when the environment
variable `NEWSFLOW_KILL_AT` names this point (`name`), or this point's N-th pass
(`name:N`, counted per process). Unset, a checkpoint is one dictionary lookup.
SIGKILL, not an exception: no `finally`, no retry, no atexit handler may tidy up,
which is exactly what a crash-safe lake must survive.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

KILL_AT = "NEWSFLOW_KILL_AT"
# Raise `InjectedFailure` instead, at this pass and every later one (so a task's retries
# fail too): a run that fails, where KILL_AT is a run that dies.
FAIL_AT = "NEWSFLOW_FAIL_AT"


class InjectedFailure(RuntimeError):
    """The failure NEWSFLOW_FAIL_AT asked for."""


_passes: Counter[str] = Counter()
_lock = threading.Lock()  # tasks run in threads: count each pass exactly once


def _target(spec: str) -> tuple[str, int]:
    """`name` or `name:N` -> (name, N); names may themselves contain colons."""
    name, sep, count = spec.rpartition(":")
    if sep and count.isdigit():
        return name, int(count)
    return spec, 1


def checkpoint(name: str) -> None:
    """SIGKILL this process if `NEWSFLOW_KILL_AT` selects this pass of `name`; raise
    `InjectedFailure` if `NEWSFLOW_FAIL_AT` selects this pass or an earlier one."""
    kill, fail = os.environ.get(KILL_AT), os.environ.get(FAIL_AT)
    if not kill and not fail:
        return
    target, nth = _target(kill or fail or "")
    if target != name:
        return
    with _lock:
        _passes[name] += 1
        passes = _passes[name]
    if kill and passes == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    if not kill and passes >= nth:
        raise InjectedFailure(f"failure injected at {name} (pass {passes}, {FAIL_AT})")
