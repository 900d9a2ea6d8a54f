"""The flow's books, decisions and plan as pure code: what the stages' results add up
to, when a run commits, the error a failed run raises, which stages and batches a run
goes on to, and that the flow itself stays one screen long."""

from __future__ import annotations

import datetime as dt
import inspect
from collections import Counter
from typing import Any

import polars as pl
import pytest

import flows.pipeline
from expectations.gate import GatedBatches
from expectations.validate import StageValidation
from flows.books import (
    AccountingError,
    QualityError,
    RunBook,
    check_books,
    commit_blockers,
    run_failure,
    run_record,
)
from flows.decisions import Deduped, stages_wanted, superseded_names
from flows.plan import RunPlan, new_files, rejected_rows
from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, InputFile, Rejected
from newsflow.schema import FILE_MANIFEST, QUARANTINE
from tasks.clean import CleanedBatch
from tasks.ingest import IngestedBatch

FLOW_LINES = 60


def plan_of(files: int, rejected: dict[str, int] | None = None) -> RunPlan:
    entries = tuple(InputFile(f"f{i}.json", f"h{i}", 10) for i in range(files))
    return RunPlan(
        batches=(Batch("b1", entries),),
        files_seen=files + 3,
        files_new=files,
        rejected_by_rule=rejected or {},
        labels={"b1": "f0.json-b1"},
        left_uncommitted=(),
    )


def ingested(records: int, rows: int, files: int) -> IngestedBatch:
    manifest = pl.DataFrame(
        [{"source_file": f"f{i}.json", "status": "ingested"} for i in range(files)],
        schema=FILE_MANIFEST,
    )
    return IngestedBatch(
        batch_id="b1",
        rows_in=records,
        rows_out=rows,
        quarantined=records - rows,
        quarantined_records=records - rows,
        quarantined_by_rule={"unparseable_v1": records - rows} if records > rows else {},
        files=files,
        skipped_by_kind={"request": 2},
        unmapped_columns={},
        manifest=manifest,
    )


def validation(success: bool) -> StageValidation:
    row = {"expectation": "dates_parse", "severity": "critical", "success": success}
    return StageValidation(
        stage="cleaned",
        run_date=dt.date(2026, 12, 7),
        rows=3,
        summary=[{**row, "detail": "2 of 3 rows (66.7 %)"}],
        failing={},
        quarantine=pl.DataFrame(schema=QUARANTINE),
        gx_result={},
    )


def booked(
    records: int, rows: int, cleaned: int, passed: int, ok: bool = True, lost: int = 0
) -> RunBook:
    book = RunBook("r1")
    book.add_plan(plan_of(2, {"unreadable_v1": 1}))
    book.add_ingested(ingested(records, rows, 2), cached=True)
    book.ran.add("clean")
    book.add_cleaned(
        CleanedBatch(
            batch_id="b1",
            rows_in=rows,
            rows_out=cleaned,
            metadata_only=1,
            quarantined=rows - cleaned - 1,
            quarantined_by_rule={"empty_body_v1": rows - cleaned - 1},
            removed_by_rule={"share_follow_v1": 4},
        ),
        cached=False,
    )
    book.ran.add("quality")
    book.quarantined["quality"] = Counter()
    check = validation(ok)
    book.add_gated(
        GatedBatches(
            batch_id="b1",
            batch_ids=["b1"],
            rows_in=cleaned,
            rows_out=passed,
            quarantined=cleaned - passed - lost,
            validation=check,
        ),
        cached=False,
    )
    book.validations.append(check)
    book.close_ingest()
    return book


def test_the_stages_results_fold_into_balanced_books() -> None:
    book = booked(records=10, rows=9, cleaned=6, passed=6)
    counts = book.counts
    assert (counts["files_new"], counts["files_unchanged"], counts["files_ingested"]) == (2, 3, 2)
    assert (counts["records_in"], counts["ingested"], counts["cleaned"]) == (10, 9, 6)
    assert (counts["skipped_not_articles"], counts["batches_cached"]) == (2, 1)
    assert book.quarantined["ingest"] == {"unreadable_v1": 1, "unparseable_v1": 1}
    assert book.removed == {"share_follow_v1": 4}
    assert all(c["balanced"] for c in check_books(counts, book.ran))
    assert commit_blockers(book) == []


def test_a_lost_record_or_a_critical_failure_blocks_the_commit() -> None:
    lost = booked(records=10, rows=9, cleaned=6, passed=5, lost=1)  # a row vanished at the gate
    assert commit_blockers(lost) == ["books: cleaned = passed_quality + quarantined_at_quality"]
    failed = booked(records=10, rows=9, cleaned=6, passed=6, ok=False)
    assert commit_blockers(failed) == ["cleaned: dates_parse failed: 2 of 3 rows (66.7 %)"]


