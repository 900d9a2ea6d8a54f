"""newsflow.lease on the test server: one holder at a time, takeover after expiry on the
store's clock, a renewal that finds the lease taken marks it lost."""

from __future__ import annotations

import threading
import time

import pytest

from newsflow.lease import Lease, LeaseHeld, LeaseLost, lake_lease
from tests.s3_server import S3Server

pytestmark = pytest.mark.s3


@pytest.fixture
def lake_url(s3_env: S3Server) -> str:
    return f"s3://{s3_env.new_bucket('lease')}/lake"


def test_a_second_run_is_refused_with_one_line_naming_the_holder(lake_url: str) -> None:
    first = Lease(lake_url, "run-a")
    first.acquire(wait_s=0)
    assert first.generation == 1
    with pytest.raises(LeaseHeld, match="held by run run-a") as held:
        Lease(lake_url, "run-b").acquire(wait_s=0)
    assert "\n" not in str(held.value)
    first.release()
    second = Lease(lake_url, "run-b")
    second.acquire(wait_s=0)
    assert second.generation == 2  # generations only grow: the fence of decision 0002


def test_a_waiting_run_takes_over_when_the_holder_releases(lake_url: str) -> None:
    holder = Lease(lake_url, "run-a")
    holder.acquire(wait_s=0)
    contender = Lease(lake_url, "run-b")  # first: making a client takes seconds under load
    threading.Timer(1.5, holder.release).start()
    waits: list[str] = []
    started = time.monotonic()
    contender.acquire(wait_s=30, poll_s=0.2, on_wait=waits.append)
    assert 1.0 < time.monotonic() - started < 10
    assert contender.generation == 2
    assert len(waits) == 1
    assert "run-a" in waits[0]


def test_an_expired_lease_is_taken_over_and_its_old_holder_loses_it(lake_url: str) -> None:
    stalled = Lease(lake_url, "run-a", ttl_s=1)
    stalled.acquire(wait_s=0)  # and never renewed: a paused or killed run
    time.sleep(2.5)  # the store's clock counts whole seconds
    successor = Lease(lake_url, "run-b", ttl_s=60)
    successor.acquire(wait_s=0)
    assert successor.generation == 2
    with pytest.raises(LeaseLost, match="taken over"):
        stalled.renew()
    with pytest.raises(LeaseLost):
        stalled.check()
    stalled.release()  # nothing of its own to free: the successor keeps the lease
    assert Lease(lake_url, "run-c").try_acquire() is not None


def test_a_renewed_lease_outlives_its_ttl(lake_url: str) -> None:
    with lake_lease(lake_url, "run-a", wait_s=0, ttl_s=2) as held:
        time.sleep(4)  # two TTLs; renewed every 2/3 s
        with pytest.raises(LeaseHeld):
            Lease(lake_url, "run-b").acquire(wait_s=0)
        held.check()


def test_racing_runs_get_one_lease(lake_url: str) -> None:
    contenders = [Lease(lake_url, f"run-{i}") for i in range(6)]
    start = threading.Barrier(len(contenders))
    won: list[str] = []

    def contend(lease: Lease) -> None:
        start.wait()
        if lease.try_acquire() is None:
            won.append(lease.run_id)

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    seen = contenders[0].read()
    assert seen is not None
    assert seen.holder["run_id"] == won[0]
