"""Dedupe across runs: the persistent index makes a run split in two give one run's rows."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.quality_config import ExpectationPolicy, QualityConfig
from tests.articles import FERRY, FURNITURE_BODY, LIBRARY, MARKET, body, flattened

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

FERRY_TITLE = "Ferry to Gullhaven will stop running in March"


def _headed(title: str, date: str, url: str, sentences: list[str]) -> str:
    shuffled = list(sentences)
    random.Random(7).shuffle(shuffled)
    return "\n".join([title, date, url, *shuffled]) + "\n"


def _plain(title: str, sentences: list[str]) -> str:
    return f"{title}\n\n{body(sentences)}\n"


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["title", "date", "url", "body"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# Invented files in several layouts. Across the two parts: the ferry story's ordered
# copy arrives after its shuffled one (the kept copy changes), a library copy arrives
# that links two part-one records into one cluster, a flattened CSV copy, an exact
# copy, and a second furniture-only page that must stay apart from the first.
PART_ONE = {
    "ferry_headed.txt": _headed(
        FERRY_TITLE, "20240301", "https://example-island-news.org/ferry", FERRY
    ),
    "library_a.txt": _plain("Library reading room opens", LIBRARY[0:10]),
    "library_c.txt": _plain("Reading room opens on Saturday", LIBRARY[3:13]),
    "market.txt": _plain("Market to open on Sundays", MARKET),
    "video_one.json": json.dumps({"title": "Storm video one", "body": FURNITURE_BODY}),
}
PART_TWO = {
    "ferry_dated.txt": f" date 2024-03-01 {FERRY_TITLE}\n\n{body(FERRY)}\n",
    "library_b.txt": _plain("New library reading room", LIBRARY[1:12]),
    "desk.csv": _csv(
        [
            {
                "title": "",
                "date": "2024-03-02",
                "url": "",
                "body": flattened(FERRY_TITLE, body(FERRY)),
            }
        ]
    ),
    "market_feed.jsonl": json.dumps(
        {"title": "Market to open on Sundays", "url": "https://example.com/m", "body": body(MARKET)}
    )
    + "\n",
    "video_two.json": json.dumps({"title": "Storm video two", "body": FURNITURE_BODY}),
}


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


# The furniture pages are the point here (dedupe must keep them apart), so the quality
# gate only reports their short bodies instead of quarantining them before dedupe.
KEEP_SHORT = QualityConfig(policies={"body_min_words": ExpectationPolicy(quarantine=False)})


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("quality", KEEP_SHORT)
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def rows(lake: Path, stage: str) -> pl.DataFrame:
    """A stage's rows without what differs by run and batching: run and batch ids."""
    return Lake(lake).scan(stage).collect().drop("run_id", "batch_id").sort("doc_id")


def snapshot(lake: Path) -> dict[str, pl.DataFrame]:
    return {s: rows(lake, s) for s in ("deduped", "duplicates", "enriched")}


def assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for stage, frame in left.items():
        assert frame.height, stage
        assert frame.equals(right[stage]), stage


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one")
    write(root / "raw", PART_ONE | PART_TWO)
    run(root / "raw", root / "lake")
    return root / "lake"


def test_one_run_merges_every_copy_and_nothing_else(one_run: Path) -> None:
    deduped = rows(one_run, "deduped")
    assert deduped.height == 5  # ferry, library, market, two furniture pages
    ferry = deduped.filter(pl.col("title") == FERRY_TITLE).row(0, named=True)
    assert ferry["layouts"] == ["csv", "dated", "headed"]
    assert ferry["url"] == "https://example-island-news.org/ferry"  # from the headed copy
    assert ferry["body"] == body(FERRY)  # the dated copy's paragraphs
    library = deduped.filter(pl.col("source_files").list.contains("library_b.txt"))
    assert library["duplicate_count"].to_list() == [3]
    index = Lake(one_run).scan("dedupe_index").collect()
    assert index.height == deduped.height + rows(one_run, "duplicates").height
    assert set(index["kept_doc_id"]) == set(deduped["doc_id"])


@pytest.mark.slow
def test_a_run_split_in_two_gives_the_rows_of_one_run(one_run: Path, tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    write(raw, PART_ONE)
    first = run(raw, lake)
    assert first["counts"]["deduped"] == 5  # library a and c apart, one furniture page
    write(raw, PART_TWO)
    second = run(raw, lake)
    assert second["counts"]["files_new"] == len(PART_TWO)
    assert second["counts"]["dedupe_new"] == len(PART_TWO)
    assert_same(snapshot(one_run), snapshot(lake))

    # Unchanged input: nothing is reprocessed and nothing changes.
    before = snapshot(lake)
    third = run(raw, lake)
    assert third["counts"]["files_new"] == 0
    assert_same(before, snapshot(lake))

    # An index lost (or a lake from before it existed) is rebuilt from cleaned/.
    shutil.rmtree(Lake(lake).stage_dir("dedupe_index"))
    rebuilt = run(raw, lake)
    assert rebuilt["counts"]["dedupe_new"] == first["counts"]["cleaned"] + len(PART_TWO)
    assert_same(before, snapshot(lake))

    # --full-refresh clears the index with every other output, then rebuilds it.
    refreshed = run(raw, lake, full_refresh=True)
    assert refreshed["counts"]["dedupe_new"] == refreshed["counts"]["cleaned"]
    assert_same(before, snapshot(lake))
