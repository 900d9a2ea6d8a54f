"""The DAG: plan batches -> ingest per batch in parallel -> line stats (one task) -> clean per
batch in parallel -> one dedupe -> enrich per batch.

Dedupe is incremental (a persistent index in the lake): it rewrites the deduped/ files
of the batches whose clusters gained a document, and only those batches are enriched
again. Stage counts for deduped, duplicates and enriched are lake totals.

Line statistics sit between ingest and clean because the boilerplate rule
`domain_repeat_v1` judges a paragraph by every document of its domain, this run's
included, so every batch must be counted before any batch is cleaned.

The flow only wires tasks together and keeps the books: every input file and
record is counted in, and the run fails loudly if the counts do not balance.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from newsflow import __version__
from newsflow.config import PipelineConfig
from newsflow.inputs import Rejected, list_inputs, plan_batches
from newsflow.lake import Lake
from newsflow.schema import FILE_MANIFEST, QUARANTINE
from tasks.clean import clean
from tasks.dedupe import dedupe
from tasks.enrich import enrich, select_enrichers
from tasks.ingest import ingest
from tasks.line_stats import line_stats

UNBATCHED = "unbatched"

# Each identity: (left side, right-hand terms). A run whose books do not balance fails.
IDENTITIES = [
    ("files_new", ("files_ingested", "files_quarantined")),
    ("records_in", ("ingested", "quarantined_records_at_ingest")),
    ("ingested", ("cleaned", "quarantined_at_clean")),
    ("lake_cleaned", ("deduped", "duplicates")),
    ("deduped", ("enriched",)),
]


class AccountingError(RuntimeError):
    """Records went missing between stages: the run's books do not balance."""


def new_run_id() -> str:
    """Sortable by start time, unique across machines."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def check_books(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Evaluate every accounting identity on the run's counts."""
    checks = []
    for left, terms in IDENTITIES:
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


