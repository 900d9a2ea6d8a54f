"""One function per step of the DAG: it submits the step's tasks through
flows/stage_runs.py and counts their results into the run's books (flows/books.py).

I/O tasks retry (set on the tasks); every stage task has a time limit. Ingest and
clean are cached on their batch's content (a local lake: `batch_cache`).

A run's new batches are provisional until `commit_or_roll_back`, after the quality
gate: only then are their input files added to the file manifest.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import Task

from expectations.gate import gate_groups, merge_validations, quality_gate
from flows.books import RunBook, commit_blockers
from flows.decisions import NOT_DEDUPED, Deduped, superseded_names
from flows.plan import RunPlan
from flows.reporting import submit_checks
from flows.stage_runs import run_batches, run_one, unwalked
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.progress import RunProgress, run_logger
from newsflow.task_cache import batch_cache
from tasks.clean import clean
from tasks.dedupe_stage import run_dedupe
from tasks.enrich import enrich, per_document_steps
from tasks.ingest import ingest
from tasks.line_stats import update_line_stats
from tasks.rollback import roll_back
from tasks.unmapped import text_like_failures


def roll_back_left_overs(plan: RunPlan, lake_dir: str, run_id: str) -> None:
    """Remove the files of batches a run killed before its commit left (not planned
    again: their input changed)."""
    if plan.left_uncommitted:
        swept = run_one(roll_back, list(plan.left_uncommitted), lake_dir, run_id)
        run_logger().warning(
            "Removed %d files of %d batches an interrupted run left uncommitted",
            swept.files,
            swept.batches,
        )


def ingest_and_clean(
    config: PipelineConfig, plan: RunPlan, book: RunBook, progress: RunProgress, tasks_here: bool
) -> dict[str, int]:
    """Ingest every planned batch, count their lines, clean them; returns the cleaned
    rows of each ingested batch."""
    started, timeout = time.perf_counter(), {"timeout_seconds": config.task_timeout_seconds}
    lake_dir, run_id, labels = str(config.lake_dir), book.run_id, book.batch_labels
    # Cached on the batch's content for a local lake (batch_cache): a retried or
    # interrupted run skips the batches it had finished.
    ingest_task = ingest.with_options(**batch_cache("ingest", lake_dir), **timeout)  # type: ignore[arg-type]
    clean_task = clean.with_options(**batch_cache("clean", lake_dir), **timeout)  # type: ignore[arg-type]
    shared_config = unwalked(config, tasks_here)
    progress.start("ingest", {b.batch_id: len(b.files) for b in plan.batches}, unit="files")
    ingested = run_batches(
        ingest_task,
        "ingest",
        {b.batch_id: (unwalked(b, tasks_here), shared_config, run_id) for b in plan.batches},
        book.add_ingested,
        labels=labels,
        progress=progress,
        cached_note=" (cached: unchanged since an earlier attempt)",
    )
    progress.end("ingest")
    if ingested:
        count_lines(config, [r.batch_id for r in ingested], book)
        book.ran.add("clean")
    progress.start("clean", {r.batch_id: r.rows_out for r in ingested})
    cleaned = run_batches(
        clean_task,
        "clean",
        {
            r.batch_id: (r.batch_id, lake_dir, run_id, book.run_date, config.domain_repeat)
            for r in ingested
        },
        book.add_cleaned,
        labels=labels,
        progress=progress,
    )
    progress.end("clean")
    book.time("ingest_clean", started)
    rows = {r.batch_id: r.rows_out for r in cleaned}
    return {r.batch_id: rows.get(r.batch_id, 0) for r in ingested}


def count_lines(config: PipelineConfig, batch_ids: list[str], book: RunBook) -> None:
    """Line statistics of every ingested batch, before any is cleaned: the boilerplate
    rule `domain_repeat_v1` judges a paragraph by every document of its domain. Its
    tasks (plan, hashes per group of batches, counts per partition, finish) run on the
    task runner."""
    started, timeout = time.perf_counter(), config.task_timeout_seconds

    def run(task: Task[..., Any], stage: str, calls: Mapping[str, tuple[Any, ...]]) -> list[Any]:
        return run_batches(task.with_options(timeout_seconds=timeout), stage, calls, ignore)

    counted = update_line_stats(str(config.lake_dir), book.run_id, batch_ids, run)
    book.line_stats = asdict(counted)
    book.time("line_stats", started)
    run_logger().info("line_stats: %s", counted.line())


def ignore(_result: object, _cached: bool) -> None:
    """A result the books do not count (they take the stage's totals)."""


def quality_gate_all(config: PipelineConfig, rows_by_batch: dict[str, int], book: RunBook) -> None:
    """Run the cleaned suite on every new batch, a group of batches per GX call (failing
    rows go to quarantine), and the ingested suite beside it: both judge the run's new
    rows before anything is committed."""
    started, timeout = time.perf_counter(), config.task_timeout_seconds
    book.ran.add("quality")
    book.quarantined["quality"] = Counter()
    args = (str(config.lake_dir), book.run_id, book.run_date, config.quality)
    groups = {group[0]: (group, *args) for group in gate_groups(rows_by_batch)}
    gate = quality_gate.with_options(timeout_seconds=timeout)
    ingested = []

    def check_ingested() -> None:  # queued after the gate, which dedupe waits for
        ingested.append(submit_checks(config, "ingested", list(rows_by_batch), rows_by_batch, book))

    gated = run_batches(gate, "quality gate", groups, book.add_gated, beside=check_ingested)
    for merged in (ingested[0](), merge_validations("cleaned", [g.validation for g in gated])):
        if merged is not None:
            book.validations.append(merged)
    book.time("quality_gate", started)


def commit_or_roll_back(lake: Lake, batch_ids: list[str], book: RunBook, quality: bool) -> bool:
    """Commit the run's new batches (their files into the manifest), or roll them back
    when a critical expectation failed or the books of ingest, clean and the gate do
    not balance. Returns whether they were committed."""
    book.close_ingest()
    if quality:  # the check is a critical expectation of the ingested data
        book.mapping_failures = text_like_failures(book.unmapped_columns)
    blockers = commit_blockers(book)
    if not blockers:
        if not book.file_manifest.is_empty():
            lake.add_to_manifest(book.file_manifest, book.run_id)
        return True
    run_logger().error(
        "The run's new rows fail (%s): rolling back %d batches; dedupe and enrich wait",
        "; ".join(blockers),
        len(batch_ids),
    )
    rolled = run_one(roll_back, batch_ids, lake.url, book.run_id)
    book.counts["batches_rolled_back"] = rolled.batches
    return False


def dedupe(config: PipelineConfig, book: RunBook) -> Deduped:
    """Index the lake's new cleaned rows and rewrite the clusters they join."""
    started = time.perf_counter()
    book.ran.add("dedupe")
    deduped = Deduped.of(
        run_dedupe(
            str(config.lake_dir),
            book.run_id,
            config.dedupe,
            timeout_seconds=config.task_timeout_seconds,
        )
    )
    book.counts.update(
        lake_cleaned=deduped.cleaned,
        deduped=deduped.deduped,
        duplicates=deduped.duplicates,
        dedupe_new=deduped.new,
        clusters_rewritten=deduped.clusters_rewritten,
    )
    if deduped.rebuilt:
        run_logger().info("dedupe: index rebuilt from cleaned/ (%s)", deduped.rebuilt)
    run_logger().info("dedupe: %s", deduped.line())
    book.time("dedupe", started)
    return deduped


def enrich_batches(
    config: PipelineConfig,
    lake: Lake,
    todo: list[str],
    deduped: Deduped | None,
    book: RunBook,
    progress: RunProgress,
) -> None:
    """Enrich the `todo` batches, then drop enriched files of superseded batches.

    A batch in `todo` without a deduped/ file (dedupe moved its records elsewhere) has
    nothing to enrich: only its left-over enriched files go.
    """
    started = time.perf_counter()
    book.ran.add("enrich")
    book.counts["deduped"] = lake.count("deduped")
    task = enrich.with_options(timeout_seconds=config.task_timeout_seconds)
    present = {p.stem for p in lake.files("deduped")}
    # A unit is a document through one per-document enricher (tasks report chunks).
    steps = per_document_steps(config.enrichers)
    rows = lake.written("deduped")
    book.deduped_rows = {name: written.rows for name, written in rows.items()}
    progress.start(
        "enrich",
        {b: rows[b].rows * steps for b in todo if b in present and b in rows},
        unit="documents",
        scale=steps,
    )
    args = (str(config.lake_dir), book.run_id, config.enrichers)
    calls = {b: (b, *args) for b in todo if b in present}
    enriched = run_batches(
        task, "enrich", calls, book.add_enriched, labels=book.batch_labels, progress=progress
    )
    progress.end("enrich")
    written = [Path(p) for r in enriched for p in r.paths]
    names = superseded_names(deduped or NOT_DEDUPED, config.re_enrich, todo)
    lake.remove_except("enriched", written, names=names)
    book.counts["enriched"] = lake.count("enriched")
    book.time("enrich", started)
