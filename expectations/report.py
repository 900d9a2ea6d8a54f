"""Quality results on disk, as a Prefect table and as text for `newsflow report`.

Layout under the lake:

    quality/<run_id>/<stage>.json   summary rows, failing doc_ids, quarantine, GX result
    quality/<run_id>/summary.json   summary rows of every stage, critical failures, paths
    quality/<run_id>/report.html    the self-contained report (html_report.py)
    quality/latest.html             copy of the newest report
    quality/latest.json             {"run_id": ..., "summary": ...}: what `report` reads
    quality/docs/                   GX Data Docs (site "newsflow_quality")

Only `write_quality_reports` touches GX (for the Data Docs); reading back is cheap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expectations.html_report import render_report
from expectations.validate import StageValidation
from newsflow.lake import write_json

QUALITY_DIR = "quality"
DOCS_NOTE = (
    "Great Expectations Data Docs for this run are in quality/docs/index.html. Their "
    "styling comes from CDNs, which are stripped for offline use, so they render plain; "
    "this page is the self-contained view."
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
    return "\n".join(lines)


def latest_summary(lake_root: Path) -> dict[str, Any] | None:
    """The summary of the newest run with quality results, or None."""
    path = Path(lake_root) / QUALITY_DIR / "latest.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def write_quality_reports(
    lake_root: Path,
    run_id: str,
    results: list[StageValidation],
    *,
    data_docs: bool = True,
    records: dict[str, int] | None = None,
) -> dict[str, Path]:
    """Write a run's results (JSON, report, Data Docs); returns the paths by name.

    Names: one per stage, `summary`, `report`, `latest`, `docs` (when built). `records`
    holds the run's `ingested` and `metadata_only` counts, for the note on the latter.
    """
    quality = Path(lake_root) / QUALITY_DIR
    run_dir = quality / run_id
    paths: dict[str, Path] = {}
    for result in results:
        paths[result.stage] = run_dir / f"{result.stage}.json"
        write_json(result.to_json(), paths[result.stage])
    summary = quality_summary(run_id, results, records)
    note = summary["metadata_only_note"]
    html = render_report(run_id, [r.to_json() for r in results], DOCS_NOTE, note)
    paths["report"] = run_dir / "report.html"
    paths["latest"] = quality / "latest.html"
    for target in (paths["report"], paths["latest"]):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)
    if data_docs and results:
        from expectations.data_docs import build_data_docs

        stages = [(r.stage, r.gx_result) for r in results if r.gx_result]
        paths["docs"] = build_data_docs(quality / "docs", run_id, stages)
    summary["report"] = str(paths["report"])
    summary["paths"] = {name: str(p) for name, p in paths.items()}
    paths["summary"] = run_dir / "summary.json"
    write_json(summary, paths["summary"])
    write_json(summary, quality / "latest.json")
    return paths
