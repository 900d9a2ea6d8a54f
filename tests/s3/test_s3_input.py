"""`newsflow run --input s3://…` against a real S3-compatible server (SeaweedFS).

What a run downloaded is read from the server's own traffic counters, so nothing in
the client is mocked: a re-run over unchanged input must fetch zero bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from newsflow.lake import Lake
from tests.e2e.lake_rows import differing_stages
from tests.s3_server import S3Server, free_ports

pytestmark = [pytest.mark.flow, pytest.mark.s3, pytest.mark.usefixtures("prefect_server")]

# Enrichers without a model: the test is about input, not enrichment.
ENRICHERS = "counts_v2,source_v2"
# A storage problem is told before Prefect starts: well within this.
FAILS_WITHIN_S = 30


def _run(input_location: str | Path, lake: Path, *options: str) -> dict[str, Any]:
    # Batches of 3 files: the same files must form the same batches from either place.
    args = ["--input", str(input_location), "--lake", str(lake), "--batch-size", "3"]
    code = main(["run", *args, "--enrichers", ENRICHERS, *options])
    assert code == 0
    run = Lake(lake).last_run()
    assert run is not None
    return run


@pytest.fixture
def raw(sample_raw: Path) -> Path:
    """The sample corpus with one file in a subfolder (keys with a `/` below the prefix)."""
    (sample_raw / "desk").mkdir()
    shutil.move(sample_raw / "regional_desk.csv", sample_raw / "desk" / "regional_desk.csv")
    return sample_raw


def test_s3_input_gives_the_local_records_and_a_rerun_downloads_nothing(
    s3_env: S3Server, raw: Path, tmp_path: Path
) -> None:
    bucket = s3_env.new_bucket("input")
    uploaded = s3_env.upload(raw, bucket, "raw")
    url = f"s3://{bucket}/raw/"

    files = sum(p.is_file() for p in raw.rglob("*"))
    first = _run(url, tmp_path / "lake-s3")
    assert first["counts"]["files_new"] == files
    # Each object was downloaded once: listing hashed the copy that ingest then read.
    assert s3_env.bytes_sent(bucket) == uploaded
    local = _run(raw, tmp_path / "lake-local")
    assert local["counts"]["enriched"] == first["counts"]["enriched"] > 0
    # Same paths below the prefix, same content: same doc ids, batch ids and rows.
    assert differing_stages(tmp_path / "lake-s3", tmp_path / "lake-local") == {}
    assert first["config"]["input_dir"] == url
    manifest = json.dumps(first)
    assert s3_env.secret_key not in manifest
    assert s3_env.access_key not in manifest

    requests = s3_env.requests(bucket)
    again = _run(url, tmp_path / "lake-s3")
    assert again["counts"]["files_unchanged"] == files
    assert again["counts"]["files_new"] == again["counts"]["batches"] == 0
    assert again["stages_run"] == ["ingest"]
    assert s3_env.bytes_sent(bucket) == uploaded  # not one byte more
    new_requests = s3_env.requests(bucket) - requests
    assert new_requests["GET"] == 0, new_requests  # no GET, no HEAD: the listing sufficed
    assert new_requests["LIST"] >= 1


def test_only_new_and_changed_objects_are_downloaded(
    s3_env: S3Server, raw: Path, tmp_path: Path
) -> None:
    bucket = s3_env.new_bucket("changes")
    s3_env.upload(raw, bucket, "raw")
    lake = tmp_path / "lake"
    _run(f"s3://{bucket}/raw", lake)
    fs = s3_env.filesystem()
    edited = (
        b'{"title": "Harbour reopens", "body": "The harbour reopened on Monday after repairs."}\n'
    )
    added = (
        b'{"title": "Ferry times change", "body": "The winter ferry timetable starts next week."}\n'
    )
    fs.pipe(f"{bucket}/raw/newsplease_kestrel_harbour.json", edited)
    fs.pipe(f"{bucket}/raw/desk/added.jsonl", added)
    before = s3_env.bytes_sent(bucket)

    run = _run(f"s3://{bucket}/raw", lake)
    assert s3_env.bytes_sent(bucket) - before == len(edited) + len(added)
    assert run["counts"]["files_new"] == 2
    assert run["counts"]["files_unchanged"] == sum(p.is_file() for p in raw.rglob("*")) - 1
    # Copies of committed input are dropped at the next listing; only the memo stays.
    _run(f"s3://{bucket}/raw", lake)
    cache = lake / "_input_cache"
    assert [p.name for p in cache.iterdir() if p.is_file()] == ["listing.parquet"]
    assert not [p for p in cache.rglob("*") if p.is_file() and p.name != "listing.parquet"]

    # A full refresh reads every file again: ingest fetches the copies listing did not.
    current = sum(info["size"] for info in fs.find(f"{bucket}/raw", detail=True).values())
    before = s3_env.bytes_sent(bucket)
    refreshed = _run(f"s3://{bucket}/raw", lake, "--full-refresh")
    assert refreshed["counts"]["files_new"] == run["counts"]["files_seen"]
    assert s3_env.bytes_sent(bucket) - before == current


def _cli(
    args: list[str], env: dict[str, str], home: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env, "PREFECT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize("fault", ["wrong_secret", "unknown_key", "unreachable", "no_bucket"])
def test_storage_problems_are_one_line_and_exit_one(
    fault: str, s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket("faults")
    env = s3_server.env()
    url = f"s3://{bucket}/raw/"
    if fault == "wrong_secret":
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-5f1c"
    elif fault == "unknown_key":
        env["AWS_ACCESS_KEY_ID"] = "nobody"
    elif fault == "unreachable":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_ports(1)[0]}"
    else:
        url = "s3://no-such-bucket-7d1e/raw/"
    done, seconds = _cli(["run", "--input", url, "--lake", str(tmp_path / "lake")], env, tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == (2 if fault == "no_bucket" else 1), done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("newsflow: ")
    assert url.rstrip("/") in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert env["AWS_SECRET_ACCESS_KEY"] not in done.stderr + done.stdout
    assert seconds < FAILS_WITHIN_S
    assert not (tmp_path / "lake").exists()  # nothing was started


def test_credentials_in_the_url_are_refused(tmp_path: Path) -> None:
    done, _ = _cli(
        ["run", "--input", "s3://key:secret@bucket/raw/", "--lake", str(tmp_path / "lake")],
        {},
        tmp_path,
    )
    assert done.returncode == 2
    assert "secret" not in done.stderr.replace("AWS_SECRET_ACCESS_KEY", "")
    assert "AWS_ACCESS_KEY_ID" in done.stderr
