"""The DAG: plan batches -> ingest per batch in parallel -> line stats (one task) -> clean per
batch in parallel -> dedupe (its phase tasks, tasks/dedupe_stage.py) -> enrich per batch.

Dedupe is incremental (a persistent index in the lake): it rewrites the deduped/ files
of the batches whose clusters gained a document, and only those batches are enriched
again. Stage counts for deduped, duplicates and enriched are lake totals.

Line statistics sit between ingest and clean because the boilerplate rule
`domain_repeat_v1` judges a paragraph by every document of its domain, this run's
included, so every batch must be counted before any batch is cleaned.

The flow only wires tasks together and keeps the books: every input file and
record is counted in, and the run fails loudly if the counts do not balance.

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

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from expectations.gate import gate_groups, merge_validations, quality_check, quality_gate
from expectations.report import artifact_rows, pass_rates, write_quality_reports
from expectations.validate import StageValidation
from flows.lake_slot import lake_slot
from flows.run_names import (
    artifact_key,
    current_run_id,
    flow_run_name,
    flow_run_ui_url,
    labels_from_manifest,
    named,
)
from flows.runners import DASHBOARD_PORT, Runner, flow_on_runner, runs_on
from flows.validation import allowed_roots, check_dask_scheduler, check_lake, validate
from newsflow import __version__
from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, Rejected, plan_batches
from newsflow.lake import UNBATCHED, Lake
from newsflow.log_filters import SUMMARY
from newsflow.object_inputs import list_any_inputs
from newsflow.progress import RunProgress
from newsflow.schema import FILE_MANIFEST, QUARANTINE
from newsflow.storage import shown
from newsflow.summary import counts_table, failures_first, format_run, quality_description
from newsflow.tables import check_layout, table_versions
from newsflow.task_cache import CACHE_EXPIRATION, CLEAN_CACHE, INGEST_CACHE, lake_generation
from tasks.clean import clean
from tasks.commit import commit
from tasks.dedupe_lake import dedupe_behind, unenriched_batches
from tasks.dedupe_stage import run_dedupe
from tasks.enrich import (
    enrich,
    enrich_workers_held,
    outdated_batches,
    per_document_steps,
    warm_up,
)
from tasks.ingest import ingest
from tasks.line_stats import line_stats
from tasks.rollback import roll_back
from tasks.unmapped import ColumnCounts, merged, text_like_failures

# New input between these sizes starts the enrichers' worker processes early. Less
# enriches too few rows for workers (tasks/enrichers/workers.py); more runs long enough
# that their start-up (~2 s) is lost in it, while their memory (~100 MB each) would
# sit through dedupe, the run's peak.
WARM_UP_BYTES = (1_000_000, 256_000_000)


# Each identity: (stage that must have run, left side, right-hand terms). A run whose
# books do not balance fails.
IDENTITIES = [
    ("ingest", "files_new", ("files_ingested", "files_quarantined")),
    ("ingest", "records_in", ("ingested", "quarantined_records_at_ingest")),
    ("clean", "ingested", ("cleaned", "metadata_only", "quarantined_at_clean")),
    ("quality", "cleaned", ("passed_quality", "quarantined_at_quality")),
    ("dedupe", "lake_cleaned", ("deduped", "duplicates")),
    ("enrich", "deduped", ("enriched",)),
]
STAGES_IN_ORDER = ("clean", "dedupe", "enrich")


@dataclass
class RunBook:
    """What one run counts and times on its way; `_finish` turns it into the manifest."""

    run_id: str
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    t_start: float = field(default_factory=time.perf_counter)
    counts: Counter[str] = field(default_factory=Counter)
    quarantined: dict[str, Counter[str]] = field(default_factory=dict)
    removed: Counter[str] = field(default_factory=Counter)
    line_stats: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    ran: set[str] = field(default_factory=lambda: {"ingest"})
    file_manifest: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILE_MANIFEST))
    validations: list[StageValidation] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    unmapped_columns: ColumnCounts = field(default_factory=dict)
    # Critical failures found at ingest (a text column no field mapping uses).
    mapping_failures: list[str] = field(default_factory=list)
    # Short readable names of batches for task runs (flows/run_names.py).
    batch_labels: dict[str, str] = field(default_factory=dict)

    @property
    def run_date(self) -> dt.date:
        return self.started_at.date()


class AccountingError(RuntimeError):
    """Records went missing between stages: the run's books do not balance."""


