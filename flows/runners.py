"""Where the pipeline's tasks run: a thread pool here, or a Dask cluster (prefect-dask).

Threads are the default: tasks start in milliseconds and nothing is pickled, but the
Python-heavy stages (ftfy, spaCy, YAKE) share one GIL. Dask runs tasks in processes: a
LocalCluster (one per core) or an existing scheduler given by address, for corpora that
outgrow one core or one machine. Every task argument and result then crosses a process
boundary, which is why tasks pass paths, not frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

if TYPE_CHECKING:  # the CLI imports this module for RUNNERS; Prefect loads only on a run
    from prefect import Flow
    from prefect.task_runners import TaskRunner

P = ParamSpec("P")
R = TypeVar("R")
Runner = Literal["threads", "dask"]
RUNNERS: tuple[Runner, ...] = ("threads", "dask")
# Dask's own default; on loopback here. The dashboard needs bokeh (in the lock).
DASHBOARD_PORT = 8787

# distributed logs ~70 INFO lines per cluster start and stop; read when it is imported,
# and inherited by the worker processes a LocalCluster spawns.
DASK_QUIET = {"DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "warning"}
# Polars' allocator (jemalloc) keeps freed pages for 0.5-1 s per thread arena, so a worker's
# RSS, which its nanny holds to the memory limit, counts memory already freed: the 1M
# components step rose 558 MiB with the default, 429 without the delay (same result;
# sys time 0.8 -> 1.5 s). Workers return freed pages at once (Dask does the same for
# glibc's malloc with MALLOC_TRIM_THRESHOLD_). Read when a worker process starts.
WORKER_ENV = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}


def _dask_environment() -> None:
    """Quiet Dask's logs; have the workers a LocalCluster spawns return freed memory."""
    for key, value in DASK_QUIET.items():
        os.environ.setdefault(key, value)
    # Importing polars set its own defaults here: ours go after them (the last one wins).
    for key, value in WORKER_ENV.items():
        current = os.environ.get(key, "")
        if not current.endswith(value):
            os.environ[key] = f"{current},{value}" if current else value
    logging.getLogger("distributed").setLevel(logging.WARNING)  # if already imported


@contextmanager
def api_shared_with_workers() -> Iterator[str]:
    """Make sure Dask workers report to the same Prefect API as the flow; yields its URL.

    The settings travel with every task to its worker, but without PREFECT_API_URL they
    carry no URL: each worker process would boot a temporary server of its own (~20 s
    apiece) and the task runs would never show on the flow's server. So when none is
    configured, the temporary server is started here, on loopback, and named in the
    settings. Workers on other machines cannot reach it: they need a real server.
    """
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    configured = get_current_settings().api.url
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()  # stopped at exit, after Prefect's log and event workers have drained
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield server.api_url


def local_cluster_kwargs(
    workers: int | None, dashboard_port: int = DASHBOARD_PORT
) -> dict[str, Any]:
    """A LocalCluster of single-threaded processes on loopback, one per core by default.

    One thread per process: the stages are Python-heavy (ftfy, spaCy, YAKE), so extra
    threads in a worker would only contend for its GIL. The dashboard (bokeh) listens on
    loopback at `dashboard_port` (0: any free port; a busy one makes Dask pick another).
    """
    return {
        "n_workers": workers or os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": f"127.0.0.1:{dashboard_port}",
    }


def make_task_runner(
    runner: Runner,
    dask_address: str | None = None,
    workers: int | None = None,
    dashboard_port: int = DASHBOARD_PORT,
) -> TaskRunner[Any]:
    """The task runner for `newsflow run --runner …` (and a deployment's `runner`).

    `workers` is threads for `threads` (None: Prefect's default pool size) and worker
    processes for a LocalCluster; with `dask_address` the cluster is already sized.
    """
    from prefect.task_runners import ThreadPoolTaskRunner

    if runner == "threads":
        if dask_address:
            raise ValueError("--dask-address needs --runner dask")
        return ThreadPoolTaskRunner(max_workers=workers)
    if runner != "dask":
        raise ValueError(f"unknown runner {runner!r}; expected one of {', '.join(RUNNERS)}")
    if dask_address and workers:
        raise ValueError("--workers sizes a local cluster; an existing cluster is already sized")
    _dask_environment()
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    # A LocalCluster (and its worker processes) lives as long as the flow run that made
    # it: prefect-dask closes it when the run ends; its workers end with their parent
    # process (distributed watches it), also when that process is killed outright.
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(workers, dashboard_port))


def flow_on_runner(
    flow: Flow[P, R],
    runner: Runner,
    dask_address: str | None,
    workers: int | None,
    dashboard_port: int = DASHBOARD_PORT,
) -> Flow[P, R]:
    """`flow` with its tasks sent to the chosen runner.

    Threads without a size keep the flow's own runner, so the flow stays the one
    place that sets the local default.
    """
    if runner == "threads" and not workers and not dask_address:
        return flow
    return flow.with_options(
        task_runner=make_task_runner(runner, dask_address, workers, dashboard_port)
    )


def runs_on(task_runner: object, runner: Runner, workers: int | None) -> bool:
    """Whether a flow run's `task_runner` is the one `runner` and `workers` ask for.

    A deployment run starts on the flow's default (threads); one whose parameters ask
    for Dask, or another thread count, runs the flow again as a subflow on that runner.
    """
    from prefect.task_runners import ThreadPoolTaskRunner

    if runner == "threads":
        return isinstance(task_runner, ThreadPoolTaskRunner) and (
            not workers or getattr(task_runner, "_max_workers", None) == workers
        )
    return not isinstance(task_runner, ThreadPoolTaskRunner)
