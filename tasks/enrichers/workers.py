"""Run a per-document enricher step over worker processes, one chunk of rows each.

The model-bound enrichers (spaCy NER, YAKE, py3langid) are Python that holds the GIL,
so Prefect's thread pool runs them one at a time on one core: all enrichers ran at
~11 docs/s however many cores the machine had. Each worker process loads its models
once (on first use) and lives as long as the process that started it, so a run pays
the loads once per worker, not per batch.

Results are the ones the same function gives in-process: each document is handled on
its own, and chunks come back in order. Small inputs (tests, tiny batches) stay
in-process, where a worker's start-up (about 2 s with spaCy) would cost more than it saves.
`NEWSFLOW_ENRICH_WORKERS` sets the number of processes (default: the CPUs this
process may use; 1 turns the pool off). A run that will enrich many documents starts
the workers and their models early (`warm`), while it ingests.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS_ENV = "NEWSFLOW_ENRICH_WORKERS"
MIN_ROWS = 128
CHUNKS_PER_WORKER = 4

_LOCK = threading.Lock()
_pool: ProcessPoolExecutor | None = None
# Told the number of items of each chunk as it comes back (the enrich task sets it, for
# progress lines); per thread, so concurrent batches report apart.
ON_CHUNK: ContextVar[Callable[[int], None] | None] = ContextVar("on_chunk", default=None)


def worker_count() -> int:
    configured = os.environ.get(WORKERS_ENV)
    if configured:
        return max(1, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _pool_workers() -> int:
    """The worker processes this process may use; 1 means none (work stays in-process)."""
    # A Dask worker is a daemonic process, which may not start children; there the
    # cluster already spreads batches over processes.
    return 1 if multiprocessing.current_process().daemon else worker_count()


def _executor(workers: int) -> ProcessPoolExecutor:
    global _pool
    with _LOCK:
        if _pool is None:
            # spawn, not fork: the parent runs polars' and Prefect's threads, and a
            # forked child can inherit one of their locks held.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _LOCK:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def _load(loader: Callable[[], object]) -> None:
    loader()  # the model stays cached in the worker; nothing goes back to the parent


def warm(loaders: Sequence[Callable[[], object]]) -> None:
    """Start the worker processes now and submit every `loader` (module-level functions
    that load a model) once per worker; returns at once. A worker busy loading leaves
    the next call to another, so each worker in practice loads every model. No-op
    where `map_chunks` would not use workers."""
    workers = _pool_workers()
    if workers <= 1 or not loaders:
        return
    pool = _executor(workers)
    for _ in range(workers):
        for loader in loaders:
            pool.submit(_load, loader)


def map_chunks(step: Callable[[list[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`step(list(items))`, computed chunk by chunk in worker processes.

    `step` must be a module-level function (it is pickled by name) that returns one
    result per item, in order.
    """
    workers = _pool_workers()
    on_chunk = ON_CHUNK.get() or (lambda _: None)
    if workers <= 1 or len(items) < MIN_ROWS:
        done = step(list(items))
        on_chunk(len(items))
        return done
    size = -(-len(items) // (workers * CHUNKS_PER_WORKER))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    pool = _executor(workers)
    try:
        results = []
        for chunk, result in zip(chunks, pool.map(step, chunks), strict=True):
            results.append(result)
            on_chunk(len(chunk))
    except BrokenProcessPool:
        _discard(pool)  # a worker died (killed, out of memory): the task's retry starts anew
        raise
    return [r for chunk in results for r in chunk]
