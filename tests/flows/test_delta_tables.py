"""What readers see of a lake: Delta tables a run commits once, after its work succeeded.

A reader during a run reads the previous versions; a run that fails commits nothing, and
the run after it commits everything, once; an old-layout lake is migrated by one command.
"""

from __future__ import annotations

import collections
import glob
import json
import random
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import DeltaTable

import newsflow.faults
from app.cli import main
from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.faults import FAIL_AT, InjectedFailure
from newsflow.lake import STAGES, WORK_DIR, Lake
from newsflow.tables import TABLES, TABLES_DIR, snapshot, table_uri, table_versions
from tests.reliability.lakes import canonical, stage_rows, table_rows

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

CHEAP = ["counts_v2", "source_v2"]
SITE = "https://example-harbour-gazette.org"
WORDS = re.findall(
    r"\w+",
    "ferry harbour council quay tide fishing boats lighthouse storm repairs pier walkers "
    "market stalls school pupils choir festival budget vote residents bakery museum garden "
    "trees wind power crews volunteers charity hospital station train timetable bridge",
)


def story(n: int, copy: int = 0) -> dict[str, Any]:
    """A record with a body of its own (seed `n`); `copy` > 0 gives a near copy of it
    on another page, with one more sentence, so it joins the original's cluster."""
    pick = random.Random(n).choice
    body = "\n\n".join(
        " ".join(pick(WORDS) for _ in range(40)).capitalize() + "." for _ in range(3)
    )
    if copy:
        body += "\n\nThe harbour master was not available for comment."
    return {
        "title": f"Harbour news {n}",
        "date": f"2024-0{1 + n % 9}-1{n % 10}",
        "url": f"{SITE}/{'copy-' * copy}story-{n}",
        "body": body,
    }


def write_json(raw: Path, name: str, rows: list[dict[str, Any]]) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    (raw / name).write_text(json.dumps(rows), encoding="utf-8")


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("enrichers", CHEAP)
    options.setdefault("batch_size", 1)
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def committed_versions(lake: Path, stage: str) -> list[tuple[int, frozenset[str]]]:
    """(rows, doc_ids) of every committed version of a table."""
    uri = table_uri(lake, stage)
    newest = DeltaTable(uri).version()
    out = []
    for version in range(newest + 1):
        ids = pl.scan_delta(uri, version=version).select("doc_id").collect()["doc_id"]
        out.append((ids.len(), frozenset(ids)))
    return out


def test_a_reader_during_a_run_that_rewrites_clusters_reads_only_committed_versions(
    tmp_path: Path,
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    for part in range(4):
        write_json(raw, f"one-{part}.json", [story(n) for n in range(part * 10, part * 10 + 10)])
    first = run(raw, lake)
    # Near copies of stories of every batch: their clusters, so batch files, are rewritten.
    write_json(raw, "copies.json", [story(n, copy=1) for n in range(0, 40, 3)])
    reads: list[tuple[int, frozenset[str]]] = []
    stop = threading.Event()
    uri = table_uri(lake, "enriched")

    def read_enriched() -> None:
        while not stop.is_set():
            ids = pl.scan_delta(uri).select("doc_id").collect()["doc_id"]  # newest at the time
            reads.append((ids.len(), frozenset(ids)))
            stop.wait(0.02)

    reader = threading.Thread(target=read_enriched)
    reader.start()
    try:
        second = run(raw, lake)
    finally:
        stop.set()
        reader.join()
    reads.append((pl.scan_delta(uri).select("doc_id").collect().height, frozenset()))
    reads.pop()  # (the read above only proves the table reads after the run)
    assert second["counts"]["clusters_rewritten"] > 0
    assert second["tables"]["enriched"] == first["tables"]["enriched"] + 1
    versions = committed_versions(lake, "enriched")
    assert len(reads) > 5
    assert all(read in versions for read in reads)
    before, after = versions[first["tables"]["enriched"]], versions[-1]
    assert reads[0] == before  # the run had not committed yet
    assert before != after
    # The old layout's glob sees nothing: no stage folder at the lake's top any more.
    for stage in STAGES:
        assert glob.glob(str(lake / stage / "**" / "*.parquet"), recursive=True) == []
    # Pinning the first run reads every table as it was then; the report reads as of its run.
    pinned = snapshot(lake, first["run_id"])
    assert pinned.versions == first["tables"]
    pinned_ids = frozenset(pinned.scan("enriched").collect()["doc_id"])
    assert (len(pinned_ids), pinned_ids) == before


def test_readers_read_the_tables_with_polars_pandas_and_duckdb(tmp_path: Path) -> None:
    import duckdb

    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "news.json", [story(n) for n in range(6)] + [story(2, copy=1)])
    result = run(raw, lake)
    expected = sorted(Lake(lake).scan("enriched").collect()["doc_id"])
    assert len(expected) == 6  # the copy merged into its original
    uri = table_uri(lake, "enriched")
    assert sorted(pl.scan_delta(uri).collect()["doc_id"]) == expected
    assert sorted(DeltaTable(uri).to_pandas()["doc_id"]) == expected
    con = duckdb.connect()
    con.register("enriched", DeltaTable(uri).to_pyarrow_dataset())
    got = con.sql("select doc_id from enriched order by doc_id").fetchall()
    assert [row[0] for row in got] == expected
    # Every table the run committed, at the version its manifest records.
    assert set(result["tables"]) == set(TABLES)
    assert result["tables"] == table_versions(lake)


