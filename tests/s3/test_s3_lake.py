"""`newsflow run --input s3://… --lake s3://…` against a real S3-compatible server
(SeaweedFS): the lake itself on object storage, read back by `newsflow report`.

The input and the lake are in two buckets, so the server's counters for the input
bucket say exactly what a run downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from newsflow.lake import Lake
from newsflow.tables import TABLES, table_versions
from tests.e2e.lake_rows import differing_stages
from tests.reliability.lakes import table_rows
from tests.s3_server import S3Server

pytestmark = [pytest.mark.flow, pytest.mark.s3, pytest.mark.usefixtures("prefect_server")]

# Enrichers without a model: the test is about storage, not enrichment.
ENRICHERS = "counts_v2,source_v2"


def _run(input_location: str | Path, lake: str | Path, *options: str) -> dict[str, Any]:
    args = ["--input", str(input_location), "--lake", str(lake), "--batch-size", "3"]
    assert main(["run", *args, "--enrichers", ENRICHERS, *options]) == 0
    run = Lake(lake).last_run()
    assert run is not None
    return run


@pytest.fixture
def raw(sample_raw: Path) -> Path:
    """The sample corpus with one file in a subfolder (keys with a `/` below the prefix)."""
    (sample_raw / "desk").mkdir()
    shutil.move(sample_raw / "regional_desk.csv", sample_raw / "desk" / "regional_desk.csv")
    return sample_raw


def test_a_lake_on_s3_holds_the_local_records_and_a_rerun_does_nothing(
    s3_env: S3Server, raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, lakes = s3_env.new_bucket("input"), s3_env.new_bucket("lake")
    uploaded = s3_env.upload(raw, inputs, "raw")
    url, lake = f"s3://{inputs}/raw/", f"s3://{lakes}/lake/"

    first = _run(url, lake)
    local = _run(raw, tmp_path / "lake-local")
    assert first["counts"]["enriched"] == local["counts"]["enriched"] > 0
    assert first["lake"] == lake.rstrip("/")
    # Same records in every stage of the working copy and in every committed table.
    assert differing_stages(lake, tmp_path / "lake-local") == {}  # type: ignore[arg-type]
    for stage in TABLES:
        assert table_rows(lake, stage).equals(table_rows(tmp_path / "lake-local", stage)), stage
    # Nothing of the lake was written locally: no folder named after the URL appeared.
    assert not Path("s3:").exists()
    objects = s3_env.filesystem().find(lakes)
    assert any("/tables/enriched/_delta_log/" in key for key in objects)
    assert any(key.endswith("/quality/latest.html") for key in objects)
    assert not [key for key in objects if key.endswith(".tmp")]

    versions = table_versions(lake)
    requests = s3_env.requests(inputs)
    again = _run(url, lake)
    assert again["counts"]["files_new"] == again["counts"]["batches"] == 0
    assert again["stages_run"] == ["ingest"]
    assert s3_env.bytes_sent(inputs) == uploaded  # the input was downloaded once
    assert (s3_env.requests(inputs) - requests)["GET"] == 0
    # As on a local lake (tests/reliability/test_idempotency.py), the listing's rejects
    # file is written by every run anew: the quarantine table alone gets a new version.
    newer = {s for s, v in table_versions(lake).items() if v != versions[s]}
    assert newer <= {"quarantine"}
    assert again["tables"] == table_versions(lake)

    capsys.readouterr()
    assert main(["report", "--lake", lake]) == 0
    printed = capsys.readouterr().out
    assert again["run_id"] in printed
    assert f"enriched v{versions['enriched']} ({first['counts']['enriched']:,})" in printed
    assert f"{lake.rstrip('/')}/quality/" in printed  # the report is named by its URL
    assert s3_env.secret_key not in printed
