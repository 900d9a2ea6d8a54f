"""One writer per lake on object storage: a lease object its holder keeps renewing.

Object stores have no `fcntl` lock (newsflow/lock.py is the local folder's). The lease
is one small JSON object, `<lake>/_lease.json`, changed only by conditional PUTs:
`If-None-Match: *` creates it, `If-Match: <ETag>` takes over a released or expired one
and renews one's own, so of two runs racing, the store lets exactly one win. Expiry is
judged on the store's clock alone (the object's Last-Modified against the Date of the
response), so the runs' clocks never matter. The lease's `generation` grows with every
holder: every table commit reads the lease and carries the generation as a Delta app
transaction (`current_fence`, `tables.commit_properties`), so a run whose lease was
taken over cannot commit (docs/decisions/0002-object-storage.md).

Needs a store with conditional PUT (AWS S3, SeaweedFS; tests/s3/test_lease.py); one
that ignores the conditions is found out at acquire and refused (`LeaseUnsupported`).
Taken by `flows.lake_slot.writer_lock` for a lake at a URL.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from newsflow.lock import LakeBusyError
from newsflow.storage import S3_CLIENT_CONFIG, StorageError, is_url, problem, shown

LEASE_OBJECT = "_lease.json"
PRECONDITION_FAILED = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
NOT_IMPLEMENTED = {"NotImplemented", "501"}
# The Delta app id whose version is the lease generation of the run that committed.
FENCE_APP_ID = "newsflow"
# An ETag no object has: a store honouring If-Match refuses a PUT conditioned on it.
NO_SUCH_ETAG = '"newsflow-probe-no-such-etag"'


class LeaseHeld(LakeBusyError):
    """Another run holds the lake's lease (one line naming it)."""


class LeaseLost(RuntimeError):
    """This run's lease was taken over: it must not commit anything more."""


class LeaseUnsupported(StorageError):
    """The store ignores conditional PUTs: no lease (and no Delta commit) is safe there."""


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


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _refused(exc: Exception) -> bool:
    return _code(exc) in PRECONDITION_FAILED


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
        self,
        wait_s: float,
        poll_s: float = 2.0,
        on_wait: Callable[[str], None] | None = None,
        report_s: float = 50.0,
    ) -> None:
        """Take the lease, waiting up to `wait_s` for its holder (saying so through
        `on_wait` at once and every `report_s`); `LeaseHeld` after. `LeaseUnsupported`
        when the store turns out to ignore conditional PUTs."""
        started = time.monotonic()
        deadline = started + wait_s
        next_report = started
        while (holder := self.try_acquire()) is not None:
            who = (
                f"lake lease {self.where} is held by run {holder.holder.get('run_id')} "
                f"(host {holder.holder.get('host')}, renewed {holder.age_s:.0f} s ago, "
                f"expires after {holder.holder.get('ttl_s')} s without renewal)"
            )
            now = time.monotonic()
            if now >= deadline:
                raise LeaseHeld(f"{who}; gave up after {wait_s:g} s (lock_wait_seconds)")
            if on_wait and now >= next_report:
                on_wait(f"Waiting for the lake: {who}; waited {now - started:.0f} of {wait_s:g} s")
                next_report = now + report_s
            time.sleep(min(poll_s, max(0.0, deadline - now)))
        self._refuse_unconditional_store()

    def _refuse_unconditional_store(self) -> None:
        """Two PUTs that a store honouring conditions must refuse (412): create-if-absent
        on our existing lease, and replace-if-ETag on an ETag nothing has. Both carry the
        lease's own body, so a store that ignores them changes nothing but is refused."""
        body = self._body(self.generation)
        for condition in ({"IfNoneMatch": "*"}, {"IfMatch": NO_SUCH_ETAG}):
            try:
                self.etag = self._put(body, **condition)
            except Exception as exc:
                if _refused(exc):
                    continue
                if _code(exc) not in NOT_IMPLEMENTED:
                    raise
            with suppress(Exception):  # free it for a later try on a fixed store
                self._put(self._body(self.generation, released=True))
            raise LeaseUnsupported(
                f"the object store of {self.where} ignores conditional PUTs "
                f"({next(iter(condition))}): a newsflow lake needs a store that honours "
                "them (AWS S3, SeaweedFS; docs/decisions/0002-object-storage.md)"
            )

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


