"""Quality stage: the Great Expectations suites (expectations/) run on stage outputs.

Two tasks. `quality_gate` runs right after clean on a group of batches: rows that
fail a quarantining expectation leave `cleaned/` for `quarantine/` (rule = the
expectation's name) before dedupe can keep them. `quality_check` runs on this run's
rows of a stage, a part of about `REPORT_ROWS` rows per task (`report_parts`; the
flow merges the parts with `merge_validations`): ingested/ beside the gate, deduped/
and enriched/ at the end; the flow writes the reports under `quality/`.

A GX validation costs ~0.7 s whatever its size plus ~0.2 ms per row (issue #10), so
the gate validates up to `GATE_ROWS` rows in one call instead of one call per batch,
and both tasks hand GX only the narrow columns the checks read, cut file by file, so
memory follows the number of rows, not the size of their bodies.

The gate writes the quarantine file first and the slimmer cleaned file second,
and merges with what an earlier attempt quarantined, so a gate interrupted
between its two writes and run again loses no row and counts none twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run

from expectations.validate import StageValidation, checked_frames, validate_checked
from newsflow.lake import Lake
from newsflow.quality_config import QualityConfig
from newsflow.schema import QUARANTINE, STAGE_SCHEMAS
from tasks.stage_result import StageResult

GATE_PREFIX = "quality-"
# Rows validated in one gate call (a group of whole batches; a bigger batch is alone).
GATE_ROWS = 20_000
# Rows validated in one report call, one task each: what a task holds follows the part,
# not the run. On the 1M lake's deduped/ (in-process, GX imported), a task's first part
# rose the process 263 MB at 100,000 rows (cut 10,000 at a time), 182 at 50,000 (5,000)
# and 145 at 25,000 (2,500), at about the same seconds per row. The uniqueness rules
# (doc_id_unique, url_unique) are judged within a part: a value repeated in batches of
# two parts is not seen.
REPORT_ROWS = 25_000
# Whole rows read before they are cut down to the checked columns: memory stays small,
# and the cut is made per this many rows, not per file (enriched/ holds a file per
# batch and month: 480 files for 7,000 records).
CUT_ROWS = 2_500


def gate_groups(rows_by_batch: dict[str, int], limit: int = GATE_ROWS) -> list[list[str]]:
    """Batches in the given order, cut into consecutive groups of at most `limit` rows."""
    groups: list[list[str]] = []
    size = 0
    for batch, rows in rows_by_batch.items():
        if not groups or (size + rows > limit and groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(batch)
        size += rows
    return groups


def report_parts(names: list[str], rows_by_name: Mapping[str, int]) -> list[list[str]]:
    """`names` cut into parts of about `REPORT_ROWS` rows, one `quality_check` task each
    (a name whose rows are not known counts none; a larger name is a part alone)."""
    return gate_groups({n: rows_by_name.get(n, 0) for n in names}, REPORT_ROWS)


def gate_frames(
    cleaned: pl.DataFrame, validation: StageValidation, run_id: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a cleaned batch into (kept rows, quarantine rows) by the validation."""
    failing = validation.rows_to_quarantine()
    bad = cleaned.join(failing, on="doc_id", how="inner").select(
        "source_file",
        pl.col("record_index").cast(pl.Int64),
        pl.lit("quality").alias("stage"),
        "rule",
        "detail",
        "doc_id",
        pl.lit(run_id).alias("run_id"),
        "batch_id",
    )
    kept = cleaned.join(failing, on="doc_id", how="anti")
    return kept, bad