class QualityError(RuntimeError):
    """A critical expectation failed: the data, not one row, is wrong."""


def check_books(counts: dict[str, int], ran: set[str] | None = None) -> list[dict[str, Any]]:
    """Evaluate the accounting identities of the stages that ran (default: all)."""
    checks = []
    for stage, left, terms in IDENTITIES:
        if ran is not None and stage not in ran:
            continue
        right = sum(counts.get(t, 0) for t in terms)
        checks.append(
            {
                "identity": f"{left} = {' + '.join(terms)}",
                "left": counts.get(left, 0),
                "right": right,
                "balanced": counts.get(left, 0) == right,
            }
        )
    return checks


def _quarantine_rejected(lake: Lake, rejected: list[Rejected], run_id: str) -> None:
    rows = [
        {
            "source_file": r.path,
            "record_index": None,
            "stage": "ingest",
            "rule": r.rule,
            "detail": r.detail,
            "doc_id": None,
            "run_id": run_id,
            "batch_id": UNBATCHED,
        }
        for r in rejected
    ]
    lake.write(pl.DataFrame(rows, schema=QUARANTINE), "quarantine", f"ingest-{UNBATCHED}", run_id)


def _warm_up(config: PipelineConfig, batches: list[Batch], tasks_here: bool) -> None:
    """Start the enrichers' worker processes and their models now: they load in other
    processes while ingest and clean, which leave a core idle part of the time, run.
    Only when tasks run in this process (threads): Dask's workers enrich in their own.
    (GX is not warmed so: its import holds this process's GIL, and ingest slowed by
    as much as the quality gate gained.)"""
    low, high = WARM_UP_BYTES
    size = sum(b.size for b in batches)
    if tasks_here and config.stop_after == "enrich" and low <= size < high:
        warm_up(config.enrichers)


def _unwalked(value: Any, tasks_here: bool) -> Any:
    """A task argument Prefect need not search for upstream futures: quoted when tasks
    run on threads here (a batch's 500 file entries cost 36 ms per task run to walk; the
    task still gets the value itself). Under Dask, whose packing of task arguments turns
    a quote into a plain tuple, it goes as is."""
    return quote(value) if tasks_here else value


def _was_cached(future: Any) -> bool:
    return bool(future.state.name == "Cached")


def _pending_enrich(lake: Lake) -> list[str]:
    """Deduped batches whose enriched files are missing, partial, stale or left over (a
    run stopped early): footers name the run and count the rows, mtimes can do neither.
    Also those written by an enricher or schema this code no longer has."""
    return sorted(unenriched_batches(lake) | outdated_batches(lake))


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
    runner_args: tuple[Runner, str | None, int | None, int] = (
        cast(Runner, runner),
        dask_address,
        workers,
        dask_dashboard_port,
    )
    context = FlowRunContext.get()
    if context is not None and not runs_on(context.task_runner, runner, workers):
        if dask_address:  # one line in seconds, not Dask's 30 s wait and traceback
            check_dask_scheduler(dask_address)
        return flow_on_runner(newsflow_pipeline, *runner_args)(config, *runner_args)
    logger = get_run_logger()
    run_id = current_run_id()
    lake = Lake(config.lake_dir)
    stages = ("ingest", *STAGES_IN_ORDER[: STAGES_IN_ORDER.index(config.stop_after) + 1])
    slot = lake_slot(lake.root, config.lake_name, run_id, config.lock_wait_seconds, logger)
    with (
        enrich_workers_held(),  # no worker process outlives the run
        slot as waited,
        RunProgress(run_id, logger, stages, artifacts=True) as progress,
    ):
        return _run(config, run_id, lake, progress, lock_wait_s=waited)


