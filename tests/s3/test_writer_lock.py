"""One writer per lake on object storage, as production takes it: `writer_lock` on an
`s3://` lake (the lease of newsflow/lease.py) and Delta commits carrying its fence
(`tables.commit_properties`), against the test server. Decision 0002."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import flows.lake_slot
from flows.lake_slot import writer_lock
from newsflow.lease import FENCE_APP_ID, Lease, LeaseLost, current_fence, lake_lease
from newsflow.lock import LakeBusyError
from newsflow.storage import delta_storage_options
from newsflow.tables import commit_properties, table_uri
from tests.s3_server import S3Server

pytestmark = pytest.mark.s3

deltalake = pytest.importorskip("deltalake")
LOG = logging.getLogger("test-writer-lock")


@pytest.fixture
def lake_url(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(flows.lake_slot, "LEASE_POLL_SECONDS", 0.2)
    return f"s3://{s3_env.new_bucket('writer')}/lake"


def _rows(ids: range) -> pl.DataFrame:
    return pl.DataFrame({"id": list(ids)}, schema={"id": pl.Int64})


def _table(lake_url: str) -> Any:
    uri = table_uri(lake_url, "deduped")
    return deltalake.DeltaTable(uri, storage_options=delta_storage_options(uri))


def _create_table(lake_url: str) -> None:
    uri = table_uri(lake_url, "deduped")
    rows = _rows(range(0)).to_arrow()
    deltalake.write_deltalake(uri, rows, storage_options=delta_storage_options(uri))


def _commit(lake_url: str, run_id: str, ids: range) -> None:
    """Append rows to the lake's `deduped` table the way commit_table does: with the
    commit properties production computes for `run_id` (its fence)."""
    table = _table(lake_url)
    deltalake.write_deltalake(
        table,
        _rows(ids).to_arrow(),
        mode="append",
        commit_properties=commit_properties(table, lake_url, run_id),
    )


def test_two_writers_racing_one_holds_the_lake_the_other_waits_then_gets_it(
    lake_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    start = threading.Barrier(2)
    held: dict[str, tuple[float, float]] = {}
    waited: dict[str, float] = {}

    def writer(run_id: str) -> None:
        start.wait()
        with writer_lock(lake_url, None, run_id, 60, LOG) as wait:
            entered = time.monotonic()
            waited[run_id] = wait
            time.sleep(1.5)
            held[run_id] = (entered, time.monotonic())

    with caplog.at_level(logging.WARNING, logger=LOG.name):
        threads = [threading.Thread(target=writer, args=(f"run-{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(held) == {"run-0", "run-1"}
    first, second = sorted(held.values())
    assert first[1] <= second[0], "both writers held the lake at once"
    assert sorted(waited.values())[1] >= 1.0  # the second waited for the first
    waits = [r.getMessage() for r in caplog.records if "Waiting for the lake" in r.getMessage()]
    assert len(waits) == 1
    assert "lake lease" in waits[0]
    assert "of 60 s" in waits[0]
    seen = Lease(lake_url, "reader").read()
    assert seen is not None
    assert seen.holder["generation"] == 2
    assert seen.holder["released"]


def test_a_writer_that_cannot_get_the_lake_fails_with_one_line(lake_url: str) -> None:
    with writer_lock(lake_url, None, "holder", 0, LOG):
        started = time.monotonic()
        with (
            pytest.raises(LakeBusyError, match=r"held by run holder .*gave up after 1 s") as busy,
            writer_lock(lake_url, None, "late", 1, LOG),
        ):
            pass
        assert time.monotonic() - started >= 1.0
    assert "\n" not in str(busy.value)


def test_a_holder_killed_outright_loses_the_lake_when_its_lease_expires(
    lake_url: str, tmp_path: Path
) -> None:
    ready = tmp_path / "held"
    script = textwrap.dedent(
        f"""
        import logging, pathlib, time
        from flows.lake_slot import writer_lock
        with writer_lock({lake_url!r}, None, "victim", 0, logging.getLogger(),
                         lease_ttl_seconds=3):
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, "the holder died before taking the lake"
            assert time.monotonic() < deadline, "the holder never took the lake"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # no release, no last renewal
        proc.wait()
        left = Lease(lake_url, "reader").read()
        assert left is not None
        assert left.holder["run_id"] == "victim"
        assert not left.holder["released"]
        with writer_lock(lake_url, None, "next", 30, LOG) as waited:
            fence = current_fence(lake_url, "next")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert waited < 30  # taken over at the expiry, not at the end of --lock-wait
    assert fence.generation == 2


