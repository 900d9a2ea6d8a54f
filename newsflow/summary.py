"""The run summary people read (terminal, `newsflow report`, the flow run's log in the
Prefect UI) and the tables of the run's artifacts, from a run manifest: pure functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Row counts in the summary, each with the stage that makes it.
STAGES_COUNTED = {
    "records_in": "ingest",
    "ingested": "ingest",
    "cleaned": "clean",
    "passed_quality": "clean",
    "deduped": "dedupe",
    "enriched": "enrich",
}


# Unmapped source columns named in the summary (all are in the run manifest).
UNMAPPED_SHOWN = 8


def format_run(run: dict[str, Any]) -> str:
    """A run manifest as the summary people read at the end of a run."""
    timings = run["timings"]
    waited = timings.get("lock_wait_s", 0)
    wait = f"; waited {waited:.1f} s for the lake first" if waited else ""
    lines = [f"run {run['run_id']}  {run['status']}  ({timings.get('total_s', 0):.1f} s{wait})"]
    counts = run["counts"]
    lines.append(
        "  files:   "
        + ", ".join(
            f"{counts.get(k, 0)} {k.removeprefix('files_')}"
            for k in ("files_seen", "files_new", "files_unchanged", "files_quarantined")
        )
    )
    # deduped and enriched count the lake after those stages; a run that did not reach
    # them (nothing new, or stop_after) has no such count.
    ran = set(run.get("stages_run", STAGES_COUNTED))
    shown = [
        k
        for k, stage in STAGES_COUNTED.items()
        if stage in ran and (k in counts or k != "passed_quality")
    ]
    lines.append("  rows:    " + " -> ".join(f"{k} {counts.get(k, 0)}" for k in shown))
    if counts.get("metadata_only"):
        only, ingested = counts["metadata_only"], counts.get("ingested", 0)
        share = f" ({100 * only / ingested:.1f} % of ingested)" if ingested else ""
        lines.append(
            f"  metadata only: {only} records with a title or URL but no body{share}, "
            "in metadata_only/"
        )
    if counts.get("batches_rolled_back"):
        lines.append(
            f"  rolled back: the {counts['batches_rolled_back']} new batches of this run "
            "(no stage keeps their rows; the next run reads their files again)"
        )
    skipped = [s for s in ("clean", "dedupe", "enrich") if s not in ran]
    if skipped:
        lines.append(f"  not run this time: {', '.join(skipped)}")
    lines.append(f"  duplicates merged: {counts.get('duplicates', 0)}")
    for stage, rules in run["quarantined"].items():
        if rules:
            lines.append(
                f"  quarantined at {stage}: "
                + ", ".join(f"{n} {rule}" for rule, n in rules.items())
            )
    if run["removed_lines"]:
        lines.append(
            "  boilerplate removed: "
            + ", ".join(f"{n} {rule}" for rule, n in run["removed_lines"].items())
        )
    unmapped = run.get("unmapped_columns") or {}
    if unmapped:
        shown_columns = sorted(unmapped.items(), key=lambda item: -item[1]["rows"])
        lines.append(
            "  source columns no mapping uses: "
            + ", ".join(
                f"{name} ({c['rows']} rows"
                + (f", {c['text_like']} text-like)" if c["text_like"] else ")")
                for name, c in shown_columns[:UNMAPPED_SHOWN]
            )
            + (
                f" and {len(unmapped) - UNMAPPED_SHOWN} more"
                if len(unmapped) > UNMAPPED_SHOWN
                else ""
            )
        )
    lines += [f"  CRITICAL {line}" for line in run.get("mapping_failures", [])]
    quality = run.get("quality") or {}
    if quality:
        lines.append(
            f"  quality: {quality['expectations'] - quality['failed']}/{quality['expectations']}"
            f" expectations passed; report {quality['report']}"
        )
        lines += [f"  CRITICAL {line}" for line in quality["critical_failures"]]
    lines.append(f"  lake:    {run['lake']}  (manifest in runs/{run['run_id']}.json)")
    if run.get("ui_url"):
        lines.append(f"  ui:      {run['ui_url']}")
    return "\n".join(lines)


# Each count with the stage that makes it, in stage order; the stage's timing key.
COUNTS_BY_STAGE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "plan": (("files_seen", "files_new", "files_unchanged", "batches", "batches_cached"), ()),
    # Ingest, line statistics and clean overlap batch by batch: one time for the three.
    "ingest": (
        (
            "records_in",
            "ingested",
            "quarantined_records_at_ingest",
            "skipped_not_articles",
            "files_ingested",
            "files_quarantined",
        ),
        ("ingest_clean_s",),
    ),
    "clean": (("cleaned", "metadata_only", "quarantined_at_clean"), ()),
    "quality_gate": (("passed_quality", "quarantined_at_quality", "batches_rolled_back"), ()),
    "dedupe": (
        ("lake_cleaned", "dedupe_new", "deduped", "duplicates", "clusters_rewritten"),
        ("dedupe_s",),
    ),
    "enrich": (("enriched",), ("enrich_s",)),
    "quality_report": ((), ("quality_report_s",)),
}
STAGE_SECONDS = {"plan": "plan_s", "quality_gate": "quality_gate_s"}


def counts_table(counts: dict[str, int], timings: dict[str, float]) -> list[dict[str, Any]]:
    """The run-counts artifact: every count in stage order, the stage's seconds on its
    first row (ingest's covers clean, which overlaps it), then the run's total and any
    wait for the lake's lock, apart."""
    rows: list[dict[str, Any]] = []
    placed: set[str] = set()
    for stage, (names, timing_keys) in COUNTS_BY_STAGE.items():
        keys = [*timing_keys, STAGE_SECONDS.get(stage, "")]
        seconds = next((timings[k] for k in keys if k in timings), None)
        present = [n for n in names if n in counts]
        if not present and seconds is None:
            continue
        for i, name in enumerate(present or [""]):
            rows.append(
                {
                    "stage": stage,
                    "count": name,
                    "value": counts.get(name) if name else None,
                    "seconds": round(seconds, 2) if seconds is not None and i == 0 else None,
                }
            )
        placed.update(present)
    for name in sorted(set(counts) - placed):  # a count added later still shows
        rows.append({"stage": "other", "count": name, "value": counts[name], "seconds": None})
    for key, stage in (("total_s", "run (wall time)"), ("lock_wait_s", "waiting for the lake")):
        if key in timings:
            rows.append(
                {"stage": stage, "count": "", "value": None, "seconds": round(timings[key], 2)}
            )
    return rows


def failures_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quality artifact rows with the failed expectations on top (stage order kept)."""
    return sorted(rows, key=lambda row: bool(row.get("success")))


def quality_description(run_id: str, report: Path | str, rows: list[dict[str, Any]]) -> str:
    """The quality artifact's Markdown description: what failed, and a link to the report."""
    failed = sum(not row.get("success") for row in rows)
    verdict = (
        f"{failed} of {len(rows)} expectations failed (on top)"
        if failed
        else (f"all {len(rows)} expectations passed")
    )
    # A local file links as file://; a report on object storage is named by its URL.
    link = report.resolve().as_uri() if isinstance(report, Path) else report
    return f"newsflow run {run_id}: {verdict}. Report: [{report}]({link})"