def _run(
    config: PipelineConfig,
    run_id: str,
    lake: Lake,
    progress: RunProgress,
    lock_wait_s: float = 0,
) -> dict[str, Any]:
    logger = get_run_logger()
    book = RunBook(run_id)
    if lock_wait_s >= 0.1:  # shown apart from the run's own time
        book.timings["lock_wait_s"] = lock_wait_s
    lake_dir = str(config.lake_dir)
    timings, counts, ran = book.timings, book.counts, book.ran
    check_layout(lake.root)  # an old-layout lake is migrated once, by `newsflow migrate`
    if config.full_refresh:
        logger.info("Full refresh: clearing stage outputs under %s", lake.root)
        lake.clear_outputs()
        lake_generation(lake.root, renew=True)  # no cached task result outlives the refresh
    lake.check_schema_version()  # a lake of another schema version is refreshed, not mixed
    lake_generation(lake.root)  # made once here, before parallel tasks ask for it
    # I/O tasks retry (set on the tasks); every stage task has a time limit. Ingest and
    # clean are cached on their batch's content: a retried or interrupted run skips the
    # batches it had finished.
    cached = {"persist_result": True, "cache_expiration": CACHE_EXPIRATION}
    timeout = {"timeout_seconds": config.task_timeout_seconds}
    ingest_task = ingest.with_options(cache_policy=INGEST_CACHE, **cached, **timeout)  # type: ignore[arg-type]
    clean_task = clean.with_options(cache_policy=CLEAN_CACHE, **cached, **timeout)  # type: ignore[arg-type]

    manifest = lake.read_manifest()
    seen = set(manifest["content_hash"].to_list())
    files, rejected = list_any_inputs(config.input_dir, lake.root, seen)
    new = [f for f in files if f.content_hash not in seen]
    batches = plan_batches(new, batch_size=config.batch_size, max_bytes=config.batch_max_bytes)
    book.batch_labels = labels_from_manifest(manifest, batches)
    # Left by a run killed before its commit, and not planned again (input changed).
    left = lake.uncommitted_batches() - {b.batch_id for b in batches}
    if left:
        swept = roll_back.submit(sorted(left), lake_dir, run_id).result()
        logger.warning(
            "Removed %d files of %d batches an interrupted run left uncommitted",
            swept["files"],
            swept["batches"],
        )
    _quarantine_rejected(lake, rejected, run_id)
    context = FlowRunContext.get()
    tasks_here = context is None or isinstance(context.task_runner, ThreadPoolTaskRunner)
    _warm_up(config, batches, tasks_here)
    logger.info(
        "Run %s: %d files in %s; %d new in %d batches, %d already ingested, %d unreadable",
        run_id,
        len(files),
        shown(config.input_dir),
        len(new),
        len(batches),
        len(files) - len(new),
        len(rejected),
    )
    timings["plan_s"] = time.perf_counter() - book.t_start

    counts.update(
        files_seen=len(files),
        files_new=len(new),
        files_unchanged=len(files) - len(new),
        batches=len(batches),
    )
    quarantined = book.quarantined
    quarantined.update(ingest=Counter(r.rule for r in rejected), clean=Counter())
    removed = book.removed
    manifests: list[pl.DataFrame] = []

    t0 = time.perf_counter()
    ingest_config = _unwalked(config, tasks_here)
    ingest_futures = [
        named(ingest_task, "ingest", b.batch_id, book.batch_labels).submit(
            _unwalked(b, tasks_here), ingest_config, run_id
        )
        for b in batches
    ]
    ingested_batches = []
    ingested_rows: dict[str, int] = {}
    progress.start("ingest", {b.batch_id: len(b.files) for b in batches}, unit="files")
    for done, future in enumerate(as_completed(ingest_futures), start=1):
        result = future.result()
        manifests.append(result["manifest"])
        counts.update(
            records_in=result["records"],
            ingested=result["ingested"],
            quarantined_records_at_ingest=result["quarantined_records"],
            # WARC requests, redirects, non-HTML payloads: not records (kinds in the log).
            skipped_not_articles=sum(result.get("skipped_by_kind", {}).values()),
        )
        quarantined["ingest"].update(result["quarantined_by_rule"])
        book.unmapped_columns = merged([book.unmapped_columns, result.get("unmapped_columns", {})])
        was_cached = _was_cached(future)
        counts["batches_cached"] += was_cached
        logger.info(
            "ingest %d/%d: batch %s -> %d records, %d quarantined%s",
            done,
            len(batches),
            result["batch_id"],
            result["ingested"],
            result["quarantined"],
            " (cached: unchanged since an earlier attempt)" if was_cached else "",
        )
        ingested_batches.append(result["batch_id"])
        ingested_rows[result["batch_id"]] = result["ingested"]
        progress.finish("ingest", result["batch_id"])
    progress.end("ingest")
    if ingested_batches:
        t1 = time.perf_counter()
        counted = book.line_stats = (
            line_stats.with_options(**timeout)  # type: ignore[arg-type]
            .submit(ingested_batches, lake_dir, run_id)
            .result()
        )
        timings["line_stats_s"] = time.perf_counter() - t1
        logger.info(
            "line_stats: %d documents with a domain, %d newly counted; %d counted in %d domains, "
            "%d lines recur",
            counted["documents"],
            counted["newly_counted"],
            counted["counted"],
            counted["domains"],
            counted["repeated_lines"],
        )
    clean_futures = [
        named(clean_task, "clean", b, book.batch_labels).submit(
            b, lake_dir, run_id, book.run_date, config.domain_repeat
        )
        for b in ingested_batches
    ]
    if ingested_batches:
        ran.add("clean")
    progress.start("clean", ingested_rows)
    cleaned_rows: dict[str, int] = {}
    for done, future in enumerate(as_completed(clean_futures), start=1):
        result = future.result()
        counts.update(
            cleaned=result["cleaned"],
            metadata_only=result["metadata_only"],
            quarantined_at_clean=result["quarantined"],
        )
        cleaned_rows[result["batch_id"]] = result["cleaned"]
        quarantined["clean"].update(result["quarantined_by_rule"])
        removed.update(result["removed_by_rule"])
        logger.info(
            "clean %d/%d: batch %s -> %d rows, %d metadata-only, %d quarantined%s",
            done,
            len(batches),
            result["batch_id"],
            result["cleaned"],
            result["metadata_only"],
            result["quarantined"],
            " (cached)" if _was_cached(future) else "",
        )
        progress.finish("clean", result["batch_id"])
    progress.end("clean")
    timings["ingest_clean_s"] = time.perf_counter() - t0
    if ingested_batches and config.quality.enabled:
        _gate(config, {b: cleaned_rows.get(b, 0) for b in ingested_batches}, book)
    if manifests:
        book.file_manifest = file_manifest = pl.concat(manifests)
    else:
        file_manifest = book.file_manifest
    counts["files_ingested"] = int((file_manifest["status"] == "ingested").sum())
    counts["files_quarantined"] = int((file_manifest["status"] == "quarantined").sum())
    if config.quality.enabled:  # the check is a critical expectation of the ingested data
        book.mapping_failures = text_like_failures(book.unmapped_columns)
    committed = _commit(lake, ingested_batches, book)

    # A lake whose dedupe outputs or index are behind cleaned/ is brought up to date
    # even without new input.
    stale = dedupe_behind(lake)
    wants = STAGES_IN_ORDER[: STAGES_IN_ORDER.index(config.stop_after) + 1]
    # A run the gate failed has rolled its batches back: nothing new reaches dedupe.
    if not committed:
        wants = STAGES_IN_ORDER[:1]
    deduped: dict[str, Any] = {"batches": [], "touched": [], "rebuilt": None}
    if (batches or stale) and "dedupe" not in wants:
        logger.info("Stopping after clean: dedupe and enrich wait")
    elif batches or stale:
        ran.add("dedupe")
        t0 = time.perf_counter()
        deduped = run_dedupe(
            lake_dir, run_id, config.dedupe, timeout_seconds=config.task_timeout_seconds
        )
        counts.update(
            lake_cleaned=deduped["cleaned"],
            deduped=deduped["deduped"],
            duplicates=deduped["duplicates"],
            dedupe_new=deduped["new"],
            clusters_rewritten=deduped["clusters_rewritten"],
        )
        if deduped["rebuilt"]:
            logger.info("dedupe: index rebuilt from cleaned/ (%s)", deduped["rebuilt"])
        logger.info(
            "dedupe: %d new of %d cleaned rows; %d clusters rewritten in %d batches; "
            "lake holds %d records, %d duplicates",
            deduped["new"],
            deduped["cleaned"],
            deduped["clusters_rewritten"],
            len(deduped["touched"]),
            deduped["deduped"],
            deduped["duplicates"],
        )
        timings["dedupe_s"] = time.perf_counter() - t0
    # Enrich what dedupe rewrote, what an earlier run that stopped early left behind,
    # or (re_enrich) everything.
    todo = deduped["batches"] if "dedupe" in ran else []
    if "dedupe" in ran or not (batches or stale):
        todo = sorted({*todo, *_pending_enrich(lake)})
    if config.re_enrich and "dedupe" in wants:
        todo = [p.stem for p in lake.files("deduped")]
    if todo and "enrich" not in wants:
        logger.info("Stopping after %s (stop_after): enrich waits", config.stop_after)
    elif todo:
        ran.add("enrich")
        counts["deduped"] = lake.count("deduped")
        _enrich_batches(config, lake, todo, deduped, book, progress)
    if ran == {"ingest"}:
        logger.info("No new input: dedupe and enrich are up to date, nothing to do")
    elif config.quality.enabled:
        rewritten = deduped["batches"] if "dedupe" in ran else []
        _report_quality(config, lake, rewritten, todo if "enrich" in ran else [], book)
    return _finish(config, lake, book)