def test_a_run_failing_after_enrich_commits_nothing_and_the_rerun_commits_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, lake, reference = tmp_path / "raw", tmp_path / "lake", tmp_path / "reference"
    write_json(raw, "one.json", [story(n) for n in range(8)])
    run(raw, lake)
    before = {stage: table_rows(lake, stage) for stage in TABLES}
    versions = table_versions(lake)
    runs = sorted((lake / "runs").glob("*.json"))

    write_json(raw, "two.json", [story(n) for n in range(8, 14)] + [story(3, copy=1)])
    monkeypatch.setenv(FAIL_AT, "commit.ingested")  # enrich and the quality report done
    monkeypatch.setattr(newsflow.faults, "_passes", collections.Counter())
    with pytest.raises(InjectedFailure):
        run(raw, lake)
    monkeypatch.delenv(FAIL_AT)
    assert Lake(lake).count("enriched") == 14  # the work was done (the copy merged)...
    assert table_versions(lake) == versions  # ...and not one table committed it
    for stage in TABLES:
        assert table_rows(lake, stage).equals(before[stage]), stage
    assert sorted((lake / "runs").glob("*.json")) == runs

    rerun = run(raw, lake)
    assert rerun["counts"]["files_new"] == 0  # the failed run's input was ingested
    assert rerun["committed"]
    # The rerun commits what the failed run did: the rows of one clean run, once each.
    run(raw, reference)
    for stage in TABLES:
        assert table_rows(lake, stage).equals(table_rows(reference, stage)), stage
        assert table_rows(lake, stage).equals(stage_rows(lake, stage)), stage
    assert pl.Series(sorted(table_rows(lake, "enriched")["doc_id"])).is_unique().all()


def test_cached_tasks_of_a_failed_run_do_not_skip_committing_their_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, lake, reference = tmp_path / "raw", tmp_path / "lake", tmp_path / "reference"
    for part in range(3):
        write_json(raw, f"part-{part}.json", [story(n) for n in range(part * 4, part * 4 + 4)])
    # Ingest finishes (and is cached) for every batch; clean writes one batch, then fails.
    monkeypatch.setenv(FAIL_AT, "before_rename.cleaned:2")
    monkeypatch.setattr(newsflow.faults, "_passes", collections.Counter())
    with pytest.raises(InjectedFailure):
        run(raw, lake)
    monkeypatch.delenv(FAIL_AT)
    assert table_versions(lake) == dict.fromkeys(TABLES)  # nothing committed
    assert len(Lake(lake).files("ingested")) == 3

    rerun = run(raw, lake)
    assert rerun["counts"]["batches_cached"] == 3  # ingest was not done again...
    run(raw, reference)
    for stage in TABLES:  # ...and what it had written was committed all the same
        assert table_rows(lake, stage).equals(table_rows(reference, stage)), stage
    assert table_rows(lake, "enriched").height == 12


def to_old_layout(lake: Path) -> None:
    """The folders the layout before Delta tables had: each stage at the lake's top."""
    work = lake / WORK_DIR
    for folder in work.iterdir():
        shutil.move(folder, lake / folder.name)
    work.rmdir()
    shutil.rmtree(lake / TABLES_DIR)
    for path in (lake / "runs").glob("*.json"):  # runs recorded no table versions then
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for key in ("tables", "committed"):
            manifest.pop(key, None)
        path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_old_layout_lake_is_refused_then_migrated_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "news.json", [story(n) for n in range(5)])
    run(raw, lake)
    rows = {stage: stage_rows(lake, stage) for stage in TABLES}
    to_old_layout(lake)
    assert glob.glob(str(lake / "enriched" / "**" / "*.parquet"), recursive=True)
    capsys.readouterr()

    args = ["run", "--input", str(raw), "--lake", str(lake), "--enrichers", ",".join(CHEAP)]
    assert main(args) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f"newsflow migrate --lake {lake}" in line

    assert main(["migrate", "--lake", str(lake)]) == 0
    capsys.readouterr()
    for stage in STAGES:
        assert not (lake / stage).exists()
        assert glob.glob(str(lake / stage / "**" / "*.parquet"), recursive=True) == []
    for stage in TABLES:
        assert canonical(snapshot(lake).scan(stage).collect()).equals(rows[stage]), stage

    assert main(["migrate", "--lake", str(lake)]) == 2  # twice: refused, in one line
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "nothing to migrate" in line or "no folders to migrate" in line

    assert main(args) == 0  # the migrated lake runs: its input is known, nothing is new
    manifest = Lake(lake).last_run()
    assert manifest is not None
    assert manifest["counts"]["files_new"] == 0
    for stage in TABLES:
        assert table_rows(lake, stage).equals(rows[stage]), stage


def test_vacuum_expires_old_versions_and_keeps_the_newest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "one.json", [story(n) for n in range(4)])
    first = run(raw, lake)
    write_json(raw, "two.json", [story(n, copy=1) for n in range(4)])
    run(raw, lake)
    newest = table_rows(lake, "enriched")
    assert main(["vacuum", "--lake", str(lake), "--retain", "0"]) == 0
    assert "files deleted" in capsys.readouterr().out
    assert table_rows(lake, "enriched").equals(newest)
    with pytest.raises(Exception, match="(?i)not found|no such file|does not exist"):
        snapshot(lake, first["run_id"]).scan("enriched").collect()
