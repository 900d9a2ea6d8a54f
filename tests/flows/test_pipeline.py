"""The whole flow on the shipped sample corpus, through a real Prefect (test) server."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.schema import SCHEMA_VERSION, STAGE_SCHEMAS
from newsflow.tables import TABLES, table_uri
from tasks.enrich import DEFAULT_ENRICHERS
from tests.conftest import SEED_DATED, SEED_HEADED

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

DISCLAIMER_STARTS = (
    "Please note that sending false messages",
    "Please write your correct name",
    "Hence, sending offensive comments",
)


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def stage_rows(lake: Path, stage: str) -> pl.DataFrame:
    return Lake(lake).scan(stage).collect()


def without_run_ids(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop("run_id").sort("doc_id")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    raw = tmp_path_factory.mktemp("sample") / "raw"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "raw", raw)
    lake = raw.parent / "lake"
    return lake, run(raw, lake)


def test_the_two_seeds_become_one_clean_record(first_run: tuple[Path, dict[str, Any]]) -> None:
    lake, _ = first_run
    enriched = stage_rows(lake, "enriched")
    seeds = enriched.filter(pl.col("source_files").list.contains(SEED_HEADED))
    assert seeds.height == 1
    record = seeds.row(0, named=True)
    assert record["title"] == (
        "Biden, Putin hold video call on bilateral ties, Ukrainian crisis, Iran nuclear deal"
    )
    assert record["published_date"] == dt.date(2021, 12, 8)
    assert record["published_month"] == "2021-12"
    assert record["url"] == "https://www.daijiworld.com/news/newsDisplay?newsID=901925"
    assert record["body"].startswith("Washington, Dec 8 (IANS)")
    assert sorted(record["source_files"]) == [SEED_HEADED, SEED_DATED]
    assert sorted(record["layouts"]) == ["dated", "headed"]
    assert record["duplicate_count"] == 2
    assert record["domain"] == "daijiworld.com"
    assert record["host"] == "www.daijiworld.com"
    assert record["publisher"] == "daijiworld"
    assert record["language"] == "en"
    assert 0.9 < record["language_confidence"] <= 1.0
    assert (record["dateline_place"], record["dateline_agency"]) == ("Washington", "IANS")
    assert record["people"] == ["Joe Biden", "Vladimir Putin"]  # not Kiev, Donbass, Geneva
    assert {"Ukraine", "Russia", "Geneva"} <= set(record["places"])
    assert "NATO" in record["organizations"]
    assert not {"Donbass", "Allies", "Strategic Stability"} & set(record["organizations"])
    assert 0 < len(record["keywords"]) <= 10
    assert record["word_count"] > 250
    assert record["sentence_count"] >= record["paragraph_count"] > 5
    assert 0.9 <= record["quality_score"] <= 1.0
    for start in DISCLAIMER_STARTS:
        assert start not in record["body"]
    removed = {line["text"][:40]: line["rule"] for line in record["removed_lines"]}
    assert len(removed) == 3
    assert all(any(text.startswith(s[:30]) for s in DISCLAIMER_STARTS) for text in removed)
    assert set(removed.values()) == {"comment_disclaimer_v1"}


def test_enriched_files_name_the_enrichers_that_made_them(
    first_run: tuple[Path, dict[str, Any]],
) -> None:
    lake, run_manifest = first_run
    for path in Lake(lake).files("enriched"):
        meta = pq.read_schema(path).metadata
        assert meta[b"newsflow.enrichers"].decode().split(",") == list(DEFAULT_ENRICHERS)
        models = json.loads(meta[b"newsflow.enricher_models"])
        assert "entities_v3" in models
        assert models["keywords_v2"].startswith("wordfreq==")
    assert run_manifest["timings"]["enrich_entities_v3_s"] > 0
    # Each enricher's cost is in the manifest.
    assert all(f"enrich_{name}_s" in run_manifest["timings"] for name in DEFAULT_ENRICHERS)


def test_disclaimers_are_recorded_at_clean_for_the_headed_seed_only(
    first_run: tuple[Path, dict[str, Any]],
) -> None:
    lake, _ = first_run
    cleaned = stage_rows(lake, "cleaned")
    headed = cleaned.filter(pl.col("source_file") == SEED_HEADED).row(0, named=True)
    dated = cleaned.filter(pl.col("source_file") == SEED_DATED).row(0, named=True)
    assert [r["rule"] for r in headed["removed_lines"]] == ["comment_disclaimer_v1"] * 3
    assert dated["removed_lines"] == []
    assert (
        stage_rows(lake, "ingested")
        .filter(pl.col("source_file").is_in([SEED_HEADED, SEED_DATED]))
        .height
        == 2
    )


def test_the_same_story_in_csv_and_json_lines_is_merged(
    first_run: tuple[Path, dict[str, Any]],
) -> None:
    lake, _ = first_run
    rail = stage_rows(lake, "deduped").filter(pl.col("title").str.starts_with("Rail line"))
    assert rail.height == 1
    assert rail["source_files"].to_list() == [["regional_desk.csv", "wire_feed.jsonl.gz"]]
    # The URL comes from the copy that has one, canonicalised.
    assert rail["url"].to_list() == ["http://example-rail-times.net/travel/ashford-closure"]
    duplicates = stage_rows(lake, "duplicates")
    assert set(duplicates["method"]) <= {"exact_body", "sentence_set"}
    assert duplicates.height == 2


def test_every_stage_reads_back_with_the_contract_in_three_readers(
    first_run: tuple[Path, dict[str, Any]],
) -> None:
    lake, run_manifest = first_run
    for stage, schema in STAGE_SCHEMAS.items():
        if stage == "manifest":
            continue
        if stage in TABLES:  # what readers read: the Delta table, as of this run
            table = DeltaTable(table_uri(lake, stage), version=run_manifest["tables"][stage])
            files = [Path(p) for p in table.file_uris()]
            via_polars = pl.scan_delta(table_uri(lake, stage), version=table.version()).collect()
            via_pandas = table.to_pandas()
            con = duckdb.connect()
            con.register("stage", table.to_pyarrow_dataset())
            via_duckdb = con.sql("select * from stage").pl()
        else:  # the pipeline's own bookkeeping, in its working copy
            folder = Lake(lake).stage_dir(stage)
            files = sorted(folder.rglob("*.parquet"))
            via_polars = pl.scan_parquet(files).collect()
            via_pandas = pd.read_parquet(folder)
            relation = duckdb.sql(f"select * from read_parquet('{folder}/**/*.parquet')")
            assert relation is not None  # a select always gives a relation
            via_duckdb = relation.pl()
        assert files, stage
        meta = pq.read_schema(files[0]).metadata
        assert meta[b"newsflow.schema_version"] == SCHEMA_VERSION.encode()
        assert meta[b"newsflow.run_id"] == run_manifest["run_id"].encode()
        for frame_columns in (via_polars.columns, list(via_pandas.columns), via_duckdb.columns):
            assert set(frame_columns) == set(schema.names()), stage
        assert len(via_pandas) == via_polars.height == via_duckdb.height


def test_books_balance_and_the_manifest_says_so(first_run: tuple[Path, dict[str, Any]]) -> None:
    lake, run_manifest = first_run
    stored = json.loads((lake / "runs" / f"{run_manifest['run_id']}.json").read_text())
    assert stored["status"] == "completed"
    assert all(check["balanced"] for check in stored["accounting"])
    counts = stored["counts"]
    assert counts["files_new"] == len(list((lake.parent / "raw").iterdir()))
    assert counts["ingested"] == stage_rows(lake, "ingested").height
    assert counts["deduped"] == stage_rows(lake, "enriched").height
    assert stored["removed_lines"] == {"comment_disclaimer_v1": 3}


def test_rerun_on_unchanged_input_changes_nothing(sample_raw: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run(sample_raw, lake)
    before = {s: without_run_ids(stage_rows(lake, s)) for s in ("cleaned", "enriched")}
    second = run(sample_raw, lake)
    assert second["counts"]["files_new"] == 0
    assert second["counts"]["files_unchanged"] == len(list(sample_raw.iterdir()))
    for stage, rows in before.items():
        assert without_run_ids(stage_rows(lake, stage)).equals(rows), stage


def test_only_new_files_are_ingested_and_full_refresh_reprocesses_all(
    sample_raw: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    run(sample_raw, lake)
    (sample_raw / "late.txt").write_text(
        "Ferry timetable changes\n\nThe winter ferry timetable starts on Monday, with two "
        "fewer crossings on weekdays and a later first boat on Sundays.\n\nThe operator said "
        "the changes follow a fall in passenger numbers since the bridge opened last year.\n",
        encoding="utf-8",
    )
    shutil.move(sample_raw / "regional_desk.csv", sample_raw / "renamed_desk.csv")
    second = run(sample_raw, lake)
    assert second["counts"]["files_new"] == 1  # a renamed file is not new
    assert stage_rows(lake, "enriched").filter(pl.col("title") == "Ferry timetable changes").height
    refreshed = run(sample_raw, lake, full_refresh=True)
    assert refreshed["counts"]["files_new"] == len(list(sample_raw.iterdir()))
    assert stage_rows(lake, "ingested").height == refreshed["counts"]["ingested"]


def test_bad_files_are_quarantined_and_the_run_goes_on(sample_raw: Path, tmp_path: Path) -> None:
    (sample_raw / "empty.txt").write_bytes(b"")
    (sample_raw / "noise.bin").write_bytes(bytes(range(256)) * 8)
    (sample_raw / "broken.json").write_text('{"title": "x", "body": ', encoding="utf-8")
    lake = tmp_path / "lake"
    result = run(sample_raw, lake)
    quarantine = stage_rows(lake, "quarantine")
    rules = dict(zip(quarantine["source_file"], quarantine["rule"], strict=True))
    assert rules == {
        "empty.txt": "empty_file",
        "noise.bin": "binary_content",
        "broken.json": "invalid_json",
    }
    assert result["counts"]["files_quarantined"] == 3
    assert result["quarantined"]["ingest"] == {
        "binary_content": 1,
        "empty_file": 1,
        "invalid_json": 1,
    }
    assert stage_rows(lake, "enriched").height == 7
