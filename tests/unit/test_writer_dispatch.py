"""`writer_lock` by where the lake is, without a store: a local folder gets the `fcntl`
lock (and no lease, no fence); a store that ignores conditional PUTs is refused in one
line. The lease on a real store: tests/s3/test_writer_lock.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from flows.lake_slot import writer_lock
from newsflow.lease import LEASE_OBJECT, Lease, LeaseUnsupported, writer_fence
from newsflow.lock import LakeBusyError, gone_from_this_host, holder, lake_lock

LOG = logging.getLogger("test-writer-lock")


def test_a_local_lake_is_held_by_its_lock_file(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with writer_lock(lake, None, "me", 0, LOG, prefect_limit=False) as waited:
        assert holder(lake)["run_id"] == "me"
        with (
            pytest.raises(LakeBusyError, match="being written by run me"),
            lake_lock(lake, "other", 0),
        ):
            pass
        assert writer_fence(lake, "me") is None  # a dead holder's lock dies with it
        assert writer_fence(str(lake), "me") is None
    assert waited < 1
    assert not (lake / LEASE_OBJECT).exists()
    with lake_lock(lake, "next", 0):  # released on exit
        pass


class NoSuchKey(Exception):  # noqa: N818 - S3's name
    response: dict[str, Any] = {"Error": {"Code": "NoSuchKey"}}  # noqa: RUF012


class IgnoresConditions:
    """An S3 client of a store that accepts every PUT, conditions or not (older MinIO,
    some appliances): what the lease must detect, since such a store races silently."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dt.datetime]] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **condition: str) -> Any:  # noqa: N803
        self.objects[Key] = (Body, dt.datetime.now(dt.UTC))
        return {"ETag": f'"{hashlib.md5(Body).hexdigest()}"'}  # noqa: S324 - S3's ETag

    def get_object(self, Bucket: str, Key: str) -> Any:  # noqa: N803
        if Key not in self.objects:
            raise NoSuchKey
        body, modified = self.objects[Key]
        date = format_datetime(dt.datetime.now(dt.UTC), usegmt=True)
        return {
            "Body": io.BytesIO(body),
            "ETag": f'"{hashlib.md5(body).hexdigest()}"',  # noqa: S324
            "LastModified": modified,
            "ResponseMetadata": {"HTTPHeaders": {"date": date}},
        }


def test_a_store_that_ignores_conditional_puts_is_refused_in_one_line() -> None:
    store = IgnoresConditions()
    lease = Lease("s3://b/lake", "run-a", client=store)
    with pytest.raises(LeaseUnsupported, match="ignores conditional PUTs") as refused:
        lease.acquire(wait_s=0)
    assert "\n" not in str(refused.value)
    seen = lease.read()
    assert seen is not None
    assert seen.holder["released"]  # left free: a fixed store is not blocked for a TTL


def test_a_holder_is_gone_only_when_its_process_on_this_host_has_ended() -> None:
    import os
    import socket
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    host = socket.gethostname()
    assert gone_from_this_host({"host": host, "pid": int(ended.stdout)})
    assert not gone_from_this_host({"host": host, "pid": os.getpid()})
    assert not gone_from_this_host({"host": f"not-{host}", "pid": int(ended.stdout)})
    assert not gone_from_this_host({})
