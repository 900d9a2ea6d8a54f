"""One writer per lake on object storage: a lease object its holder keeps renewing.

Object stores have no `fcntl` lock (newsflow/lock.py is the local folder's). The lease
is one small JSON object, `<lake>/_lease.json`, changed only by conditional PUTs:
`If-None-Match: *` creates it, `If-Match: <ETag>` takes over a released or expired one
and renews one's own, so of two runs racing, the store lets exactly one win. Expiry is
judged on the store's clock alone (the object's Last-Modified against the Date of the
response), so the runs' clocks never matter. The lease's `generation` grows with every
holder: commits carry it as a fence (docs/decisions/0002-object-storage.md).

Needs a store with conditional PUT (AWS S3, SeaweedFS; tests/s3/test_lease.py).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from newsflow.storage import S3_CLIENT_CONFIG, problem, shown

LEASE_OBJECT = "_lease.json"
PRECONDITION_FAILED = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


class LeaseHeld(RuntimeError):
    """Another run holds the lake's lease (one line naming it)."""


class LeaseLost(RuntimeError):
    """This run's lease was taken over: it must not commit anything more."""


@dataclass(frozen=True)
class Seen:
    """The lease object as a GET found it."""

    holder: dict[str, Any]
    etag: str
    age_s: float  # by the store's clock

    @property
    def free(self) -> bool:
        return bool(self.holder.get("released")) or self.age_s > float(self.holder["ttl_s"])


def _client() -> Any:
    """A botocore S3 client from the standard environment (keys or profile, region,
    AWS_ENDPOINT_URL), with newsflow's timeouts."""
    import botocore.config
    import botocore.session

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, config=botocore.config.Config(**S3_CLIENT_CONFIG)
    )


def _refused(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return str(code) in PRECONDITION_FAILED


class Lease:
    """The lease of the lake at `lake_url` (`s3://bucket/prefix`) for one run."""

    def __init__(self, lake_url: str, run_id: str, ttl_s: int = 120, client: Any = None) -> None:
        bucket_key = lake_url.split("://", 1)[1].rstrip("/")
        self.bucket, _, prefix = bucket_key.partition("/")
        self.key = f"{prefix}/{LEASE_OBJECT}" if prefix else LEASE_OBJECT
        self.where = shown(f"{lake_url.rstrip('/')}/{LEASE_OBJECT}")
        self.run_id = run_id
        self.ttl_s = ttl_s
        self.generation = 0
        self.etag = ""
        self.lost: str | None = None
        self._s3 = client or _client()

    def _body(self, generation: int, released: bool = False) -> bytes:
        holder = {
            "run_id": self.run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "generation": generation,
            "ttl_s": self.ttl_s,
            "released": released,
        }
        return json.dumps(holder, sort_keys=True).encode()

    def read(self) -> Seen | None:
        """The lease as it is now (None: no run ever held this lake)."""
        try:
            got = self._s3.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        server_now = parsedate_to_datetime(got["ResponseMetadata"]["HTTPHeaders"]["date"])
        age = (server_now - got["LastModified"]).total_seconds()
        return Seen(json.loads(got["Body"].read()), got["ETag"], age)

    def _put(self, body: bytes, **condition: str) -> str:
        return str(
            self._s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, **condition)["ETag"]
        )

    def try_acquire(self) -> Seen | None:
        """Take the lease if it is free; None when taken, else who holds it."""
        while True:
            seen = self.read()
            if seen is not None and not seen.free:
                return seen
            generation = 1 if seen is None else int(seen.holder["generation"]) + 1
            condition = {"IfNoneMatch": "*"} if seen is None else {"IfMatch": seen.etag}
            try:
                self.etag = self._put(self._body(generation), **condition)
            except Exception as exc:
                if _refused(exc):
                    continue  # another run changed it between our GET and PUT: look again
                raise
            self.generation, self.lost = generation, None
            return None

    def acquire(
        self, wait_s: float, poll_s: float = 2.0, on_wait: Callable[[str], None] | None = None
    ) -> None:
        """Take the lease, waiting up to `wait_s` for its holder; `LeaseHeld` after."""
        deadline = time.monotonic() + wait_s
        told = False
        while (holder := self.try_acquire()) is not None:
            who = (
                f"lake lease {self.where} is held by run {holder.holder.get('run_id')} "
                f"(host {holder.holder.get('host')}, renewed {holder.age_s:.0f} s ago, "
                f"expires after {holder.holder.get('ttl_s')} s without renewal)"
            )
            if time.monotonic() >= deadline:
                raise LeaseHeld(who)
            if on_wait and not told:
                on_wait(f"{who}: waiting up to {wait_s:.0f} s")
                told = True
            time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))

    def renew(self) -> None:
        """Extend the lease; `LeaseLost` when another run has taken it over."""
        try:
            self.etag = self._put(self._body(self.generation), IfMatch=self.etag)
        except Exception as exc:
            if _refused(exc):
                self.lost = f"lake lease {self.where} was taken over by another run"
                raise LeaseLost(self.lost) from None
            raise

    def check(self) -> None:
        """Raise `LeaseLost` if a renewal found the lease taken: call before committing."""
        if self.lost:
            raise LeaseLost(self.lost)

    def release(self) -> None:
        """Mark the lease free (kept, not deleted: the next holder's generation grows)."""
        try:
            self.etag = self._put(self._body(self.generation, released=True), IfMatch=self.etag)
        except Exception as exc:
            if not _refused(exc):  # refused: already taken over, nothing of ours to free
                raise


@contextmanager
def lake_lease(
    lake_url: str,
    run_id: str,
    wait_s: float,
    ttl_s: int = 120,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Lease]:
    """Hold the lake's lease for the block, renewed every `ttl_s / 3` by a thread.

    A renewal that finds the lease taken marks it lost (`Lease.check` then raises);
    one that fails for another reason (the store briefly unreachable) tries again at
    the next beat, while the lease has time left.
    """
    lease = Lease(lake_url, run_id, ttl_s)
    lease.acquire(wait_s, on_wait=on_wait)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ttl_s / 3):
            try:
                lease.renew()
            except LeaseLost:
                return
            except Exception as exc:  # a transient store error: the next beat retries
                if on_wait:
                    on_wait(f"lake lease renewal failed, retrying: {problem(exc)}")

    heart = threading.Thread(target=beat, name="newsflow-lease", daemon=True)
    heart.start()
    try:
        yield lease
    finally:
        stop.set()
        heart.join()
        lease.release()
