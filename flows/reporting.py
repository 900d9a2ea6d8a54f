"""What a run shows when it ends: the quality reports of the stages after the gate, the
run manifest (written last, after the commit), the summary in the log and the UI's
tables. The manifest itself is built from the books (flows/books.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from prefect.artifacts import create_table_artifact

from expectations.gate import merge_validations, quality_check, report_parts
from expectations.report import artifact_rows, pass_rates, write_quality_reports
from expectations.validate import StageValidation
from flows import stage_runs
from flows.books import RunBook, run_failure, run_record
from flows.run_names import artifact_key, flow_run_ui_url
from flows.stage_runs import run_one
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.log_filters import SUMMARY
from newsflow.progress import run_logger
from newsflow.summary import counts_table, failures_first, format_run, quality_description
from newsflow.tables import table_versions
from tasks.commit import commit

VALIDATED_IN_ORDER = ("ingested", "cleaned", "deduped", "enriched")


def report_quality(
    config: PipelineConfig, lake: Lake, deduped: list[str], enriched: list[str], book: RunBook
) -> None:
    """Validate this run's rows of the stages after the gate and write every report."""
    started = time.perf_counter()
    book.ran.add("quality")
    todo = [("deduped", deduped), ("enriched", enriched)]
    # An enriched file holds its deduped file's rows (split by month). Enrich read them;
    # without it, the footers (one request each on object storage), only when needed.
    by_name = book.deduped_rows
    if not by_name and (deduped or enriched):
        by_name = {name: written.rows for name, written in lake.written("deduped").items()}
    checks = {stage: submit_checks(config, stage, names, by_name, book) for stage, names in todo}
    merged = {v.stage: v for v in book.validations} | {
        stage: validation for stage, check in checks.items() if (validation := check())
    }
    book.validations = [merged[s] for s in VALIDATED_IN_ORDER if s in merged]
    records = {k: book.counts.get(k, 0) for k in ("ingested", "metadata_only")}
    paths = write_quality_reports(
        lake.url,
        book.run_id,
        book.validations,
        records=records,
        examples=config.quality.report_examples,
    )
    rows = artifact_rows(book.validations)
    create_table_artifact(
        key=artifact_key("newsflow-quality", config),
        table=failures_first(rows),
        description=quality_description(book.run_id, lake.link(paths["report"]), rows),
    )
    book.quality = {
        "report": lake.shown(paths["report"]),
        "expectations": len(rows),
        "failed": sum(not r["success"] for r in rows),
        "critical_failures": [line for v in book.validations for line in v.critical_failures()],
        # Per expectation, for the history chart of later runs' reports.
        "pass_rates": pass_rates(book.validations),
    }
    book.time("quality_report", started)


def submit_checks(
    config: PipelineConfig,
    stage: str,
    names: list[str],
    rows_by_name: Mapping[str, int],
    book: RunBook,
) -> Callable[[], StageValidation | None]:
    """Submit `quality_check` of this run's `names` of a stage, a task per part of about
    `REPORT_ROWS` rows (so workers share a large run's checks and each holds one part);
    returns what waits for them and merges their results (None when no names)."""
    check = quality_check.with_options(timeout_seconds=config.task_timeout_seconds)
    args = (str(config.lake_dir), book.run_date, config.quality)
    futures = [
        stage_runs.submit(check, stage, part, *args) for part in report_parts(names, rows_by_name)
    ]

    def merged() -> StageValidation | None:
        return merge_validations(stage, [future.result() for future in futures])

    return merged


def record_run(config: PipelineConfig, lake: Lake, book: RunBook) -> dict[str, Any]:
    """Check the books, record the run (manifest, artifact); fail if unbalanced or critical.

    The file manifest was written (or the batches rolled back) at the commit, after the
    gate; a failure after it (books of dedupe or enrich) is repaired by the next run,
    which finds dedupe's index or enrich's files behind and catches up.
    """
    run = run_record(config, lake.location, book, flow_run_ui_url())
    # The only write readers see: a run that failed (or stops here) commits nothing,
    # and the next one that completes commits its work too. The manifest comes last.
    started = time.perf_counter()
    run["committed"] = run["status"] == "completed"
    if run["committed"]:
        run["tables"] = run_one(commit, lake.url, book.run_id)
    else:
        run["tables"] = table_versions(lake.url)
    run["timings"]["commit_s"] = round(time.perf_counter() - started, 3)
    lake.write_run(run)
    run_logger().info("Summary of the run:\n%s", format_run(run), extra={SUMMARY: True})
    create_table_artifact(
        key=artifact_key("newsflow-run-counts", config),
        table=counts_table(book.counts, run["timings"]),
        description=f"newsflow run {book.run_id}: rows per stage, in stage order, with seconds",
    )
    failure = run_failure(run, book)
    if failure is not None:
        raise failure
    return run
