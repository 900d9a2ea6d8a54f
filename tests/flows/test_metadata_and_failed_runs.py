"""Metadata-only records, runs the quality gate fails, and lakes of an older schema."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from prefect import task

import flows.pipeline
from app.cli import main
from flows.pipeline import QualityError, newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.schema import SCHEMA_VERSION

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

CHEAP = ["counts_v2", "source_v2"]
SITE = "https://example-valley-post.org"
# Words to draw bodies from (re.findall, not str.split: ruff wants a literal list).
WORDS = re.findall(
    r"\w+",
    "council bridge river mill walkers cyclists county repairs engineers deck boards spring "
    "harbour ferry market library school pupils farmers orchard rain flood road station "
    "train bus timetable budget vote meeting residents shop bakery festival music choir "
    "museum garden park trees storm wind power lines crews volunteers charity hospital",
)


def story(n: int, **fields: Any) -> dict[str, Any]:
    """A record with a body of its own: words drawn with seed `n`, so no two are alike."""
    pick = random.Random(n).choice
    body = "\n\n".join(
        " ".join(pick(WORDS) for _ in range(30)).capitalize() + "." for _ in range(2)
    )
    return {
        "title": f"Mill bridge news {n}",
        "date": "2024-05-0" + str(1 + n % 9),
        "url": f"{SITE}/bridge-{n}",
        "body": body,
        **fields,
    }


def write_json(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(rows), encoding="utf-8")


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("enrichers", CHEAP)
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def doc_ids(lake: Path, stage: str) -> list[str]:
    return sorted(Lake(lake).scan(stage).select("doc_id").collect()["doc_id"].to_list())


def test_a_corpus_of_mostly_metadata_only_records_runs_to_completion_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    titled = [{"title": f"Gallery {i}", "url": f"{SITE}/gallery-{i}"} for i in range(5)]
    links = [{"url": f"{SITE}/video-{i}", "date": "2024-05-02"} for i in range(2)]
    write_json(raw, "pages.json", [story(1), story(2), *titled, *links, {"title": None}])
    args = ["run", "--input", str(raw), "--lake", str(lake), "--enrichers", ",".join(CHEAP)]
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert "completed" in summary
    assert "metadata only: 7 records with a title or URL but no body (77.8 % of ingested)" in (
        summary
    )

    metadata = Lake(lake).scan("metadata_only").collect()
    assert sorted(metadata["url_raw"].to_list()) == sorted(r["url"] for r in titled + links)
    assert metadata["body"].is_null().all()
    assert doc_ids(lake, "enriched") == doc_ids(lake, "cleaned")  # the two stories
    assert len(doc_ids(lake, "cleaned")) == 2
    assert not set(metadata["doc_id"]) & set(doc_ids(lake, "deduped"))  # never deduped

    manifest = Lake(lake).last_run()
    assert manifest is not None
    assert manifest["counts"]["metadata_only"] == 7
    assert manifest["quarantined"]["ingest"] == {"no_text": 1}  # no title, body or URL
    clean_books = next(c for c in manifest["accounting"] if c["identity"].startswith("ingested"))
    assert clean_books == {
        "identity": "ingested = cleaned + metadata_only + quarantined_at_clean",
        "left": 9,
        "right": 9,
        "balanced": True,
    }
    quality = json.loads((lake / "quality" / "latest.json").read_text())
    assert quality["records"] == {"ingested": 9, "metadata_only": 7}
    assert "most of this run's records are metadata-only" in quality["metadata_only_note"]
    assert 'id="metadata-only"' in Path(quality["report"]).read_text()
    assert main(["report", "--lake", str(lake)]) == 0
    assert "metadata only: 7 of 9 ingested records (77.8 %)" in capsys.readouterr().out

    # Run again: nothing is new, nothing doubles; a full refresh rebuilds the same table.
    assert run(raw, lake)["counts"]["files_new"] == 0
    assert Lake(lake).count("metadata_only") == 7
    assert run(raw, lake, full_refresh=True)["counts"]["metadata_only"] == 7
    assert Lake(lake).count("metadata_only") == 7


def unreadable_dates(n: int) -> list[dict[str, Any]]:
    """Records whose dates no parser reads: date_parseable fails, a critical expectation."""
    return [story(10 + i, date=f"the {i}th day of sowing") for i in range(n)]


def batch_files(lake: Path) -> dict[str, list[str]]:
    """The names of the files a batch writes before its commit, per folder."""
    folders = ("ingested", "cleaned", "metadata_only", "quarantine")
    return {f: sorted(p.name for p in Lake(lake).files(f)) for f in folders}


@pytest.mark.slow
def test_a_run_the_gate_fails_is_rolled_back_and_the_fixed_run_processes_it_once(
    tmp_path: Path,
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "good.json", [story(1), {"title": "Only a headline", "url": f"{SITE}/h"}])
    first = run(raw, lake)
    assert first["status"] == "completed"
    before = batch_files(lake)
    committed = doc_ids(lake, "ingested")
    counted = Lake(lake).count("line_docs")

    write_json(raw, "bad.json", [*unreadable_dates(3), {"title": "Another headline"}])
    with pytest.raises(QualityError) as failed:
        run(raw, lake)
    message = str(failed.value)
    assert "date_parseable" in message
    assert "its 1 new batch was rolled back" in message
    assert 'set quality.policies.date_parseable.severity="warning" in the run' in message
    assert "\n" not in message
    # Nothing of the failed run is visible, and its input files are not marked done.
    assert batch_files(lake) == before
    assert doc_ids(lake, "ingested") == committed
    assert Lake(lake).count("line_docs") == counted
    assert set(Lake(lake).read_manifest()["source_file"]) == {"good.json"}
    manifest = Lake(lake).last_run()
    assert manifest is not None
    assert (manifest["status"], manifest["counts"]["batches_rolled_back"]) == ("failed_quality", 1)
    assert "ingested: date_parseable failed" in " ".join(manifest["quality"]["critical_failures"])

    # The fix: dates the parser reads. The file is new once, and processed once.
    write_json(raw, "bad.json", [*(story(10 + i) for i in range(3)), {"title": "Another"}])
    fixed = run(raw, lake)
    assert (fixed["status"], fixed["counts"]["files_new"]) == ("completed", 1)
    ingested = doc_ids(lake, "ingested")
    assert len(ingested) == len(set(ingested)) == 2 + 4
    assert len(doc_ids(lake, "enriched")) == 4
    assert Lake(lake).count("metadata_only") == 2
    assert run(raw, lake)["counts"]["files_new"] == 0


@pytest.mark.slow
def test_files_a_failed_run_could_not_roll_back_are_removed_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "good.json", [story(1)])
    run(raw, lake)
    before = batch_files(lake)

    # As if the process died before its roll-back: the failed batch's files stay.
    @task(name="roll_back_never")
    def nothing_removed(batch_ids: list[str], lake_dir: str, run_id: str) -> dict[str, int]:
        return {"batches": 0, "files": 0, "documents": 0, "uncounted": 0}

    monkeypatch.setattr(flows.pipeline, "roll_back", nothing_removed)
    write_json(raw, "bad.json", unreadable_dates(3))
    with pytest.raises(QualityError):
        run(raw, lake)
    left = Lake(lake).uncommitted_batches()
    assert len(left) == 1
    assert batch_files(lake) != before
    monkeypatch.undo()

    # The user removes the bad file and adds another: the left-over batch is planned
    # no more, so the run removes it; no document of it reaches any stage.
    (raw / "bad.json").unlink()
    write_json(raw, "more.json", [story(2)])
    result = run(raw, lake)
    assert result["status"] == "completed"
    assert Lake(lake).uncommitted_batches() == set()
    [gone] = left
    assert not any(gone in name for names in batch_files(lake).values() for name in names)
    assert len(doc_ids(lake, "enriched")) == 2
    assert len(doc_ids(lake, "ingested")) == 2


@pytest.mark.slow
def test_a_lake_of_an_older_schema_is_refused_in_one_line_until_refreshed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write_json(raw, "good.json", [story(1)])
    args = ["run", "--input", str(raw), "--lake", str(lake), "--enrichers", ",".join(CHEAP)]
    assert main(args) == 0
    # What schema 3 wrote: the same files with version "3" in their footers.
    for path in Lake(lake).files("cleaned") + Lake(lake).files("deduped"):
        table = pq.read_table(path)
        meta = {**table.schema.metadata, b"newsflow.schema_version": b"3"}
        pq.write_table(table.replace_schema_metadata(meta), path)
    runs = sorted((lake / "runs").glob("*.json"))
    capsys.readouterr()

    write_json(raw, "more.json", [story(2)])
    assert main(args) == 2
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.strip().splitlines()
    assert "schema version 3" in line
    assert "cleaned/" in line
    assert "deduped/" in line
    assert "--full-refresh" in line
    assert sorted((lake / "runs").glob("*.json")) == runs  # nothing was run or written
    assert Lake(lake).read_manifest().height == 1

    assert main([*args, "--full-refresh"]) == 0
    versions = Lake(lake).schema_versions()
    assert set().union(*versions.values()) == {SCHEMA_VERSION}
    assert Lake(lake).count("enriched") == 2
    assert pl.Series(doc_ids(lake, "ingested")).is_unique().all()