def _enrich_batches(
    config: PipelineConfig,
    lake: Lake,
    todo: list[str],
    deduped: dict[str, Any],
    book: RunBook,
    progress: RunProgress,
) -> None:
    """Enrich the `todo` batches, then drop enriched files of superseded batches.

    A batch in `todo` without a deduped/ file (dedupe moved its records elsewhere) has
    nothing to enrich: only its left-over enriched files go.
    """
    logger, timings, t0 = get_run_logger(), book.timings, time.perf_counter()
    enrich_task = enrich.with_options(timeout_seconds=config.task_timeout_seconds)
    present = {p.stem for p in lake.files("deduped")}
    written = []
    # A unit is a document through one per-document enricher (tasks report chunks).
    steps = per_document_steps(config.enrichers)
    rows = lake.written("deduped")
    totals = {b: rows[b].rows * steps for b in todo if b in present and b in rows}
    progress.start("enrich", totals, unit="documents", scale=steps)
    enrich_futures = [
        named(enrich_task, "enrich", b, book.batch_labels).submit(
            b, str(config.lake_dir), book.run_id, config.enrichers
        )
        for b in todo
        if b in present
    ]
    for done, future in enumerate(as_completed(enrich_futures), start=1):
        result = future.result()
        for name, seconds in result["seconds"].items():
            timings[f"enrich_{name}_s"] = timings.get(f"enrich_{name}_s", 0.0) + seconds
        written += result["paths"]
        logger.info(
            "enrich %d/%d: batch %s -> %d records",
            done,
            len(enrich_futures),
            result["batch_id"],
            result["enriched"],
        )
        progress.finish("enrich", result["batch_id"])
    progress.end("enrich")
    # Only the batches enriched here are replaced; the others are current. A
    # rebuilt index may have renamed batches: then every stale file goes.
    names = None if deduped["rebuilt"] or config.re_enrich else [*deduped["touched"], *todo]
    lake.remove_except("enriched", [Path(p) for p in written], names=names)
    book.counts["enriched"] = lake.count("enriched")
    timings["enrich_s"] = time.perf_counter() - t0


