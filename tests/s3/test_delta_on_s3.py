"""What the lake on object storage can rely on, probed on the test server (SeaweedFS):
conditional PUTs, and Delta tables written, appended, read back, time-travelled and
committed by concurrent writers. docs/decisions/0002-object-storage.md draws on these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from newsflow.storage import delta_storage_options
from tests.s3_server import S3Server

pytestmark = pytest.mark.s3

deltalake = pytest.importorskip("deltalake")

PRECONDITION_FAILED = "PreconditionFailed"


def _client(server: S3Server) -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
    )


def _refused(call: Callable[[], Any]) -> str:
    """The S3 error code of a call expected to fail ('' if it succeeded)."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return ""


def _at_once(work: Callable[[int], None], count: int) -> None:
    """Run `work(0)` … `work(count - 1)` in threads released together."""
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _rows(ids: range) -> pa.Table:
    return pa.table({"doc_id": [f"doc-{i}" for i in ids], "words": list(ids)})


def test_conditional_puts_and_deletes_are_honoured(s3_server: S3Server) -> None:
    """The primitives a lease object and delta-rs's commit need: create-if-absent,
    replace-if-unchanged, delete-if-unchanged."""
    bucket, s3 = s3_server.new_bucket("cond"), _client(s3_server)
    put = s3.put_object
    first = put(Bucket=bucket, Key="lease", Body=b"run-1", IfNoneMatch="*")["ETag"]
    assert _refused(lambda: put(Bucket=bucket, Key="lease", Body=b"run-2", IfNoneMatch="*")) == (
        PRECONDITION_FAILED
    )
    second = put(Bucket=bucket, Key="lease", Body=b"run-1 renewed", IfMatch=first)["ETag"]
    assert second != first
    stale = lambda: put(Bucket=bucket, Key="lease", Body=b"run-3", IfMatch=first)  # noqa: E731
    assert _refused(stale) == PRECONDITION_FAILED
    assert s3.get_object(Bucket=bucket, Key="lease")["Body"].read() == b"run-1 renewed"
    assert _refused(lambda: s3.delete_object(Bucket=bucket, Key="lease", IfMatch=first)) == (
        PRECONDITION_FAILED
    )
    s3.delete_object(Bucket=bucket, Key="lease", IfMatch=second)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_racing_creates_have_exactly_one_winner(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket("race")
    clients = [_client(s3_server) for _ in range(8)]
    for trial in range(10):
        key = f"lease-{trial}"
        winners: list[int] = []

        def contend(i: int, key: str = key, winners: list[int] = winners) -> None:
            put = clients[i].put_object
            if not _refused(lambda: put(Bucket=bucket, Key=key, Body=b"%d" % i, IfNoneMatch="*")):
                winners.append(i)

        _at_once(contend, len(clients))
        assert len(winners) == 1, (trial, winners)
        body = clients[0].get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == b"%d" % winners[0]


def test_a_delta_table_is_written_appended_read_and_time_travelled(s3_env: S3Server) -> None:
    """With only the standard AWS_* environment set, as a user would run newsflow."""
    uri = f"s3://{s3_env.new_bucket('delta')}/lake/enriched"
    options = delta_storage_options(uri)
    assert s3_env.secret_key not in str(options)  # delta-rs reads credentials itself
    deltalake.write_deltalake(uri, _rows(range(3)), storage_options=options)
    deltalake.write_deltalake(uri, _rows(range(3, 5)), mode="append", storage_options=options)
    table = deltalake.DeltaTable(uri, storage_options=options)
    assert table.version() == 1
    assert sorted(table.to_pyarrow_table()["words"].to_pylist()) == [0, 1, 2, 3, 4]
    assert (
        deltalake.DeltaTable(uri, version=0, storage_options=options).to_pyarrow_table().num_rows
        == 3
    )
    # Readers other teams use: polars, and pandas through deltalake.
    assert pl.scan_delta(uri, storage_options=options).select(pl.len()).collect().item() == 5
    assert pl.read_delta(uri, version=0, storage_options=options).height == 3
    assert len(table.to_pandas()) == 5
    deltalake.write_deltalake(uri, _rows(range(9, 10)), mode="overwrite", storage_options=options)
    assert deltalake.DeltaTable(uri, storage_options=options).to_pyarrow_table().num_rows == 1
    assert (
        deltalake.DeltaTable(uri, version=1, storage_options=options).to_pyarrow_table().num_rows
        == 5
    )


@pytest.mark.parametrize("commit_mode", [{}, {"conditional_put": "etag"}], ids=["default", "etag"])
def test_concurrent_appends_commit_every_row_exactly_once(
    s3_server: S3Server, commit_mode: dict[str, str]
) -> None:
    """Eight writers append at once, three times over: every commit lands as its own
    version. Without a conditional PUT on the log entry two writers would both write
    `_delta_log/<n>.json` and one commit (its rows) would be lost."""
    bucket = s3_server.new_bucket("writers")
    uri = f"s3://{bucket}/lake/cleaned"
    options = s3_server.delta_storage_options(**commit_mode)
    deltalake.write_deltalake(uri, _rows(range(1)), storage_options=options)
    writers, rounds, failures = 8, 3, []
    for round_ in range(rounds):

        def append(i: int, round_: int = round_) -> None:
            n = 1 + round_ * writers + i
            try:
                deltalake.write_deltalake(
                    uri, _rows(range(n, n + 1)), mode="append", storage_options=options
                )
            except Exception as exc:  # the assertion below names it
                failures.append(exc)

        _at_once(append, writers)
    assert failures == []
    table = deltalake.DeltaTable(uri, storage_options=options)
    assert table.version() == writers * rounds
    ids = table.to_pyarrow_table()["doc_id"].to_pylist()
    assert sorted(ids) == sorted(f"doc-{i}" for i in range(1 + writers * rounds))
    # The writers did collide, and the server's refusals sorted them out.
    refusals = s3_server.metric("SeaweedFS_s3_request_total", by="code", bucket=bucket, type="PUT")
    assert refusals["412"] > 0


def test_without_conditional_put_delta_refuses_to_commit(s3_server: S3Server) -> None:
    """deltalake 1.x has no unsafe mode left on S3: with conditional PUT switched off it
    refuses to write (AWS_S3_ALLOW_UNSAFE_RENAME does not bring one back)."""
    uri = f"s3://{s3_server.new_bucket('unsafe')}/lake/t"
    options = s3_server.delta_storage_options(
        conditional_put="disabled", AWS_S3_ALLOW_UNSAFE_RENAME="true"
    )
    with pytest.raises(OSError, match="conditional put is disabled"):
        deltalake.write_deltalake(uri, _rows(range(2)), storage_options=options)


def test_a_writer_whose_lease_was_taken_over_cannot_commit(s3_server: S3Server) -> None:
    """The fence of the lease design: each commit records the writer's lease generation
    as a Delta app transaction. A writer that lost its lease (paused past its expiry)
    and commits from its old snapshot conflicts with the new holder's commit; one that
    reloads sees a generation newer than its own and must stop."""
    from deltalake import CommitProperties, Transaction
    from deltalake.exceptions import CommitFailedError

    uri = f"s3://{s3_server.new_bucket('fence')}/lake/deduped"
    options = s3_server.delta_storage_options()

    def fenced(generation: int) -> CommitProperties:
        return CommitProperties(app_transactions=[Transaction("newsflow", generation)])

    deltalake.write_deltalake(
        uri, _rows(range(2)), storage_options=options, commit_properties=fenced(1)
    )
    paused = deltalake.DeltaTable(uri, storage_options=options)  # generation 1's snapshot
    unfenced = deltalake.DeltaTable(uri, storage_options=options)  # the same, as a control
    successor = deltalake.DeltaTable(uri, storage_options=options)
    deltalake.write_deltalake(
        successor, _rows(range(2, 4)), mode="append", commit_properties=fenced(2)
    )
    with pytest.raises(CommitFailedError, match="Concurrent transaction"):
        deltalake.write_deltalake(
            paused, _rows(range(9, 10)), mode="append", commit_properties=fenced(1)
        )
    current = deltalake.DeltaTable(uri, storage_options=options)
    assert current.transaction_version("newsflow") == 2
    assert current.to_pyarrow_table().num_rows == 4
    # Control: the same stale snapshot without the fence appends blindly, unnoticed.
    deltalake.write_deltalake(unfenced, _rows(range(9, 10)), mode="append")
    assert deltalake.DeltaTable(uri, storage_options=options).to_pyarrow_table().num_rows == 5