def test_a_stale_holder_whose_lease_was_taken_over_cannot_commit(lake_url: str) -> None:
    _create_table(lake_url)
    stalled = Lease(lake_url, "run-a", ttl_s=5)
    stalled.acquire(wait_s=0)  # never renewed: a run paused (GC, suspended VM) too long
    _commit(lake_url, "run-a", range(0, 2))
    assert _table(lake_url).transaction_version(FENCE_APP_ID) == 1
    # The stalled run had checked its lease and was about to commit when it paused.
    paused_table = _table(lake_url)
    paused_properties = commit_properties(paused_table, lake_url, "run-a")
    with writer_lock(lake_url, None, "run-b", 60, LOG):  # when the TTL has run out
        _commit(lake_url, "run-b", range(2, 4))
        # Resuming, it asks again before committing: refused, one line.
        with pytest.raises(LeaseLost, match="run run-a no longer holds lake lease") as lost:
            _commit(lake_url, "run-a", range(9, 10))
        assert "\n" not in str(lost.value)
        # Resuming straight into the commit it had prepared: delta-rs's conflict check
        # on the fence (the app transaction run-b's commit moved) refuses it.
        from deltalake.exceptions import CommitFailedError

        with pytest.raises(CommitFailedError, match="Concurrent transaction"):
            deltalake.write_deltalake(
                paused_table,
                _rows(range(9, 10)).to_arrow(),
                mode="append",
                commit_properties=paused_properties,
            )
    table = _table(lake_url)
    assert table.transaction_version(FENCE_APP_ID) == 2
    assert sorted(table.to_pyarrow_table().column("id").to_pylist()) == [0, 1, 2, 3]


def test_a_commit_under_an_older_generation_than_the_table_has_is_refused(
    lake_url: str,
) -> None:
    """A table committed by a newer holder refuses an older one even if the lease read
    looked fine (the fence read from the table itself)."""
    _create_table(lake_url)
    with writer_lock(lake_url, None, "run-a", 0, LOG):
        _commit(lake_url, "run-a", range(0, 1))
    with writer_lock(lake_url, None, "run-b", 0, LOG):
        _commit(lake_url, "run-b", range(1, 2))
        old = current_fence(lake_url, "run-b")
    stale = type(old)(old.where, "run-a", old.generation - 1)
    with pytest.raises(LeaseLost, match="newer holder"):
        stale.check(_table(lake_url).transaction_version(FENCE_APP_ID))


def test_a_lost_lease_is_reported_by_the_heartbeat_and_stops_the_commit(
    lake_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _create_table(lake_url)
    with (
        caplog.at_level(logging.WARNING, logger=LOG.name),
        writer_lock(lake_url, None, "run-a", 0, LOG, lease_ttl_seconds=3),
    ):
        # Another run takes the lease over (as after an expiry the store saw, not us).
        seen = Lease(lake_url, "thief").read()
        assert seen is not None
        Lease(lake_url, "thief")._put(  # noqa: SLF001 - a takeover forced for the test
            b'{"run_id": "thief", "generation": 9, "ttl_s": 60, "released": false}',
            IfMatch=seen.etag,
        )
        deadline = time.monotonic() + 30  # a beat comes every ttl / 3 (slower under load)
        while not any("will not commit" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the heartbeat never noticed the takeover"
            time.sleep(0.2)
        with pytest.raises(LeaseLost, match="no longer holds"):
            _commit(lake_url, "run-a", range(0, 1))
    lines = [r.getMessage() for r in caplog.records if "will not commit" in r.getMessage()]
    assert lines
    assert "taken over" in lines[0]
    assert _table(lake_url).to_pyarrow_table().num_rows == 0


def test_a_lease_the_store_stops_renewing_counts_as_lost_after_its_ttl(lake_url: str) -> None:
    """Renewals failing for another reason than a takeover (the store unreachable) are
    retried, and once none has succeeded for the TTL the lease counts as lost: another
    run may hold it by then, so this one must not commit."""
    import botocore.session

    lines: list[str] = []
    unreachable = botocore.session.get_session().create_client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1"
    )
    with lake_lease(lake_url, "run-a", 0, ttl_s=3, on_wait=lines.append) as lease:
        lease._s3 = unreachable  # noqa: SLF001 - the store goes away under the run
        deadline = time.monotonic() + 60
        while lease.lost is None:
            assert time.monotonic() < deadline, lines
            time.sleep(0.2)
        with pytest.raises(LeaseLost, match="not renewed for 3 s"):
            lease.check()
    assert any("not renewed for 3 s" in line and "will not commit" in line for line in lines)
    assert any("not released" in line for line in lines)  # and it expires on its own