def _gate(config: PipelineConfig, rows_by_batch: dict[str, int], book: RunBook) -> None:
    """Run the cleaned suite on every new batch, a group of batches per GX call (failing
    rows go to quarantine), and the ingested suite beside it: both judge the run's new
    rows before anything is committed."""
    logger, t0 = get_run_logger(), time.perf_counter()
    book.ran.add("quality")
    book.quarantined["quality"] = Counter()
    timeout = config.task_timeout_seconds
    gate = quality_gate.with_options(timeout_seconds=timeout)
    lake_dir = str(config.lake_dir)
    ingested = quality_check.with_options(timeout_seconds=timeout).submit(
        "ingested", list(rows_by_batch), lake_dir, book.run_date, config.quality
    )
    groups = gate_groups(rows_by_batch)
    futures = [
        gate.submit(group, lake_dir, book.run_id, book.run_date, config.quality) for group in groups
    ]
    parts = []
    for done, future in enumerate(as_completed(futures), start=1):
        result = future.result()
        book.counts.update(
            passed_quality=result["passed"], quarantined_at_quality=result["quarantined"]
        )
        book.quarantined["quality"].update(result["quarantined_by_rule"])
        parts.append(result["validation"])
        logger.info(
            "quality gate %d/%d: %d batches from %s -> %d rows pass, %d quarantined",
            done,
            len(futures),
            len(result["batch_ids"]),
            result["batch_ids"][0],
            result["passed"],
            result["quarantined"],
        )
    book.validations.append(ingested.result())
    merged = merge_validations("cleaned", parts)
    if merged is not None:
        book.validations.append(merged)
    book.timings["quality_gate_s"] = time.perf_counter() - t0


