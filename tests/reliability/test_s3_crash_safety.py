"""A run over `s3://` input SIGKILLed during ingest, then run again: the lake holds the
rows of one clean run over the same files in a folder, and the re-run fetches nothing
the killed run had already downloaded (its copies wait in the input cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.lake import Lake
from tests.prefect_server import PrefectServer
from tests.reliability.lakes import (
    BATCH_SIZE,
    Run,
    assert_consistent,
    assert_readable,
    assert_same_rows,
    newsflow_run,
    temp_files,
)
from tests.s3_server import S3Server

pytestmark = [pytest.mark.flow, pytest.mark.s3]


def test_killed_during_ingest_then_rerun_loses_and_duplicates_nothing(
    prefect_server: PrefectServer,
    corpus: Path,
    reference: tuple[Path, Run],
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    bucket = s3_server.new_bucket("crash")
    uploaded = s3_server.upload(corpus, bucket, "raw")
    env = {**prefect_server.env, **s3_server.env()}
    url, lake = f"s3://{bucket}/raw/", tmp_path / "lake"

    killed = newsflow_run(env, url, lake, "--batch-size", BATCH_SIZE, kill_at="ingest.file:5")  # type: ignore[arg-type]
    assert killed.killed, killed.output[-3000:]
    assert_readable(lake)
    assert s3_server.bytes_sent(bucket) == uploaded  # listing fetched every object once

    rerun = newsflow_run(env, url, lake, "--batch-size", BATCH_SIZE)  # type: ignore[arg-type]
    assert rerun.returncode == 0, rerun.output[-3000:]
    assert s3_server.bytes_sent(bucket) == uploaded  # and the re-run fetched none again
    assert_readable(lake)
    assert temp_files(lake) == []
    assert_consistent(lake)
    assert_same_rows(reference[0], lake)


@pytest.mark.parametrize("kill_at", ["dedupe.before_index", "commit.enriched"])
def test_a_lake_on_s3_killed_mid_run_then_rerun_loses_and_duplicates_nothing(
    kill_at: str,
    prefect_server: PrefectServer,
    corpus: Path,
    reference: tuple[Path, Run],
    s3_env: S3Server,
) -> None:
    """Input and lake both on S3; SIGKILL in dedupe (work written, nothing committed),
    or between two tables' commits: the re-run equals one clean run, in the working copy
    and in every table."""
    inputs, lakes = s3_env.new_bucket("crash-in"), s3_env.new_bucket("crash-lake")
    s3_env.upload(corpus, inputs, "raw")
    env = {**prefect_server.env, **s3_env.env()}  # the test reads the lake too (s3_env)
    url, lake = f"s3://{inputs}/raw/", f"s3://{lakes}/lake"

    killed = newsflow_run(env, url, lake, "--batch-size", BATCH_SIZE, kill_at=kill_at)  # type: ignore[arg-type]
    assert killed.killed, killed.output[-3000:]
    assert Lake(lake).last_run() is None  # the killed run recorded nothing

    rerun = newsflow_run(env, url, lake, "--batch-size", BATCH_SIZE)  # type: ignore[arg-type]
    assert rerun.returncode == 0, rerun.output[-3000:]
    assert_consistent(lake)
    assert_same_rows(reference[0], lake)
    objects = s3_env.filesystem().find(lakes)
    assert not [key for key in objects if key.endswith(".tmp")]
