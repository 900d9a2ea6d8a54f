"""The quality stage inside the flow: gate after clean, reports at the end, critical fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterName

import expectations.gate
from flows.pipeline import QualityError, newsflow_pipeline
from newsflow.config import PipelineConfig, lake_slug
from newsflow.lake import Lake
from newsflow.quality_config import ExpectationPolicy, QualityConfig

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

CHEAP = ["counts_v2", "source_v2"]

LONG_BODY = (
    "The harbour board agreed on Thursday to dredge the outer channel before the autumn "
    "storms, after two fishing boats grounded on the same sandbank in August.\n\n"
    "The work will take three weeks and the channel will stay open at high tide."
)


# Three different articles of 20+ words each.
STORIES = [
    LONG_BODY,
    "Volunteers counted four hundred and twelve grey seals on the sandbanks this winter, "
    "the highest number since the survey began, and pups were seen on two new beaches.\n\n"
    "The trust asks walkers to keep dogs on leads until the end of March.",
    "The village bakery reopened on Saturday under new owners, who kept the wood-fired oven "
    "and the old sourdough recipe but added a small cafe with six tables by the window.\n\n"
    "Queues stretched past the post office before the doors opened at eight.",
]


def write_jsonl(folder: Path, rows: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    (folder / "feed.jsonl").write_text(text, encoding="utf-8")


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("enrichers", CHEAP)
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def test_failing_rows_are_quarantined_by_expectation_and_reported(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    good = {
        "title": "Harbour channel to be dredged",
        "date": "2024-09-05",
        "url": "https://example-coast-news.org/harbour",
        "body": LONG_BODY,
    }
    rows = [
        good,
        {
            **good,
            "title": "Flash",
            "url": "https://example-coast-news.org/flash",
            "body": "Storm warning for the coast tonight.",
        },
        {
            **good,
            "title": "Odd link",
            "url": "javascript:alert(1)",
            "body": LONG_BODY.replace("harbour board", "port authority"),
        },
    ]
    write_jsonl(raw, rows[:2])
    (raw / "more.jsonl").write_text(json.dumps(rows[2]) + "\n", encoding="utf-8")
    result = run(raw, lake, batch_size=1)  # two batches: the gate's results are merged

    assert result["status"] == "completed"
    assert result["quarantined"]["quality"] == {"body_min_words": 1, "url_not_script": 1}
    quarantine = Lake(lake).scan("quarantine").collect().filter(pl.col("stage") == "quality")
    assert sorted(quarantine["rule"].to_list()) == ["body_min_words", "url_not_script"]
    assert sorted(quarantine["source_file"].to_list()) == ["feed.jsonl", "more.jsonl"]
    # Books: 3 ingested = 3 cleaned = 1 passed + 2 quarantined; 1 record goes on.
    assert result["counts"]["passed_quality"] == 1
    assert result["counts"]["enriched"] == 1
    assert {c["identity"] for c in result["accounting"]} >= {
        "cleaned = passed_quality + quarantined_at_quality"
    }

    report = Path(result["quality"]["report"])
    assert report.is_file()
    assert report.parent == lake / "quality" / result["run_id"]
    summary = json.loads((report.parent / "summary.json").read_text())
    assert [stage["stage"] for stage in summary["stages"]] == [
        "ingested",
        "cleaned",
        "deduped",
        "enriched",
    ]
    cleaned = json.loads((report.parent / "cleaned.json").read_text())
    short = next(r for r in cleaned["summary"] if r["expectation"] == "body_min_words")
    assert short["quarantined"] == 1
    assert not short["success"]


def quality_task_names(lake: Path, run_id: str) -> list[str]:
    with get_client(sync_client=True) as client:
        [flow_run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[f"{lake_slug(lake)} {run_id}"])
            )
        )
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        )
    return sorted(t.name for t in runs if t.name.startswith("quality-") and "gate" not in t.name)


@pytest.mark.slow
def test_stage_checks_run_a_task_per_part_and_report_as_one_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    for i, story in enumerate(STORIES):
        write_jsonl(
            raw / f"feed-{i}", [{"title": f"Story {i}", "url": f"https://x.org/{i}", "body": story}]
        )
    whole = run(raw, tmp_path / "whole", batch_size=1)
    monkeypatch.setattr(expectations.gate, "REPORT_ROWS", 1)
    parts = run(raw, tmp_path / "parts", batch_size=1)

    def reported(result: dict[str, Any]) -> dict[str, list[tuple[str, int, int]]]:
        folder = Path(result["quality"]["report"]).parent
        return {
            stage: [
                (r["expectation"], r["element_count"], r["unexpected_count"])
                for r in json.loads((folder / f"{stage}.json").read_text())["summary"]
                if r["level"] == "row"
            ]
            for stage in ("ingested", "deduped", "enriched")
        }

    assert reported(parts) == reported(whole)
    # Every stage's three rows checked once (a rule of an all-null column counts none).
    assert {max(count for _, count, _ in rules) for rules in reported(whole).values()} == {3}
    stages = ["quality-deduped", "quality-enriched", "quality-ingested"]
    assert quality_task_names(tmp_path / "whole", whole["run_id"]) == stages
    assert quality_task_names(tmp_path / "parts", parts["run_id"]) == sorted(stages * 3)


@pytest.mark.slow
def test_a_failed_critical_expectation_fails_the_run_with_its_name(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    # Every record lacks its date: for a source known to date every article (so its
    # policy makes date_present critical) that is a broken field mapping, not a bad row.
    write_jsonl(raw, [{"title": f"Story {i}", "body": LONG_BODY} for i in range(4)])
    strict = QualityConfig(
        policies={"date_present": ExpectationPolicy(severity="critical", mostly=0.5)}
    )
    with pytest.raises(QualityError, match=r"critical expectation failed: .*date_present"):
        run(raw, lake, quality=strict)
    manifest = Lake(lake).last_run()
    assert manifest is not None
    assert manifest["status"] == "failed_quality"
    # With the default policy (a warning) the same input completes.
    assert run(raw, lake, full_refresh=True)["status"] == "completed"


@pytest.mark.slow
def test_a_text_column_no_mapping_uses_fails_the_run_before_dedupe(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    # The article text sits under a name no built-in mapping knows: without the check
    # the lake would fill with titles and the text would be dropped without a word.
    rows = [
        {
            "title": f"Harbour story {i}",
            "date": "2024-09-05",
            "url": f"https://example-coast-news.org/story-{i}",
            "story_id": f"s{i}",
            "story": story,
        }
        for i, story in enumerate(STORIES)
    ]
    write_jsonl(raw, rows)
    with pytest.raises(QualityError, match=r"'story'.*field_mappings"):
        run(raw, lake)
    manifest = Lake(lake).last_run()
    assert manifest is not None
    assert manifest["status"] == "failed_quality"
    assert manifest["unmapped_columns"] == {
        "story": {"rows": 3, "text_like": 3},
        "story_id": {"rows": 3, "text_like": 0},
    }
    assert "dedupe" not in manifest["stages_run"]
    assert Lake(lake).files("deduped") == []
    # Mapped, the same files (not marked ingested by the failed run) go through.
    mapping = {"title": ["title"], "date": ["date"], "url": ["url"], "body": ["story"]}
    fixed = run(raw, lake, field_mappings={"coast": mapping})
    assert fixed["status"] == "completed"
    assert fixed["counts"]["files_new"] == 1
    assert fixed["counts"]["enriched"] == 3
    assert fixed["unmapped_columns"] == {"story_id": {"rows": 3, "text_like": 0}}