def _commit(lake: Lake, batches: list[str], book: RunBook) -> bool:
    """Commit the run's new batches (their files into the manifest), or roll them back
    when a critical expectation failed or the books of ingest, clean and the gate do
    not balance. Returns whether they were committed."""
    logger = get_run_logger()
    unbalanced = [c["identity"] for c in check_books(book.counts, book.ran) if not c["balanced"]]
    critical = [*book.mapping_failures]
    critical += [line for v in book.validations for line in v.critical_failures()]
    if not unbalanced and not critical:
        if not book.file_manifest.is_empty():
            lake.add_to_manifest(book.file_manifest, book.run_id)
        return True
    logger.error(
        "The run's new rows fail (%s): rolling back %d batches; dedupe and enrich wait",
        "; ".join([*critical, *(f"books: {i}" for i in unbalanced)]),
        len(batches),
    )
    rolled = roll_back.submit(batches, str(lake.root), book.run_id).result()
    book.counts["batches_rolled_back"] = rolled["batches"]
    return False


def _report_quality(
    config: PipelineConfig, lake: Lake, deduped: list[str], enriched: list[str], book: RunBook
) -> None:
    """Validate this run's rows of the stages after the gate and write every report."""
    t0 = time.perf_counter()
    book.ran.add("quality")
    check = quality_check.with_options(timeout_seconds=config.task_timeout_seconds)
    args = (str(config.lake_dir), book.run_date, config.quality)
    todo = [("deduped", deduped), ("enriched", enriched)]
    futures = {stage: check.submit(stage, names, *args) for stage, names in todo if names}
    results = {stage: f.result() for stage, f in futures.items()}
    order = ("ingested", "cleaned", "deduped", "enriched")
    merged = {v.stage: v for v in book.validations} | results
    book.validations = [merged[s] for s in order if s in merged]
    records = {k: book.counts.get(k, 0) for k in ("ingested", "metadata_only")}
    paths = write_quality_reports(
        lake.root,
        book.run_id,
        book.validations,
        records=records,
        examples=config.quality.report_examples,
    )
    rows = artifact_rows(book.validations)
    create_table_artifact(
        key=artifact_key("newsflow-quality", config),
        table=failures_first(rows),
        description=quality_description(book.run_id, paths["report"], rows),
    )
    failures = [line for v in book.validations for line in v.critical_failures()]
    book.quality = {
        "report": str(paths["report"]),
        "expectations": len(rows),
        "failed": sum(not r["success"] for r in rows),
        "critical_failures": failures,
        # Per expectation, for the history chart of later runs' reports.
        "pass_rates": pass_rates(book.validations),
    }
    book.timings["quality_report_s"] = time.perf_counter() - t0