def merge_validations(stage: str, parts: list[StageValidation]) -> StageValidation | None:
    """One stage's result from its batches' results: counts added, rules re-judged."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    summary: list[dict[str, Any]] = []
    for rows in zip(*(p.summary for p in parts), strict=True):
        first = dict(rows[0])
        element = sum(r["element_count"] for r in rows)
        unexpected = sum(r["unexpected_count"] for r in rows)
        percent = 100.0 * unexpected / element if element else 0.0
        if first["level"] == "row":
            success = percent <= 100.0 * (1 - first["mostly"]) + 1e-9
            detail = (
                f"{percent:.1f}% of {element} rows failed ({unexpected}) over "
                f"{len(rows)} batches; at most {100 * (1 - first['mostly']):.0f}% may"
            )
        else:
            success = all(r["success"] for r in rows)
            detail = "; ".join(dict.fromkeys(r["detail"] for r in rows))
        first.update(
            success=success,
            element_count=element,
            unexpected_count=unexpected,
            unexpected_percent=round(percent, 3),
            quarantined=sum(r["quarantined"] for r in rows),
            detail=detail,
        )
        summary.append(first)
    failing: dict[str, list[str]] = {}
    for part in parts:
        for rule, ids in part.failing.items():
            failing.setdefault(rule, []).extend(ids)
    return StageValidation(
        stage=stage,
        run_date=parts[0].run_date,
        rows=sum(p.rows for p in parts),
        summary=summary,
        failing={rule: sorted(ids) for rule, ids in failing.items()},
        quarantine=pl.concat([p.quarantine for p in parts]),
        # One GX result with every batch's results, so Data Docs read it as one suite run.
        gx_result={
            **parts[0].gx_result,
            "success": all(p.gx_result.get("success", True) for p in parts),
            "results": [r for p in parts for r in p.gx_result.get("results", [])],
            "meta": {**parts[0].gx_result.get("meta", {}), "batches": len(parts)},
        },
        seconds=sum(p.seconds for p in parts),
        suite=parts[0].suite,
        failing_rows=pl.concat([p.failing_rows for p in parts]),
    )


@dataclass(frozen=True, kw_only=True)
class GatedBatches(StageResult):
    """One gate call over a group of batches: `batch_id` is the group's first batch;
    rows_in: cleaned rows judged; rows_out: rows that pass."""

    batch_ids: list[str]
    validation: StageValidation

    def line(self) -> str:
        return (
            f"{len(self.batch_ids)} batches from {self.batch_id} -> {self.rows_out} rows "
            f"pass, {self.quarantined} quarantined"
        )


def _gate_run_name() -> str:
    """quality-gate-<first batch>+<number of other batches>."""
    batch_ids = task_run.parameters["batch_ids"]
    return f"quality-gate-{batch_ids[0][:6]}+{len(batch_ids) - 1}"


@task(
    name="quality_gate",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name=_gate_run_name,
)
def quality_gate(
    batch_ids: list[str], lake_dir: str, run_id: str, run_date: dt.date, config: QualityConfig
) -> GatedBatches:
    """Validate `cleaned/<batch>` of every batch in one call; move the rows failing a
    quarantining rule out, batch by batch."""
    started = time.perf_counter()
    lake = Lake(lake_dir)
    frames = {b: lake.read("cleaned", b) for b in batch_ids}
    cut = [checked_frames("cleaned", frame, config, run_date) for frame in frames.values()]
    validation = validate_checked(
        "cleaned", cut[0][0], pl.concat([rows for _, rows in cut]), config, run_date
    )
    passed = quarantined = 0
    by_rule: Counter[str] = Counter()
    for batch_id, cleaned in frames.items():
        kept, bad = gate_frames(cleaned, validation, run_id)
        name = f"{GATE_PREFIX}{batch_id}"
        if lake.exists("quarantine", name):  # an interrupted attempt already moved rows out
            earlier = lake.read("quarantine", name)
            bad = pl.concat([earlier, bad], how="vertical_relaxed").unique(
                "doc_id", keep="first", maintain_order=True
            )
        if not bad.is_empty():
            lake.write(bad.select(QUARANTINE.names()), "quarantine", name, run_id)
        if kept.height != cleaned.height:
            lake.write(kept, "cleaned", batch_id, run_id)
        passed += kept.height
        quarantined += bad.height
        by_rule.update(dict(bad.group_by("rule").len().iter_rows()))
    return GatedBatches(
        batch_id=batch_ids[0],
        batch_ids=batch_ids,
        rows_in=sum(frame.height for frame in frames.values()),
        rows_out=passed,
        quarantined=quarantined,
        quarantined_by_rule=dict(sorted(by_rule.items())),
        validation=validation,
        seconds=time.perf_counter() - started,
    )


@task(name="quality_check", retries=1, cache_policy=NO_CACHE, task_run_name="quality-{stage}")
def quality_check(
    stage: str, names: list[str], lake_dir: str, run_date: dt.date, config: QualityConfig
) -> StageValidation:
    """Validate this run's files of one stage (reporting only: nothing is moved),
    `REPORT_ROWS` rows per GX call (so uniqueness is judged within a part)."""
    parts = [
        validate_checked(stage, schema, rows, config, run_date)
        for schema, rows in stage_checked_frames(Lake(lake_dir), stage, names, config, run_date)
    ]
    merged = merge_validations(stage, parts)
    assert merged is not None  # stage_checked_frames yields at least one part
    return merged


def stage_checked_frames(
    lake: Lake, stage: str, names: list[str], config: QualityConfig, run_date: dt.date
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """`checked_frames` of one stage's files named `<name>.parquet` (any partition),
    typed as the contract, read one file at a time and cut `CUT_ROWS` rows at a time,
    gathered into parts of about `REPORT_ROWS` (at least one part, empty when there are
    no files)."""
    schema = STAGE_SCHEMAS[stage]
    wanted = set(names)
    files = [p for p in lake.files(stage) if p.stem in wanted]
    # Every file is cast to the contract, so all share the empty frame's schema.
    contract, no_rows = checked_frames(stage, pl.DataFrame(schema=schema), config, run_date)
    read: list[pl.DataFrame] = []
    gathered: list[pl.DataFrame] = []
    size = uncut = 0
    for path in files:
        frame = lake.read_file(stage, path)
        read.append(frame)
        uncut += frame.height
        if uncut < CUT_ROWS and path != files[-1]:
            continue
        _, rows = checked_frames(stage, pl.concat(read), config, run_date)
        read, uncut = [], 0
        gathered.append(rows)
        size += rows.height
        if size >= REPORT_ROWS:
            yield contract, pl.concat(gathered)
            gathered, size = [], 0
    if gathered or not files:
        yield contract, pl.concat([no_rows, *gathered])
