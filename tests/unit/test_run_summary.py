"""The run summary shows the counts of the stages that ran and names the others."""

from __future__ import annotations

from typing import Any

from newsflow.cli import format_run


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
