"""The run summary shows the counts of the stages that ran and names the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsflow.summary import counts_table, failures_first, format_run, quality_description


def manifest(stages: list[str], counts: dict[str, int]) -> dict[str, Any]:
    return {
        "run_id": "r1",
        "status": "completed",
        "timings": {"total_s": 1.0},
        "counts": counts,
        "stages_run": stages,
        "quarantined": {},
        "removed_lines": {},
        "lake": "/lake",
    }


def test_a_full_run_shows_every_stage() -> None:
    counts = {"records_in": 9, "ingested": 9, "cleaned": 9, "passed_quality": 9}
    counts |= {"deduped": 7, "enriched": 7}
    stages = ["ingest", "clean", "dedupe", "enrich", "quality"]
    text = format_run(manifest(stages, counts))
    rows = "records_in 9 -> ingested 9 -> cleaned 9 -> passed_quality 9 -> deduped 7 -> enriched 7"
    assert rows in text
    assert "not run" not in text


def test_a_run_with_nothing_new_does_not_claim_an_empty_lake() -> None:
    text = format_run(manifest(["ingest"], {"records_in": 0, "ingested": 0}))
    assert "rows:    records_in 0 -> ingested 0\n" in text
    assert "deduped 0" not in text
    assert "enriched 0" not in text
    assert "not run this time: clean, dedupe, enrich" in text


def test_a_run_stopped_after_clean_names_what_waits() -> None:
    counts = {"records_in": 3, "ingested": 3, "cleaned": 3}
    text = format_run(manifest(["ingest", "clean"], counts))
    assert "cleaned 3\n" in text
    assert "not run this time: dedupe, enrich" in text


def test_metadata_only_records_are_counted_with_their_share() -> None:
    counts = {"records_in": 10, "ingested": 10, "cleaned": 3, "metadata_only": 7}
    text = format_run(manifest(["ingest", "clean"], counts))
    assert "metadata only: 7 records with a title or URL but no body (70.0 % of ingested)" in text


def test_a_rolled_back_run_says_nothing_of_it_was_kept() -> None:
    counts = {"records_in": 4, "ingested": 4, "cleaned": 4, "batches_rolled_back": 2}
    text = format_run(manifest(["ingest", "clean", "quality"], counts))
    assert "rolled back: the 2 new batches of this run" in text
    assert "metadata only" not in text


def test_unmapped_columns_and_their_failures_are_in_the_summary() -> None:
    run = manifest(["ingest", "clean"], {"records_in": 3, "ingested": 3, "cleaned": 3})
    run["unmapped_columns"] = {
        "story": {"rows": 3, "text_like": 3},
        "story_id": {"rows": 3, "text_like": 0},
    }
    run["mapping_failures"] = ["ingest: source column 'story' holds text ... field_mappings"]
    text = format_run(run)
    assert "source columns no mapping uses: story (3 rows, 3 text-like), story_id (3 rows)" in text
    assert "  CRITICAL ingest: source column 'story'" in text


def test_a_summary_names_at_most_a_few_unmapped_columns() -> None:
    run = manifest(["ingest"], {"records_in": 1, "ingested": 1})
    run["unmapped_columns"] = {f"c{i:02}": {"rows": 1, "text_like": 0} for i in range(12)}
    text = format_run(run)
    assert "c07 (1 rows)" in text
    assert "c08" not in text
    assert "and 4 more" in text


def test_the_time_is_the_run_s_own_with_a_lock_wait_apart_and_the_ui_link_last() -> None:
    run = manifest(["ingest"], {}) | {"ui_url": "http://127.0.0.1:4200/runs/flow-run/x"}
    run["timings"] = {"total_s": 13.6, "lock_wait_s": 301.2}
    lines = format_run(run).splitlines()
    assert lines[0] == "run r1  completed  (13.6 s; waited 301.2 s for the lake first)"
    assert lines[-1] == "  ui:      http://127.0.0.1:4200/runs/flow-run/x"
    assert "waited" not in format_run(manifest(["ingest"], {})).splitlines()[0]


def test_the_counts_table_is_in_stage_order_with_seconds_per_stage() -> None:
    counts = {"enriched": 7, "deduped": 7, "cleaned": 9, "ingested": 9, "records_in": 9}
    counts |= {"files_seen": 7, "passed_quality": 9, "duplicates": 2, "zz_new_count": 1}
    timings = {"plan_s": 0.1, "ingest_clean_s": 1.5, "quality_gate_s": 0.4}
    timings |= {"dedupe_s": 0.7, "enrich_s": 2.0, "total_s": 5.0, "lock_wait_s": 3.0}
    rows = counts_table(counts, timings)
    assert [r["count"] for r in rows if r["count"]] == [
        "files_seen",
        "records_in",
        "ingested",
        "cleaned",
        "passed_quality",
        "deduped",
        "duplicates",
        "enriched",
        "zz_new_count",
    ]
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["stage"], row)
    seconds = {stage: row["seconds"] for stage, row in first.items()}
    assert seconds == {
        "plan": 0.1,
        "ingest": 1.5,
        "clean": None,  # within ingest's time: they overlap batch by batch
        "quality_gate": 0.4,
        "dedupe": 0.7,
        "enrich": 2.0,
        "other": None,
        "run (wall time)": 5.0,
        "waiting for the lake": 3.0,
    }
    assert {r["value"] for r in rows if r["count"] == "ingested"} == {9}
    assert sum(r["seconds"] is not None for r in rows if r["stage"] == "ingest") == 1


def test_the_quality_table_puts_failures_first_and_links_the_report(tmp_path: Path) -> None:
    rows = [
        {"stage": "ingested", "expectation": "a", "success": True},
        {"stage": "cleaned", "expectation": "b", "success": False},
        {"stage": "cleaned", "expectation": "c", "success": True},
        {"stage": "enriched", "expectation": "d", "success": False},
    ]
    assert [r["expectation"] for r in failures_first(rows)] == ["b", "d", "a", "c"]
    report = tmp_path / "quality" / "r1" / "report.html"
    text = quality_description("r1", report, rows)
    assert "2 of 4 expectations failed" in text
    assert f"]({report.as_uri()})" in text
