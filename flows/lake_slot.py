"""One run per lake. `writer_lock` chooses by where the lake is: a local lake takes a
Prefect global concurrency limit named after the lake, then the lake's lock file
(newsflow/lock.py); a lake on object storage takes its lease object (newsflow/lease.py,
docs/decisions/0002-object-storage.md), which no `fcntl` lock could replace.

The limit makes a second run on a lake queue in Prefect, visibly, for CLI and
deployment runs alike, wherever they run; the lock file still guards a lake that runs
without a shared server (each `newsflow run` on its own temporary server) and is what
the lake itself records. A waiting run logs that it waits, for what and for how long,
at least once a minute; it gives up after `lock_wait_seconds` in all.

A slot is a lease the run renews while it holds it: a run killed outright frees the
lake when the lease lapses (`LEASE_SECONDS`, Prefect's minimum), not never. Sooner on
one host: the holder records its lease id in the lock file, and a run waiting for the
slot whose lock file names a process of this host that is gone releases that lease
(that exact lease: never another run's slot) and goes ahead at once.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from newsflow.config import lake_slug
from newsflow.lease import lake_lease
from newsflow.lock import LakeBusyError, gone_from_this_host, holder, lake_lock
from newsflow.storage import is_url

RunLogger = logging.Logger | logging.LoggerAdapter[logging.Logger]
LEASE_SECONDS = 60
LIMIT_PREFIX = "newsflow-lake-"
# A waiting run says so this often (the issue asks for at least once a minute).
REPORT_SECONDS = 50.0
MIN_TRY_SECONDS = 5.0
# A lake lease unrenewed this long is free; renewed every third of it.
LEASE_TTL_SECONDS = 120
LEASE_POLL_SECONDS = 2.0


def lake_limit_name(lake_dir: Path | str, lake_name: str | None = None) -> str:
    """The Prefect global concurrency limit that admits one run per lake: named after a
    configured `lake_name`; else after the lake's slug plus a short hash of its full
    path, since two lakes may end in the same two folders (slugs are for reading)."""
    if lake_name:
        return f"{LIMIT_PREFIX}{lake_slug(lake_dir, lake_name)}"
    full_path = str(Path(lake_dir).expanduser().resolve())
    digest = hashlib.sha1(full_path.encode()).hexdigest()[:8]
    return f"{LIMIT_PREFIX}{lake_slug(lake_dir)}-{digest}"


def ensure_lake_limit(name: str) -> None:
    """Create the limit (one slot) if it is missing; a limit set by hand is left as is
    (an operator may have raised it, or turned it off)."""
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):  # another run created it first
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )


def _release_dead_holders_slot(lake_root: Path, tried: set[str], logger: RunLogger) -> None:
    """Release the concurrency lease the lake's lock file records, if its holder was a
    process of this host that is gone (killed before it could release it). That lease
    is the dead run's own, so no live run loses its slot; one already released is a
    no-op on the server. Each lease is tried once per wait."""
    from prefect import get_client

    info = holder(lake_root)
    lease_id = info.get("slot_lease")
    if not isinstance(lease_id, str) or lease_id in tried or not gone_from_this_host(info):
        return
    tried.add(lease_id)
    try:
        with get_client(sync_client=True) as client:
            client.release_concurrency_slots_with_lease(uuid.UUID(lease_id))
    except Exception as exc:  # it still lapses after LEASE_SECONDS
        logger.warning("Could not release the slot of run %s: %s", info.get("run_id"), exc)
        return
    logger.warning(
        "Released the lake's concurrency slot left by run %s (pid %s on this host, no "
        "longer running)",
        info.get("run_id"),
        info.get("pid"),
    )


def _hold_limit(
    stack: ExitStack, name: str, wait_seconds: float, logger: RunLogger, lake_root: Path
) -> dict[str, Any]:
    """Enter the limit's slot on `stack`, waiting in steps so the wait is reported;
    returns what the lock file records of it (its lease id, when Prefect tells)."""
    from prefect.concurrency.context import ConcurrencyContext
    from prefect.concurrency.sync import concurrency

    started = time.monotonic()
    tried: set[str] = set()
    # The context lists the lease ids taken inside it (to release them if the holder
    # is cancelled): ours is how a later run frees the slot if this one dies.
    leases = stack.enter_context(ConcurrencyContext())
    while True:
        _release_dead_holders_slot(lake_root, tried, logger)
        before = set(getattr(leases, "cleanup_lease_ids", []))
        waited = time.monotonic() - started
        # At least a few seconds per try: asking the server takes time even when free.
        step = max(min(REPORT_SECONDS, wait_seconds - waited), MIN_TRY_SECONDS)
        try:
            stack.enter_context(
                concurrency(name, occupy=1, timeout_seconds=step, lease_duration=LEASE_SECONDS)
            )
            ours = set(getattr(leases, "cleanup_lease_ids", [])) - before
            return {"slot_lease": str(ours.pop())} if len(ours) == 1 else {}
        except TimeoutError:
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise LakeBusyError(
                    f"another run holds the lake's concurrency limit {name}; gave up after "
                    f"{wait_seconds:g} s (lock_wait_seconds)"
                ) from None
            logger.warning(
                "Waiting for the lake: another run holds its concurrency limit %s "
                "(waited %.0f of %g s)",
                name,
                waited,
                wait_seconds,
            )


@contextmanager
def lake_slot(
    lake_root: Path,
    lake_name: str | None,
    run_id: str,
    wait_seconds: float,
    logger: RunLogger,
) -> Iterator[float]:
    """Hold the lake for this run: its concurrency limit, then its lock. Yields the
    seconds spent waiting for them (the run's time does not include them)."""
    started = time.monotonic()
    name = lake_limit_name(lake_root, lake_name)
    with ExitStack() as stack:
        slot: dict[str, Any] = {}
        try:
            ensure_lake_limit(name)
        except Exception as exc:  # the lock below still keeps one writer per lake
            logger.warning("No concurrency limit for the lake (%s); the lake lock alone", exc)
        else:
            slot = _hold_limit(stack, name, wait_seconds, logger, lake_root)
        report = {"report_seconds": REPORT_SECONDS, "waited_before": time.monotonic() - started}
        stack.enter_context(
            lake_lock(lake_root, run_id, wait_seconds, logger.warning, record=slot, **report)
        )
        yield time.monotonic() - started


@contextmanager
def writer_lock(
    lake_root: Path | str,
    lake_name: str | None,
    run_id: str,
    wait_seconds: float,
    logger: RunLogger,
    prefect_limit: bool = True,
    lease_ttl_seconds: int = LEASE_TTL_SECONDS,
) -> Iterator[float]:
    """Hold the lake as its one writer for the block; yields the seconds spent waiting.

    A lake on object storage (`s3://…`): its lease, renewed in the background; commits
    check it (tables.commit_properties), so a run that lost it stops before committing.
    A local lake: the Prefect concurrency limit (`prefect_limit`; commands that run no
    flow leave it out) and the lock file. A run that cannot get the lake within
    `wait_seconds` fails with `LakeBusyError`, one line naming the holder.
    """
    started = time.monotonic()
    if is_url(str(lake_root)):
        with lake_lease(
            str(lake_root),
            run_id,
            wait_seconds,
            ttl_s=lease_ttl_seconds,
            on_wait=logger.warning,
            poll_s=LEASE_POLL_SECONDS,
            report_s=REPORT_SECONDS,
        ):
            yield time.monotonic() - started
    elif prefect_limit:
        with lake_slot(Path(lake_root), lake_name, run_id, wait_seconds, logger) as waited:
            yield waited
    else:
        with lake_lock(
            Path(lake_root), run_id, wait_seconds, logger.warning, report_seconds=REPORT_SECONDS
        ):
            yield time.monotonic() - started
