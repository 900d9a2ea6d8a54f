"""Fault injection for crash-safety tests: die here, now, like a power cut.

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

_passes: Counter[str] = Counter()
_lock = threading.Lock()  # tasks run in threads: count each pass exactly once


def _target(spec: str) -> tuple[str, int]:
    """`name` or `name:N` -> (name, N); names may themselves contain colons."""
    name, sep, count = spec.rpartition(":")
    if sep and count.isdigit():
        return name, int(count)
    return spec, 1


def checkpoint(name: str) -> None:
    """SIGKILL this process if `NEWSFLOW_KILL_AT` selects this pass of `name`."""
    spec = os.environ.get(KILL_AT)
    if not spec:
        return
    target, nth = _target(spec)
    if target != name:
        return
    with _lock:
        _passes[name] += 1
        reached = _passes[name] == nth
    if reached:
        os.kill(os.getpid(), signal.SIGKILL)