def test_books_only_check_the_stages_that_ran() -> None:
    counts = {"files_new": 2, "files_ingested": 2, "records_in": 3, "ingested": 3}
    assert [c["identity"] for c in check_books(counts, {"ingest"})] == [
        "files_new = files_ingested + files_quarantined",
        "records_in = ingested + quarantined_records_at_ingest",
    ]
    assert not check_books({"deduped": 2, "enriched": 1}, {"enrich"})[0]["balanced"]


def record(book: RunBook) -> dict[str, Any]:
    return run_record(PipelineConfig(), PipelineConfig().lake_dir, book, None)


def test_a_balanced_run_completes_and_raises_nothing() -> None:
    book = booked(records=10, rows=9, cleaned=6, passed=6)
    run = record(book)
    assert run["status"] == "completed"
    assert run["stages_run"] == ["ingest", "clean", "quality"]
    assert run["counts"] == dict(sorted(book.counts.items()))
    assert run_failure(run, book) is None


def test_an_unbalanced_run_names_the_broken_identity_and_what_was_rolled_back() -> None:
    book = booked(records=10, rows=9, cleaned=6, passed=5, lost=1)
    book.counts["batches_rolled_back"] = 1
    run = record(book)
    assert run["status"] == "unbalanced"
    error = run_failure(run, book)
    assert isinstance(error, AccountingError)
    assert "cleaned = passed_quality + quarantined_at_quality (6 != 5)" in str(error)
    assert str(error).endswith("its 1 new batch was rolled back")


def test_a_critical_failure_names_the_setting_that_accepts_it() -> None:
    book = booked(records=10, rows=9, cleaned=6, passed=6, ok=False)
    book.quality = {"critical_failures": commit_blockers(book), "report": "r.html"}
    run = record(book)
    assert run["status"] == "failed_quality"
    error = run_failure(run, book)
    assert isinstance(error, QualityError)
    assert 'set quality.policies.dates_parse.severity="warning"' in str(error)


@pytest.mark.parametrize(
    ("stop_after", "committed", "wanted"),
    [
        ("enrich", True, ("clean", "dedupe", "enrich")),
        ("dedupe", True, ("clean", "dedupe")),
        ("clean", True, ("clean",)),
        ("enrich", False, ("clean",)),  # rolled back: nothing new reaches dedupe
    ],
)
def test_the_stages_a_run_goes_on_to(stop_after: str, committed: bool, wanted: tuple[str]) -> None:
    assert stages_wanted(stop_after, committed) == wanted


def test_dedupe_s_result_reads_into_a_record_and_decides_what_enriched_files_go() -> None:
    result = {
        "batches": ["b2"],
        "touched": ["b1", "b2"],
        "rebuilt": None,
        "cleaned": 9,
        "deduped": 7,
        "duplicates": 2,
        "new": 9,
        "clusters_rewritten": 7,
        "phase_seconds": {"plan": 0.1},  # not part of the record
    }
    deduped = Deduped.of(result)
    assert (deduped.deduped, deduped.duplicates, deduped.touched) == (7, 2, ["b1", "b2"])
    assert superseded_names(deduped, re_enrich=False, todo=["b3"]) == ["b1", "b2", "b3"]
    assert superseded_names(deduped, re_enrich=True, todo=["b3"]) is None
    rebuilt = Deduped.of({**result, "rebuilt": "dedupe settings changed"})
    assert superseded_names(rebuilt, re_enrich=False, todo=[]) is None


def test_planning_keeps_new_content_and_quarantines_what_it_cannot_read() -> None:
    files = [
        InputFile("a.json", "h1", 3),
        InputFile("b.json", "h2", 4),
        InputFile("c.json", "h1", 3),
    ]
    assert [f.path for f in new_files(files, {"h2"})] == ["a.json", "c.json"]
    rows = rejected_rows([Rejected("bad.bin", "unreadable_v1", "permission denied")], "r1")
    assert rows.schema == QUARANTINE
    assert rows.select("source_file", "rule", "stage", "run_id").row(0) == (
        "bad.bin",
        "unreadable_v1",
        "ingest",
        "r1",
    )
    plan = plan_of(2, {"unreadable_v1": 1})
    assert plan.summary("r1", "raw") == (
        "Run r1: 5 files in raw; 2 new in 1 batches, 3 already ingested, 1 unreadable"
    )


@pytest.mark.parametrize("function", [flows.pipeline.newsflow_pipeline.fn, flows.pipeline._run])
def test_the_flow_reads_on_one_screen(function: Any) -> None:
    lines, _ = inspect.getsourcelines(function)
    assert len(lines) <= FLOW_LINES, f"{function.__name__} has {len(lines)} lines"