@flow(name="newsflow", task_runner=ThreadPoolTaskRunner(max_workers=4))  # type: ignore[arg-type]
def newsflow_pipeline(config: PipelineConfig | None = None) -> dict[str, Any]:
    """Run every stage over the input folder; returns the run manifest (also in runs/)."""
    config = config or PipelineConfig()
    select_enrichers(config.enrichers)  # an unknown enricher name fails before any work
    logger = get_run_logger()
    run_id, started_at, t_start = new_run_id(), dt.datetime.now(dt.UTC), time.perf_counter()
    lake, lake_dir = Lake(config.lake_dir), str(config.lake_dir)
    timings: dict[str, float] = {}
    if config.full_refresh:
        logger.info("Full refresh: clearing stage outputs under %s", lake.root)
        lake.clear_outputs()

    files, rejected = list_inputs(config.input_dir)
    seen = set(lake.read_manifest()["content_hash"].to_list())
    new = [f for f in files if f.content_hash not in seen]
    batches = plan_batches(new, batch_size=config.batch_size, max_bytes=config.batch_max_bytes)
    _quarantine_rejected(lake, rejected, run_id)
    logger.info(
        "Run %s: %d files in %s; %d new in %d batches, %d already ingested, %d unreadable",
        run_id,
        len(files),
        config.input_dir,
        len(new),
        len(batches),
        len(files) - len(new),
        len(rejected),
    )
    timings["plan_s"] = time.perf_counter() - t_start

    counts: Counter[str] = Counter(
        files_seen=len(files),
        files_new=len(new),
        files_unchanged=len(files) - len(new),
        batches=len(batches),
    )
    quarantined = {"ingest": Counter(r.rule for r in rejected), "clean": Counter[str]()}
    removed: Counter[str] = Counter()
    manifests: list[pl.DataFrame] = []

    t0 = time.perf_counter()
    ingest_futures = [ingest.submit(b, config, run_id) for b in batches]
    ingested_batches = []
    counted: dict[str, int] = {}
    for done, future in enumerate(as_completed(ingest_futures), start=1):
        result = future.result()
        manifests.append(result["manifest"])
        counts.update(
            records_in=result["records"],
            ingested=result["ingested"],
            quarantined_records_at_ingest=result["records"] - result["ingested"],
        )
        quarantined["ingest"].update(result["quarantined_by_rule"])
        logger.info(
            "ingest %d/%d: batch %s -> %d records, %d quarantined",
            done,
            len(batches),
            result["batch_id"],
            result["ingested"],
            result["quarantined"],
        )
        ingested_batches.append(result["batch_id"])
    if ingested_batches:
        t1 = time.perf_counter()
        counted = line_stats.submit(ingested_batches, lake_dir, run_id).result()
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
        clean.submit(b, lake_dir, run_id, started_at.date(), config.domain_repeat)
        for b in ingested_batches
    ]
    for done, future in enumerate(as_completed(clean_futures), start=1):
        result = future.result()
        counts.update(cleaned=result["cleaned"], quarantined_at_clean=result["quarantined"])
        quarantined["clean"].update(result["quarantined_by_rule"])
        removed.update(result["removed_by_rule"])
        logger.info(
            "clean %d/%d: batch %s -> %d rows, %d quarantined",
            done,
            len(batches),
            result["batch_id"],
            result["cleaned"],
            result["quarantined"],
        )
    timings["ingest_clean_s"] = time.perf_counter() - t0
    file_manifest = pl.concat(manifests) if manifests else pl.DataFrame(schema=FILE_MANIFEST)
    counts["files_ingested"] = int((file_manifest["status"] == "ingested").sum())
    counts["files_quarantined"] = int((file_manifest["status"] == "quarantined").sum())

    # A lake whose dedupe outputs or index are missing (deleted, or written before the
    # index existed) is brought up to date even without new input.
    stale = bool(lake.files("cleaned")) and not (
        lake.files("deduped") and lake.files("dedupe_index")
    )
    if batches or stale:
        t0 = time.perf_counter()
        deduped = dedupe.submit(lake_dir, run_id, config.dedupe).result()
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
        t0 = time.perf_counter()
        written = []
        enrich_futures = [
            enrich.submit(b, lake_dir, run_id, config.enrichers) for b in deduped["batches"]
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
        # Only the batches dedupe rewrote are enriched again; the others are current.
        touched = None if deduped["rebuilt"] else deduped["touched"]
        lake.remove_except("enriched", [Path(p) for p in written], names=touched)
        counts["enriched"] = lake.count("enriched")
        timings["enrich_s"] = time.perf_counter() - t0
    else:
        logger.info("No new input: dedupe and enrich are up to date, nothing to do")

    books = check_books(counts)
    if not file_manifest.is_empty():
        lake.add_to_manifest(file_manifest, run_id)
    timings["total_s"] = time.perf_counter() - t_start
    run: dict[str, Any] = {
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "code_version": __version__,
        "config": config.model_dump(mode="json"),
        "counts": dict(sorted(counts.items())),
        "quarantined": {stage: dict(sorted(c.items())) for stage, c in quarantined.items()},
        "removed_lines": dict(sorted(removed.items())),
        "line_stats": counted,
        "accounting": books,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "lake": str(lake.root.resolve()),
    }
    run["status"] = "completed" if all(c["balanced"] for c in books) else "unbalanced"
    lake.write_run(run)
    create_table_artifact(
        key="newsflow-run-counts",
        table=[{"count": k, "value": v} for k, v in sorted(counts.items())],
        description=f"newsflow run {run_id}: rows per stage",
    )
    if run["status"] != "completed":
        broken = "; ".join(
            f"{c['identity']} ({c['left']} != {c['right']})" for c in books if not c["balanced"]
        )
        raise AccountingError(f"run {run_id}: books do not balance: {broken}")
    return run
