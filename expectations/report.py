"""Quality results on disk, as a Prefect table and as text for `newsflow report`.

Layout under the lake:

    quality/<run_id>/<stage>.json   summary rows, failing doc_ids and examples, quarantine,
                                    GX result
    quality/<run_id>/summary.json   summary rows of every stage, critical failures, paths
    quality/<run_id>/failing_rows.parquet   every row that failed an expectation: stage,
                                    rule, doc_id, title, source_file, column, value
    quality/<run_id>/report.html    the self-contained report (html_report.py)
    quality/latest.html             the newest report
    quality/latest.json             {"run_id": ..., "summary": ...}: what `report` reads

The report shows example rows per failing expectation, the run's quarantine by rule
(read from quarantine/) and pass rates over the last runs (from the run manifests).
GX's Data Docs are not built: offline they were unstyled, their index empty and their
status blank, and this page shows more; a `quality/docs/` left by an older newsflow is
removed so no broken page stays behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from expectations.html_report import render_report
from expectations.validate import StageValidation
from newsflow.lake import Lake

QUALITY_DIR = "quality"
FAILING_ROWS_FILE = "failing_rows.parquet"
# Runs the history chart covers, this one included.
HISTORY_RUNS = 12
DOCS_NOTE = (
    "Every run's results are also in quality/<run_id>/ as JSON (GX's own validation "
    "result per stage included); newsflow builds no GX Data Docs."
)


def artifact_rows(results: list[StageValidation]) -> list[dict[str, Any]]:
    """Rows for a Prefect table artifact: one per stage and expectation."""
    return [
        {
            "stage": row["stage"],
            "expectation": row["expectation"],
            "severity": row["severity"],
            "success": row["success"],
            "unexpected %": round(row["unexpected_percent"], 2),
            "quarantined rows": row["quarantined"],
        }
        for result in results
        for row in result.summary
    ]


def metadata_only_note(records: dict[str, int] | None) -> str | None:
    """One sentence on the run's metadata-only records (a title or URL, no body), which
    no suite after ingested sees: they leave clean for metadata_only/, not cleaned/."""
    if not records or not records.get("metadata_only"):
        return None
    only, ingested = records["metadata_only"], records.get("ingested", 0)
    share = f" ({100 * only / ingested:.1f} %)" if ingested else ""
    most = "most of this run's records are" if 2 * only > ingested else "some records are"
    return (
        f"{only} of {ingested} ingested records{share} had a title or URL but no body: "
        f"{most} metadata-only, kept in metadata_only/ and not checked past ingested"
    )


def quality_summary(
    run_id: str, results: list[StageValidation], records: dict[str, int] | None = None
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "records": records or {},
        "metadata_only_note": metadata_only_note(records),
        "stages": [
            {
                "stage": r.stage,
                "rows": r.rows,
                "quarantined": r.quarantine.height,
                "summary": r.summary,
            }
            for r in results
        ],
        "critical_failures": [line for r in results for line in r.critical_failures()],
    }


def summary_text(summary: dict[str, Any]) -> str:
    """A few lines for a terminal: per stage, the failed expectations and quarantine."""
    lines = [f"quality of run {summary['run_id']}:"]
    for info in summary["stages"]:
        rows = info["summary"]
        failed = [r for r in rows if not r["success"]]
        lines.append(
            f"  {info['stage']}: {info['rows']} rows, {len(rows) - len(failed)}/{len(rows)} "
            f"expectations passed, {info['quarantined']} rows to quarantine"
        )
        lines += [
            f"    {r['severity']:8} {r['expectation']}: {r['unexpected_percent']:.1f}% "
            f"({r['unexpected_count']}) failed"
            for r in failed
        ]
    if summary.get("metadata_only_note"):
        lines.append(f"  metadata only: {summary['metadata_only_note']}")
    for line in summary["critical_failures"]:
        lines.append(f"  CRITICAL {line}")
    if summary.get("report"):
        lines.append(f"  report: {summary['report']}")
    failing_rows = summary.get("paths", {}).get("failing_rows")
    if failing_rows:
        lines.append(f"  failing rows: {failing_rows}")
    return "\n".join(lines)


def latest_summary(lake_root: Path | str) -> dict[str, Any] | None:
    """The summary of the newest run with quality results, or None."""
    text = Lake(lake_root).read_text(f"{QUALITY_DIR}/latest.json")
    if text is None:
        return None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def pass_rates(results: list[StageValidation]) -> dict[str, float]:
    """`<stage>.<expectation>` -> % of checked rows that met it: what a run manifest
    keeps for the report's history."""
    return {
        f"{r.stage}.{row['expectation']}": round(100.0 - row["unexpected_percent"], 3)
        for r in results
        for row in r.summary
    }


