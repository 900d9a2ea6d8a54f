"""A self-contained HTML quality report: inline CSS, inline SVG charts, no scripts.

The stock GX Data Docs load Bootstrap, jQuery and fonts from CDNs and are unstyled
offline; this page needs nothing but itself, so it reads the same on an air-gapped
machine, as a CI artifact or attached to a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #e3e6ee}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1b7a3d}.fail{color:#b3261e;font-weight:600}.warn{color:#9a6700;font-weight:600}
.muted{color:#667}.badge{padding:.1em .5em;border-radius:.8em;font-size:.85em}
.critical{background:#fde7e5}.warning{background:#fff4d6}
svg text{font:12px system-ui,sans-serif}
"""
BAR_W = 360
ROW_H = 18
LABEL_W = 170


def _bar_chart(rows: Sequence[tuple[str, float, str]], unit: str, scale: float) -> str:
    """Horizontal bars: (label, value, colour); `scale` is the value of a full bar."""
    height = ROW_H * len(rows) + 4
    width = LABEL_W + BAR_W + 80
    parts = [f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, (label, value, colour) in enumerate(rows):
        y = i * ROW_H + 2
        length = 0 if scale <= 0 else max(1.0, BAR_W * value / scale) if value else 0
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 2}" width="{length:.1f}" height="{ROW_H - 5}" '
            f'fill="{colour}"><title>{escape(label)}: {value:g}{unit}</title></rect>'
            f'<text x="{LABEL_W + length + 5:.1f}" y="{y + 13}">{value:g}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _pass_rate_chart(summary: list[dict[str, Any]]) -> str:
    rows = [
        (
            r["expectation"],
            round(100.0 - r["unexpected_percent"], 2),
            "#2e8b57"
            if r["success"]
            else ("#c0392b" if r["severity"] == "critical" else "#d4a017"),
        )
        for r in summary
    ]
    return _bar_chart(rows, "%", 100.0)


def _quarantine_chart(summary: list[dict[str, Any]]) -> str:
    rows = [
        (r["expectation"], float(r["quarantined"]), "#7b5ea7") for r in summary if r["quarantined"]
    ]
    if not rows:
        return '<p class="muted">No rows quarantined at this stage.</p>'
    return _bar_chart(rows, "", max(v for _, v, _ in rows))


def _status(row: dict[str, Any]) -> str:
    if row["success"]:
        return '<span class="ok">pass</span>'
    css = "fail" if row["severity"] == "critical" else "warn"
    return f'<span class="{css}">fail</span>'


def _table(summary: list[dict[str, Any]]) -> str:
    head = (
        "<tr><th>expectation</th><th>level</th><th>severity</th><th>status</th>"
        "<th>unexpected %</th><th>unexpected</th><th>rows</th><th>quarantined</th>"
        "<th>detail</th></tr>"
    )
    body = "".join(
        f'<tr data-expectation="{escape(r["expectation"])}"><td>{escape(r["expectation"])}</td>'
        f"<td>{escape(r['level'])}</td>"
        f'<td><span class="badge {escape(r["severity"])}">{escape(r["severity"])}</span></td>'
        f"<td>{_status(r)}</td>"
        f'<td class="num unexpected-percent">{r["unexpected_percent"]:.2f}</td>'
        f'<td class="num">{r["unexpected_count"]}</td><td class="num">{r["element_count"]}</td>'
        f'<td class="num quarantined">{r["quarantined"]}</td>'
        f'<td class="muted">{escape(r["detail"])}</td></tr>'
        for r in summary
    )
    return f"<table>{head}{body}</table>"


def render_report(
    run_id: str, stages: list[dict[str, Any]], docs_note: str, records_note: str | None = None
) -> str:
    """The report page for one run; `stages` are StageValidation.to_json() dicts;
    `records_note` says what part of the run's records no suite past ingested saw."""
    records = ""
    if records_note:
        records = f'<p id="metadata-only"><b>Metadata only:</b> {escape(records_note)}.</p>'

    overview = "".join(
        f'<tr data-stage="{escape(s["stage"])}"><td>{escape(s["stage"])}</td>'
        f'<td class="num">{s["rows"]}</td>'
        f'<td class="num">{sum(1 for r in s["summary"] if r["success"])}/{len(s["summary"])}</td>'
        f'<td class="num critical-failures">'
        f"{sum(1 for r in s['summary'] if r['severity'] == 'critical' and not r['success'])}</td>"
        f'<td class="num stage-quarantined">{len(s["quarantine"])}</td></tr>'
        for s in stages
    )
    sections = "".join(
        f'<section id="stage-{escape(s["stage"])}"><h2>{escape(s["stage"])}</h2>'
        f'<p class="muted">{s["rows"]} rows validated in {s["seconds"]:.2f} s '
        f"(run date {escape(s['run_date'])}).</p>"
        f"<h3>Pass rate per expectation</h3>{_pass_rate_chart(s['summary'])}"
        f"<h3>Quarantined rows per rule</h3>{_quarantine_chart(s['summary'])}"
        f"{_table(s['summary'])}</section>"
        for s in stages
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>newsflow quality: {escape(run_id)}</title><style>{CSS}</style></head><body>"
        f'<h1>Data quality</h1><p class="muted">Run <code id="run-id">{escape(run_id)}</code>. '
        "Pass rate = share of checked rows that met the expectation; a critical failure "
        "fails the run, a row-level rule marked quarantine moves its failing rows to "
        f"quarantine/.</p>"
        "<table><tr><th>stage</th><th>rows</th><th>expectations passed</th>"
        f"<th>critical failures</th><th>quarantined rows</th></tr>{overview}</table>{records}"
        f'{sections}<p class="muted">{escape(docs_note)}</p></body></html>'
    )
