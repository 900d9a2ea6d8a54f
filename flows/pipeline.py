"""The DAG: plan batches -> ingest per batch in parallel -> line stats (one task) -> clean per
batch in parallel -> dedupe (its phase tasks, tasks/dedupe_stage.py) -> enrich per batch.

Dedupe is incremental (a persistent index in the lake): it rewrites the deduped/ files
of the batches whose clusters gained a document, and only those batches are enriched
again. Stage counts for deduped, duplicates and enriched are lake totals.

Line statistics sit between ingest and clean because the boilerplate rule
`domain_repeat_v1` judges a paragraph by every document of its domain, this run's
included, so every batch must be counted before any batch is cleaned.

The flow only wires: planning (flows/plan.py), each stage's tasks (flows/stages.py,
through the one submit/collect helper in flows/stage_runs.py), the decisions after the
commit (flows/decisions.py), the books and run manifest (flows/books.py) and the
reports (flows/reporting.py) live in their own modules. Every input file and record is
counted in, and the run fails loudly if the counts do not balance.

A run's new batches are provisional until the *commit* after the quality gate: the
gate runs the `ingested` and `cleaned` suites and checks the books of ingest, clean
and the gate, and only then are the batches' input files added to the file manifest.
A run that fails there rolls its batches back (tasks/rollback.py) and stops before
dedupe, so no stage shows its rows and the run after the fix ingests the files once.
Files of a run killed before its commit are rolled back by the next run, unless it
plans the same batches again (then it rewrites them). What follows the commit
(dedupe, enrich) works on lake totals and catches up on the next run.
"""

from __future__ import annotations

from typing import Any, get_args

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from flows import stage_runs
from flows.books import STAGES_IN_ORDER, AccountingError, QualityError, RunBook
from flows.decisions import batches_to_enrich, dedupe_due, stages_wanted
from flows.lake_slot import writer_lock
from flows.plan import plan_run, prepare_lake, warm_up_enrichers
from flows.reporting import record_run, report_quality
from flows.run_names import current_run_id, flow_run_name
from flows.runners import DASHBOARD_PORT, Runner, flow_on_runner, runs_on
from flows.stages import (
    commit_or_roll_back,
    dedupe,
    enrich_batches,
    ingest_and_clean,
    quality_gate_all,
    roll_back_left_overs,
)
from flows.validation import allowed_roots, check_dask_scheduler, check_lake, validate
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.progress import RunProgress
from newsflow.storage import shown
from tasks.enrich import enrich_workers_held

# The errors a run fails with, for callers of the flow.
__all__ = ["AccountingError", "QualityError", "newsflow_pipeline"]


@flow(
    name="newsflow",
    flow_run_name=flow_run_name,
    task_runner=ThreadPoolTaskRunner(max_workers=4),  # type: ignore[arg-type]
)
def newsflow_pipeline(
    config: PipelineConfig | None = None,
    runner: Runner = "threads",
    dask_address: str | None = None,
    workers: int | None = None,
    dask_dashboard_port: int = DASHBOARD_PORT,
) -> dict[str, Any]:
    """Run every stage over the input folder; returns the run manifest (also in runs/).

    `runner` and the rest choose where tasks run (flows/runners.py): a deployment run
    asking for Dask runs this flow again as a subflow on a DaskTaskRunner.
    One run writes a lake at a time: a second run waits for the lake (its concurrency
    limit, then its lock) up to `lock_wait_seconds`, then fails naming who holds it.
    """
    config = config or PipelineConfig()
    # Bad parameters (or a run outside a deployment's allowed roots) and a lake that
    # cannot be written fail here, in one line, before anything is read or written.
    validate(config, allowed_roots())
    check_lake(config.lake_dir)
    # Served runs unpickle this function with only the globals its body names, and the
    # parameter annotations are resolved from those: the body must name `Runner`.
    if runner not in get_args(Runner):
        raise ValueError(f"runner must be one of {', '.join(get_args(Runner))}, not {runner!r}")
    runner_args = (runner, dask_address, workers, dask_dashboard_port)
    context = FlowRunContext.get()
    if context is not None and not runs_on(context.task_runner, runner, workers):
        if dask_address:  # one line in seconds, not Dask's 30 s wait and traceback
            check_dask_scheduler(dask_address)
        return flow_on_runner(newsflow_pipeline, *runner_args)(config, *runner_args)
    logger = get_run_logger()
    run_id = current_run_id()
    lake = Lake(config.lake_dir)
    stages = ("ingest", *STAGES_IN_ORDER[: STAGES_IN_ORDER.index(config.stop_after) + 1])
    slot = writer_lock(lake.root, config.lake_name, run_id, config.lock_wait_seconds, logger)
    with (
        enrich_workers_held(),  # no worker process outlives the run
        slot as waited,
        RunProgress(run_id, logger, stages, artifacts=True) as progress,
    ):
        return _run(config, run_id, lake, progress, lock_wait_s=waited)


def _run(
    config: PipelineConfig, run_id: str, lake: Lake, progress: RunProgress, lock_wait_s: float = 0
) -> dict[str, Any]:
    logger, book = get_run_logger(), RunBook(run_id)
    if lock_wait_s >= 0.1:  # shown apart from the run's own time
        book.timings["lock_wait_s"] = lock_wait_s
    prepare_lake(lake, config.full_refresh)
    context = FlowRunContext.get()
    tasks_here = context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)

    plan = stage_runs.call(plan_run, config, run_id)
    book.add_plan(plan)
    roll_back_left_overs(plan, str(config.lake_dir), run_id)
    warm_up_enrichers(config, plan.batches, tasks_here)
    logger.info(plan.summary(run_id, shown(config.input_dir)))
    book.time("plan", book.t_start)

    cleaned = ingest_and_clean(config, plan, book, progress, tasks_here)
    if cleaned and config.quality.enabled:
        quality_gate_all(config, cleaned, book)
    committed = commit_or_roll_back(lake, list(cleaned), book, config.quality.enabled)

    wants = stages_wanted(config.stop_after, committed)
    due = dedupe_due(bool(plan.batches), lake)
    deduped = None
    if due and "dedupe" not in wants:
        logger.info("Stopping after clean: dedupe and enrich wait")
    elif due:
        deduped = dedupe(config, book)
    todo = batches_to_enrich(lake, deduped, due, config.re_enrich, wants)
    if todo and "enrich" not in wants:
        logger.info("Stopping after %s (stop_after): enrich waits", config.stop_after)
    elif todo:
        enrich_batches(config, lake, todo, deduped, book, progress)

    if book.ran == {"ingest"}:
        logger.info("No new input: dedupe and enrich are up to date, nothing to do")
    elif config.quality.enabled:
        rewritten = deduped.batches if deduped is not None else []
        report_quality(config, lake, rewritten, todo if "enrich" in book.ran else [], book)
    return record_run(config, lake, book)