def _recorded_rates(lake: Lake, run: dict[str, Any]) -> dict[str, float] | None:
    """A past run's pass rates: from its manifest, or for a run recorded before
    manifests kept them, from its quality summary."""
    quality = run.get("quality") or {}
    if quality.get("pass_rates"):
        return dict(quality["pass_rates"])
    text = lake.read_text(f"{QUALITY_DIR}/{run.get('run_id')}/summary.json")
    if not quality or text is None:
        return None
    summary = json.loads(text)
    return {
        f"{stage['stage']}.{row['expectation']}": round(100.0 - row["unexpected_percent"], 3)
        for stage in summary.get("stages", [])
        for row in stage["summary"]
    }


def pass_rate_history(
    lake: Lake, run_id: str, current: dict[str, float], runs: int = HISTORY_RUNS
) -> dict[str, Any]:
    """{"runs": run ids oldest first, "rates": {expectation: [% per run, None where a
    run did not check it]}} over the last `runs` runs with quality results."""
    past = [
        (run["run_id"], rates)
        for run in lake.runs()
        if run.get("run_id") != run_id and (rates := _recorded_rates(lake, run))
    ]
    shown = [*past[-(runs - 1) :], (run_id, current)] if runs > 1 else [(run_id, current)]
    names = list(dict.fromkeys(name for _, rates in shown for name in rates))
    return {
        "runs": [run for run, _ in shown],
        "rates": {name: [rates.get(name) for _, rates in shown] for name in names},
    }


def quarantine_by_rule(lake: Lake, run_id: str, examples: int) -> list[dict[str, Any]]:
    """The rows this run quarantined (files and records at ingest, records at clean and
    at the quality gate), by stage and rule: count and up to `examples` rows each."""
    rows = lake.scan("quarantine").filter(pl.col("run_id") == run_id).collect()
    order = {"ingest": 0, "clean": 1, "quality": 2}
    groups = sorted(
        rows.partition_by("stage", "rule", maintain_order=True, as_dict=True).items(),
        key=lambda kv: (order.get(str(kv[0][0]), 9), -kv[1].height),
    )
    return [
        {
            "stage": stage,
            "rule": rule,
            "rows": group.height,
            "examples": group.head(examples)
            .select("source_file", "record_index", "detail", "doc_id")
            .to_dicts(),
        }
        for (stage, rule), group in groups
    ]


def write_quality_reports(
    lake_root: Path | str,
    run_id: str,
    results: list[StageValidation],
    *,
    records: dict[str, int] | None = None,
    examples: int = 5,
) -> dict[str, Any]:
    """Write a run's results (JSON, failing rows, report); returns the paths by name.

    Names: one per stage, `summary`, `report`, `latest`, `failing_rows` (when a row
    failed). `records` holds the run's `ingested` and `metadata_only` counts, for the
    note on the latter; `examples` is the number of example rows per failing expectation
    and per quarantine rule.
    """
    lake = Lake(lake_root)
    run_dir = f"{QUALITY_DIR}/{run_id}"
    paths: dict[str, Any] = {}
    stages = [r.to_json(examples) for r in results]
    for result, stage in zip(results, stages, strict=True):
        paths[result.stage] = lake.write_json(f"{run_dir}/{result.stage}.json", stage)
    failing = [r.failing_rows for r in results if not r.failing_rows.is_empty()]
    if failing:
        relative = f"{QUALITY_DIR}/{run_id}/{FAILING_ROWS_FILE}"
        paths["failing_rows"] = lake.write_report_table(pl.concat(failing), relative, run_id)
    summary = quality_summary(run_id, results, records)
    rates = summary["pass_rates"] = pass_rates(results)
    quarantine = quarantine_by_rule(lake, run_id, examples)
    history = pass_rate_history(lake, run_id, rates)
    note = summary["metadata_only_note"]
    relative_rows = f"{run_id}/{FAILING_ROWS_FILE}"  # from quality/latest.html
    reports = {"report": f"{run_dir}/report.html", "latest": f"{QUALITY_DIR}/latest.html"}
    for name, link in (("report", FAILING_ROWS_FILE), ("latest", relative_rows)):
        html = render_report(
            run_id,
            stages,
            DOCS_NOTE,
            note,
            quarantine=quarantine,
            history=history,
            rows_link=link if failing else None,
            rows_path=lake.shown(paths["failing_rows"]) if failing else None,
        )
        paths[name] = lake.write_text(reports[name], html)
    # Data Docs an older newsflow built: unstyled offline, empty index (see above).
    lake.remove_folder(f"{QUALITY_DIR}/docs")
    summary["report"] = lake.shown(paths["report"])
    summary["paths"] = {name: lake.shown(p) for name, p in paths.items()}
    paths["summary"] = lake.write_json(f"{run_dir}/summary.json", summary)
    lake.write_json(f"{QUALITY_DIR}/latest.json", summary)
    return paths
