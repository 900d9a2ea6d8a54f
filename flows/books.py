"""The run's books: what every stage counted, the identities they must satisfy, and the
run manifest (`runs/<run_id>.json`) built from them.

Every input file and record is counted in; a run whose books do not balance fails
loudly (`AccountingError`), one whose data fails a critical expectation fails with
`QualityError`. Everything here is pure: the flow feeds it the stages' results
(tasks/stage_result.py) and writes what it returns.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from expectations.gate import GatedBatches
from expectations.validate import StageValidation
from flows.plan import RunPlan
from newsflow import __version__
from newsflow.config import PipelineConfig
from newsflow.schema import FILE_MANIFEST
from tasks.clean import CleanedBatch
from tasks.enrich import EnrichedBatch
from tasks.ingest import IngestedBatch
from tasks.unmapped import ColumnCounts, merged

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


class AccountingError(RuntimeError):
    """Records went missing between stages: the run's books do not balance."""


class QualityError(RuntimeError):
    """A critical expectation failed: the data, not one row, is wrong."""


@dataclass
class RunBook:
    """What one run counts and times on its way; `run_record` turns it into the manifest."""

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
    # The file manifest's parts, one per ingested batch, joined by `close_ingest`.
    manifest_parts: list[pl.DataFrame] = field(default_factory=list)
    validations: list[StageValidation] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    unmapped_columns: ColumnCounts = field(default_factory=dict)
    # Critical failures found at ingest (a text column no field mapping uses).
    mapping_failures: list[str] = field(default_factory=list)
    # Short readable names of batches for task runs (flows/run_names.py).
    batch_labels: dict[str, str] = field(default_factory=dict)
    # Rows of each deduped/ file as enrich found them (what the end-of-run checks split).
    deduped_rows: dict[str, int] = field(default_factory=dict)

    @property
    def run_date(self) -> dt.date:
        return self.started_at.date()

    def time(self, name: str, since: float) -> None:
        """Record `<name>_s`, the seconds since `since` (a perf_counter reading)."""
        self.timings[f"{name}_s"] = time.perf_counter() - since

    def add_plan(self, plan: RunPlan) -> None:
        self.batch_labels = dict(plan.labels)
        self.counts.update(
            files_seen=plan.files_seen,
            files_new=plan.files_new,
            files_unchanged=plan.files_seen - plan.files_new,
            batches=len(plan.batches),
        )
        self.quarantined.update(ingest=Counter(plan.rejected_by_rule), clean=Counter())

    def add_ingested(self, result: IngestedBatch, cached: bool) -> None:
        self.manifest_parts.append(result.manifest)
        self.counts.update(
            records_in=result.rows_in,
            ingested=result.rows_out,
            quarantined_records_at_ingest=result.quarantined_records,
            # WARC requests, redirects, non-HTML payloads: not records (kinds in the log).
            skipped_not_articles=sum(result.skipped_by_kind.values()),
        )
        self.quarantined["ingest"].update(result.quarantined_by_rule)
        self.unmapped_columns = merged([self.unmapped_columns, result.unmapped_columns])
        self.counts["batches_cached"] += cached

    def add_cleaned(self, result: CleanedBatch, cached: bool) -> None:
        self.counts.update(
            cleaned=result.rows_out,
            metadata_only=result.metadata_only,
            quarantined_at_clean=result.quarantined,
        )
        self.quarantined["clean"].update(result.quarantined_by_rule)
        self.removed.update(result.removed_by_rule)

    def add_gated(self, result: GatedBatches, cached: bool) -> None:
        self.counts.update(
            passed_quality=result.rows_out, quarantined_at_quality=result.quarantined
        )
        self.quarantined["quality"].update(result.quarantined_by_rule)

    def add_enriched(self, result: EnrichedBatch, cached: bool) -> None:
        for name, seconds in result.seconds_by_enricher.items():
            key = f"enrich_{name}_s"
            self.timings[key] = self.timings.get(key, 0.0) + seconds

    def close_ingest(self) -> None:
        """The run's file manifest and its counts, once every batch is ingested."""
        if self.manifest_parts:
            self.file_manifest = pl.concat(self.manifest_parts)
        status = self.file_manifest["status"]
        self.counts["files_ingested"] = int((status == "ingested").sum())
        self.counts["files_quarantined"] = int((status == "quarantined").sum())


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


def commit_blockers(book: RunBook) -> list[str]:
    """Why the run's new batches must not be committed: critical expectations failed at
    ingest or the gate, or the books of ingest, clean and the gate do not balance."""
    unbalanced = [c["identity"] for c in check_books(book.counts, book.ran) if not c["balanced"]]
    critical = [*book.mapping_failures]
    critical += [line for v in book.validations for line in v.critical_failures()]
    return [*critical, *(f"books: {i}" for i in unbalanced)]


def run_record(
    config: PipelineConfig, lake_root: Path | str, book: RunBook, ui_url: str | None
) -> dict[str, Any]:
    """The run manifest, but for the table versions and commit time the commit adds."""
    books = check_books(book.counts, book.ran)
    critical = [*book.mapping_failures, *book.quality.get("critical_failures", [])]
    book.timings["total_s"] = time.perf_counter() - book.t_start
    status = (
        "unbalanced"
        if not all(c["balanced"] for c in books)
        else "failed_quality"
        if critical
        else "completed"
    )
    return {
        "run_id": book.run_id,
        "started_at": book.started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "code_version": __version__,
        "config": config.model_dump(mode="json"),
        "counts": dict(sorted(book.counts.items())),
        "quarantined": {stage: dict(sorted(c.items())) for stage, c in book.quarantined.items()},
        "removed_lines": dict(sorted(book.removed.items())),
        "line_stats": book.line_stats,
        "stages_run": [s for s in ("ingest", *STAGES_IN_ORDER, "quality") if s in book.ran],
        "quality": book.quality,
        "unmapped_columns": book.unmapped_columns,
        "mapping_failures": book.mapping_failures,
        "accounting": books,
        "timings": {k: round(v, 3) for k, v in book.timings.items()},
        "lake": lake_root if isinstance(lake_root, str) else str(lake_root.resolve()),
        "ui_url": ui_url,
        "status": status,
    }


def run_failure(run: dict[str, Any], book: RunBook) -> RuntimeError | None:
    """The error a run that did not complete fails with, naming what broke, what was
    rolled back and the setting that would accept such data; None when it completed."""
    if run["status"] == "completed":
        return None
    run_id, counts = run["run_id"], book.counts
    rolled = counts.get("batches_rolled_back", 0)
    batches = "batch was" if rolled == 1 else "batches were"
    undone = f"; its {rolled} new {batches} rolled back" if rolled else ""
    if run["status"] == "unbalanced":
        broken = "; ".join(
            f"{c['identity']} ({c['left']} != {c['right']})"
            for c in run["accounting"]
            if not c["balanced"]
        )
        return AccountingError(f"run {run_id}: books do not balance: {broken}{undone}")
    critical: list[str] = [*book.mapping_failures, *book.quality.get("critical_failures", [])]
    first, *more = critical
    report = book.quality.get("report")
    also = f" (and {len(more)} more{f'; see {report}' if report else ''})" if more else ""
    # A mapping failure names its own setting (field_mappings).
    accept = "" if book.mapping_failures else accepting_setting(book.validations)
    hint = f"; to accept such data, set {accept} in the run's PipelineConfig" if accept else ""
    return QualityError(f"run {run_id}: critical expectation failed: {first}{also}{undone}{hint}")


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