def _finish(config: PipelineConfig, lake: Lake, book: RunBook) -> dict[str, Any]:
    """Check the books, record the run (manifest, artifact); fail if unbalanced or critical.

    The file manifest was written (or the batches rolled back) at the commit, after the
    gate; a failure after it (books of dedupe or enrich) is repaired by the next run,
    which finds dedupe's index or enrich's files behind and catches up.
    """
    run_id, counts, timings = book.run_id, book.counts, book.timings
    books = check_books(counts, book.ran)
    critical = [*book.mapping_failures, *book.quality.get("critical_failures", [])]
    timings["total_s"] = time.perf_counter() - book.t_start
    run: dict[str, Any] = {
        "run_id": run_id,
        "started_at": book.started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "code_version": __version__,
        "config": config.model_dump(mode="json"),
        "counts": dict(sorted(counts.items())),
        "quarantined": {stage: dict(sorted(c.items())) for stage, c in book.quarantined.items()},
        "removed_lines": dict(sorted(book.removed.items())),
        "line_stats": book.line_stats,
        "stages_run": [s for s in ("ingest", *STAGES_IN_ORDER, "quality") if s in book.ran],
        "quality": book.quality,
        "unmapped_columns": book.unmapped_columns,
        "mapping_failures": book.mapping_failures,
        "accounting": books,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "lake": str(lake.root.resolve()),
        "ui_url": flow_run_ui_url(),
    }
    run["status"] = (
        "unbalanced"
        if not all(c["balanced"] for c in books)
        else "failed_quality"
        if critical
        else "completed"
    )
    # The only write readers see: a run that failed (or stops here) commits nothing,
    # and the next one that completes commits its work too. The manifest comes last.
    t0 = time.perf_counter()
    run["committed"] = run["status"] == "completed"
    if run["committed"]:
        run["tables"] = commit.submit(str(lake.root), run_id).result()
    else:
        run["tables"] = table_versions(lake.root)
    run["timings"]["commit_s"] = round(time.perf_counter() - t0, 3)
    lake.write_run(run)
    get_run_logger().info("Summary of the run:\n%s", format_run(run), extra={SUMMARY: True})
    create_table_artifact(
        key=artifact_key("newsflow-run-counts", config),
        table=counts_table(counts, run["timings"]),
        description=f"newsflow run {run_id}: rows per stage, in stage order, with seconds",
    )
    if run["status"] != "completed":
        broken = "; ".join(
            f"{c['identity']} ({c['left']} != {c['right']})" for c in books if not c["balanced"]
        )
        rolled = counts.get("batches_rolled_back", 0)
        batches = "batch was" if rolled == 1 else "batches were"
        undone = f"; its {rolled} new {batches} rolled back" if rolled else ""
        if run["status"] == "unbalanced":
            raise AccountingError(f"run {run_id}: books do not balance: {broken}{undone}")
        first, *more = critical
        report = book.quality.get("report")
        also = f" (and {len(more)} more{f'; see {report}' if report else ''})" if more else ""
        # A mapping failure names its own setting (field_mappings).
        accept = "" if book.mapping_failures else accepting_setting(book.validations)
        hint = f"; to accept such data, set {accept} in the run's PipelineConfig" if accept else ""
        raise QualityError(
            f"run {run_id}: critical expectation failed: {first}{also}{undone}{hint}"
        )
    return run


def accepting_setting(validations: list[StageValidation]) -> str | None:
    """The config setting that turns the first failed critical expectation into a
    warning (None when no expectation failed critically)."""
    rule = next(
        (
            row["expectation"]
            for v in validations
            for row in v.summary
            if row["severity"] == "critical" and not row["success"]
        ),
        None,
    )
    return f'quality.policies.{rule}.severity="warning"' if rule else None
