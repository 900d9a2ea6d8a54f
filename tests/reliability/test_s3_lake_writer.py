"""`newsflow run --lake s3://…` end to end, with the lake's one-writer lease: the same
records as a local run of the same files, the lease released after, and a second run
refused in one line while another run holds the lease (decision 0002).

Needs the lake on object storage (Lake on fsspec); skipped, saying so, until then."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from newsflow.config import PipelineConfig
from newsflow.lease import Lease
from newsflow.storage import delta_storage_options
from newsflow.tables import TABLES, table_uri
from tests.prefect_server import PrefectServer
from tests.reliability.lakes import BATCH_SIZE, Run, canonical, newsflow_run, table_rows
from tests.s3_server import S3Server


def _lake_on_object_storage() -> bool:
    return isinstance(PipelineConfig(lake_dir="s3://bucket/lake").lake_dir, str)


pytestmark = [
    pytest.mark.flow,
    pytest.mark.s3,
    pytest.mark.skipif(
        not _lake_on_object_storage(),
        reason="the lake on object storage is not in this branch (PipelineConfig.lake_dir "
        "folds s3:// into a Path); unskip when Lake on fsspec lands",
    ),
]


def _tables(lake_url: str) -> dict[str, pl.DataFrame]:
    found = {}
    for stage in TABLES:
        uri = table_uri(lake_url, stage)
        try:
            frame = pl.read_delta(uri, storage_options=delta_storage_options(uri))
        except Exception:  # a table never committed (e.g. no metadata-only rows)
            frame = None
        if frame is not None:
            found[stage] = canonical(frame)
    return found


def test_a_run_on_an_s3_lake_holds_its_lease_and_writes_the_local_runs_records(
    prefect_server: PrefectServer,
    corpus: Path,
    reference: tuple[Path, Run],
    s3_env: S3Server,
) -> None:
    bucket = s3_env.new_bucket("lake")
    s3_env.upload(corpus, bucket, "raw")
    env = {**prefect_server.env, **s3_env.env()}
    raw, lake_url = f"s3://{bucket}/raw/", f"s3://{bucket}/lake"

    run = newsflow_run(env, raw, lake_url, "--batch-size", BATCH_SIZE)  # type: ignore[arg-type]
    assert run.returncode == 0, run.output[-3000:]
    tables = _tables(lake_url)
    for stage in TABLES:
        want = table_rows(reference[0], stage)
        got = tables.get(stage, want.clear())
        assert got.equals(want), f"table {stage}: {got.height} rows vs {want.height} locally"
    seen = Lease(lake_url, "reader").read()
    assert seen is not None
    assert seen.holder["released"]
    assert seen.holder["generation"] == 1

    holder = Lease(lake_url, "other-run")
    holder.acquire(wait_s=0)
    try:
        refused = newsflow_run(env, raw, lake_url, "--lock-wait", "1")  # type: ignore[arg-type]
    finally:
        holder.release()
    assert refused.returncode == 1, refused.output[-3000:]
    failure = [line for line in refused.output.splitlines() if line.startswith("newsflow:")]
    assert failure, refused.output[-3000:]
    assert "held by run other-run" in failure[-1]
    assert "gave up after 1 s" in failure[-1]
    assert _tables(lake_url).keys() == tables.keys()
