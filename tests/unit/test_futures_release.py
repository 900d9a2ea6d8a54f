"""A task run's Dask future is released once the flow (or dedupe's phases) has read
it, so the worker that ran it forgets the task's arguments and result instead of
keeping them to the stage's end."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future

from distributed import Client
from prefect.futures import PrefectConcurrentFuture
from prefect_dask.task_runners import PrefectDaskFuture

from tasks.futures import release


def _held_keys(client: Client) -> set[str]:
    return {str(k) for keys in client.has_what().values() for k in keys}


def test_a_released_dask_future_leaves_its_worker() -> None:
    with Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as client:
        kept = client.submit(lambda n: list(range(n)), 1000, key="kept")
        read = client.submit(lambda n: list(range(n)), 2000, key="read")
        future: PrefectDaskFuture[list[int]] = PrefectDaskFuture(uuid.uuid4(), read)
        assert len(read.result()) == 2000
        del read  # only the Prefect future holds it now, as in the flow's list
        release(future)
        deadline = time.monotonic() + 10
        while "read" in _held_keys(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _held_keys(client) == {"kept"}
        assert len(kept.result()) == 1000


def test_a_threads_runner_future_is_left_as_it_is() -> None:
    done: Future[int] = Future()
    done.set_result(3)
    future = PrefectConcurrentFuture(uuid.uuid4(), done)
    release(future)  # nothing to release, and no error
    assert future.wrapped_future.result() == 3
