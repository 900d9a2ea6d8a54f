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
table.rows td{max-width:32em;overflow-wrap:anywhere;font-size:.92em;vertical-align:top}
table.example td:first-child,table.quarantined td:last-child{font:.85em ui-monospace,monospace}
table.rows tr:nth-child(even){background:#f6f7fa}
.failure,.quarantine{margin:1em 0 1.6em}h3{margin:.3em 0;font-size:1.08em}
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
        return (
            '<p class="muted">No row quarantined by this stage\'s expectations (files and '
            "records quarantined at ingest and clean: see above).</p>"
        )
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


def _rows(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="muted">null</td>'
    return f"<td>{escape(str(value))}</td>"


def _rows_table(
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    css: str,
    headings: dict[str, str] | None = None,
) -> str:
    named = headings or {}
    head = "".join(
        f'<th class="{escape(c)}">{escape(named.get(c, c.replace("_", " ")))}</th>' for c in columns
    )
    body = "".join(
        f'<tr class="{css}">{"".join(_cell(r.get(c)) for c in columns)}</tr>' for r in rows
    )
    return f'<table class="rows {css}"><tr>{head}</tr>{body}</table>'


EXAMPLE_COLUMNS = ("doc_id", "title", "source_file", "value")
QUARANTINE_COLUMNS = ("source_file", "record_index", "detail", "doc_id")


def _failures(stages: list[dict[str, Any]], rows_link: str | None, rows_path: str | None) -> str:
    """Each expectation with failing rows, failed ones first, with example rows."""
    found = [(s, r) for s in stages for r in s["summary"] if r["unexpected_count"]]
    found.sort(key=lambda sr: (sr[1]["success"], sr[1]["severity"] != "critical"))
    if not found:
        return '<p class="ok">No row failed an expectation.</p>'
    where = (
        f'All of them: <a href="{escape(rows_link)}">failing_rows.parquet</a> '
        "(stage, rule, doc_id, title, source_file, column, value), at "
        f"<code>{escape(rows_path or rows_link)}</code>."
        if rows_link
        else ""
    )
    parts = [f'<p class="muted">{where}</p>']
    for stage, row in found:
        examples = stage.get("failing_examples", {}).get(row["expectation"], [])
        # Every row of a rule failed on the same column: named once, in the heading.
        column = next((e["column"] for e in examples if e.get("column")), None)
        value = {"value": f"value of {column}" if column else "value"}
        more = row["unexpected_count"] - len(examples)
        rest = f" and {more} more" if more > 0 else ""
        parts.append(
            f'<div class="failure" data-stage="{escape(stage["stage"])}" '
            f'data-expectation="{escape(row["expectation"])}">'
            f"<h3>{escape(stage['stage'])} · {escape(row['expectation'])} {_status(row)} "
            f'<span class="badge {escape(row["severity"])}">{escape(row["severity"])}</span></h3>'
            f'<p class="muted">{escape(row["detail"])}. {_rows(len(examples), "example row")}'
            f"{rest}.</p>"
            f"{_rows_table(EXAMPLE_COLUMNS, examples, 'example', value) if examples else ''}"
            "</div>"
        )
    return "".join(parts)


def _quarantine(quarantine: list[dict[str, Any]]) -> str:
    """The run's quarantined files and records, by stage and rule, with examples."""
    if not quarantine:
        return '<p class="ok">Nothing was quarantined in this run.</p>'
    overview = "".join(
        f'<tr><td>{escape(q["stage"])}</td><td>{escape(q["rule"])}</td><td class="num">'
        f"{q['rows']}</td></tr>"
        for q in quarantine
    )
    parts = [f"<table><tr><th>stage</th><th>rule</th><th>rows</th></tr>{overview}</table>"]
    for q in quarantine:
        parts.append(
            f'<div class="quarantine" data-stage="{escape(q["stage"])}" '
            f'data-rule="{escape(q["rule"])}"><h3>{escape(q["stage"])} · {escape(q["rule"])} '
            f'<span class="muted">({_rows(q["rows"], "row")})</span></h3>'
            f"{_rows_table(QUARANTINE_COLUMNS, q['examples'], 'quarantined')}</div>"
        )
    return "".join(parts)


SPARK_W, SPARK_H = 160, 28


def _sparkline(runs: Sequence[str], rates: Sequence[float | None]) -> str:
    """Pass rate per run as a line (0 at the bottom unless all rates sit above 90 %)."""
    known = [r for r in rates if r is not None]
    low = 90.0 if known and min(known) >= 90 else 0.0
    step = SPARK_W / max(len(rates) - 1, 1)
    points = [
        (i * step, SPARK_H - 3 - (SPARK_H - 6) * (r - low) / (100 - low), run, r)
        for i, (run, r) in enumerate(zip(runs, rates, strict=True))
        if r is not None
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 if i == len(points) - 1 else 2}" '
        f'fill="#456"><title>{escape(run)}: {r:g}%</title></circle>'
        for i, (x, y, run, r) in enumerate(points)
    )
    return (
        f'<svg class="spark" width="{SPARK_W + 6}" height="{SPARK_H}" '
        f'viewBox="-3 0 {SPARK_W + 6} {SPARK_H}"><line x1="0" x2="{SPARK_W}" y1="3" y2="3" '
        f'stroke="#dde"/><polyline points="{line}" fill="none" stroke="#456" '
        f'stroke-width="1.5"/>{dots}</svg>'
    )


def _history(history: dict[str, Any] | None) -> str:
    """Pass rate of each expectation over the last runs; the ones that were ever below
    100 % first and drawn, the others counted."""
    if not history or not history["rates"]:
        return '<p class="muted">No earlier run with quality results.</p>'
    runs, rates = history["runs"], history["rates"]
    moved = {k: v for k, v in rates.items() if any(r is not None and r < 100 for r in v)}
    clean = len(rates) - len(moved)
    rows = "".join(
        f'<tr data-expectation="{escape(name)}"><td>{escape(name)}</td>'
        f"<td>{_sparkline(runs, values)}</td>"
        f'<td class="num">{_last(values)}</td><td class="num">'
        f"{min(v for v in values if v is not None):.1f}</td></tr>"
        for name, values in sorted(moved.items(), key=lambda kv: _worst(kv[1]))
    )
    table = (
        f'<table class="history"><tr><th>expectation</th><th>pass rate, last {len(runs)} runs '
        f"(oldest left)</th><th>this run %</th><th>lowest %</th></tr>{rows}</table>"
        if moved
        else ""
    )
    note = f"{clean} expectations passed every row in each of these runs." if clean else ""
    span = f"Runs {escape(runs[0])} to {escape(runs[-1])}."
    return f'{table}<p class="muted">{span} {note}</p>'


def _last(values: Sequence[float | None]) -> str:
    return "–" if values[-1] is None else f"{values[-1]:.1f}"


def _worst(values: Sequence[float | None]) -> float:
    return min(v for v in values if v is not None)


def render_report(
    run_id: str,
    stages: list[dict[str, Any]],
    docs_note: str,
    records_note: str | None = None,
    *,
    quarantine: list[dict[str, Any]] | None = None,
    history: dict[str, Any] | None = None,
    rows_link: str | None = None,
    rows_path: str | None = None,
) -> str:
    """The report page for one run; `stages` are StageValidation.to_json() dicts;
    `records_note` says what part of the run's records no suite past ingested saw;
    `quarantine` the run's quarantined rows by stage and rule (`quarantine_by_rule`),
    `history` pass rates per expectation over the last runs (`pass_rate_history`),
    `rows_link` where every failing row is, relative to the page (`rows_path`: the
    path to show)."""
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
        f'<section id="failures"><h2>Failing rows</h2>'
        f"{_failures(stages, rows_link, rows_path)}</section>"
        f'<section id="quarantine"><h2>Quarantined in this run</h2>'
        f"{_quarantine(quarantine or [])}</section>"
        f'<section id="history"><h2>History</h2>{_history(history)}</section>'
        f'{sections}<p class="muted">{escape(docs_note)}</p></body></html>'
    )