@dataclass(frozen=True)
class Fence:
    """What a commit of the lease's holder carries: its generation, as the Delta app
    transaction `(FENCE_APP_ID, generation)` (decision 0002)."""

    where: str
    run_id: str
    generation: int

    def check(self, committed_generation: int | None) -> None:
        """`LeaseLost` when a table was committed under a newer lease than ours (the
        table's `transaction_version(FENCE_APP_ID)`)."""
        if committed_generation is not None and committed_generation > self.generation:
            raise LeaseLost(
                f"run {self.run_id} lost lake lease {self.where}: a newer holder "
                f"(generation {committed_generation} > {self.generation}) has committed; "
                "not committing"
            )


def current_fence(lake_url: str, run_id: str, client: Any = None) -> Fence:
    """The fence of `run_id`, read from the store now: `LeaseLost` unless the lease is
    still this run's (not released, not expired by the store's clock)."""
    lease = Lease(lake_url, run_id, client=client)
    seen = lease.read()
    if seen is None or seen.holder.get("run_id") != run_id or seen.free:
        now = "no run" if seen is None else f"run {seen.holder.get('run_id')}"
        state = "" if seen is None or not seen.free else " (expired or released)"
        raise LeaseLost(
            f"run {run_id} no longer holds lake lease {lease.where} ({now} holds it"
            f"{state}): not committing"
        )
    return Fence(lease.where, run_id, int(seen.holder["generation"]))


def writer_fence(lake_root: object, run_id: str) -> Fence | None:
    """The fence a commit to the lake at `lake_root` carries: None for a local lake (its
    `fcntl` lock dies with its holder, so no stale holder can commit), the lease's for a
    lake on object storage."""
    location = str(lake_root)
    return current_fence(location, run_id) if is_url(location) else None


@contextmanager
def lake_lease(
    lake_url: str,
    run_id: str,
    wait_s: float,
    ttl_s: int = 120,
    on_wait: Callable[[str], None] | None = None,
    poll_s: float = 2.0,
    report_s: float = 50.0,
) -> Iterator[Lease]:
    """Hold the lake's lease for the block, renewed every `ttl_s / 3` by a thread.

    A renewal that finds the lease taken marks it lost (`Lease.check` then raises, and
    `current_fence` refuses the commit); one that fails for another reason (the store
    briefly unreachable) tries again at the next beat, and marks the lease lost once
    no renewal has succeeded for `ttl_s`: another run may have taken it by then.
    """
    lease = Lease(lake_url, run_id, ttl_s)
    lease.acquire(wait_s, poll_s=poll_s, on_wait=on_wait, report_s=report_s)
    stop = threading.Event()

    def beat() -> None:
        renewed = time.monotonic()
        while not stop.wait(ttl_s / 3):
            try:
                lease.renew()
                renewed = time.monotonic()
            except LeaseLost:
                say(f"{lease.lost}; this run will not commit")
                return
            except Exception as exc:  # a transient store error: the next beat retries
                if time.monotonic() - renewed > ttl_s:
                    lease.lost = (
                        f"lake lease {lease.where} not renewed for {ttl_s} s "
                        f"({problem(exc)}): another run may hold it now"
                    )
                    say(f"{lease.lost}; this run will not commit")
                    return
                say(f"lake lease renewal failed, retrying: {problem(exc)}")

    def say(message: str) -> None:
        if on_wait:
            on_wait(message)

    heart = threading.Thread(target=beat, name="newsflow-lease", daemon=True)
    heart.start()
    try:
        yield lease
    finally:
        stop.set()
        heart.join()
        try:
            lease.release()
        except Exception as exc:  # it expires after ttl_s anyway; never hide the run's error
            say(f"lake lease {lease.where} not released ({problem(exc)}): it expires in {ttl_s} s")
