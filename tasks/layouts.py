"""Text -> article records: layout detection from content, one parser per layout.

A parser returns `Parsed`: the records it could read plus record-level rejects.
A whole file that fits no layout raises `Unreadable`. Bodies come out as
paragraphs separated by one blank line; the clean stage normalises the rest.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tasks.decode import Unreadable

Mapping = dict[str, list[str]]
FIELDS = ("title", "date_raw", "url", "body")
_MAPPED = {"title": "title", "date_raw": "date", "url": "url", "body": "body"}

_DATED_FIRST_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*\S)\s*$")
_HEADED_DATE = re.compile(r"^\s*\d{8}\s*$")
_URL_LINE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:\S+\s*$")
_HTML_START = re.compile(r"^(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
# Pages saved without their <html>/<head> start with what would sit inside them;
# they count as HTML when a closing tag further on shows a real document.
_HTML_PART_START = re.compile(
    r"^<(meta|link|title|style|script|noscript|base|div|main|article|section|header|nav"
    r"|h[1-6]|p|table|form|iframe|span|center)\b",
    re.IGNORECASE,
)
_HTML_CLOSING_TAG = re.compile(
    r"</(html|head|body|title|div|main|article|section|p|h[1-6]|table|span)\s*>", re.IGNORECASE
)
# Comments, and an XHTML page's XML declaration, may come before its first tag.
_LEADING_HTML_COMMENTS = re.compile(r"\s*((<!--.*?-->|<\?xml.*?\?>)\s*)*", re.DOTALL)
_HTML_SCAN = 1 << 20
_CSV_NAME = re.compile(r"^[a-z_][a-z0-9_ .:\-]{0,40}$")
_MISSING = {"", "none", "null", "nan"}


@dataclass
class Parsed:
    """What one file yielded: records (dicts of FIELDS) and (index, rule, detail) rejects."""

    layout: str
    records: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)


def paragraphs(lines: list[str]) -> str:
    """Join lines into paragraphs: blank lines separate them, runs of blanks collapse."""
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return "\n\n".join(blocks)


def _is_plain(lines: list[str]) -> bool:
    return len(lines) >= 3 and bool(lines[0].strip()) and not lines[1].strip()


def _is_html(text: str) -> bool:
    """An HTML document, possibly after leading comments or without its <html>/<head>."""
    start = text[:_HTML_SCAN]
    comments = _LEADING_HTML_COMMENTS.match(start)
    head = start[comments.end() if comments else 0 :][:2048]
    if _HTML_START.match(head):
        return True
    return bool(_HTML_PART_START.match(head) and _HTML_CLOSING_TAG.search(start))


def detect_layout(text: str) -> str:
    """Name the layout of a decoded file from its content alone."""
    head = text.lstrip()[:2048]
    lines = text.split("\n", 3)
    from tasks.feeds import is_json_feed, xml_feed_layout, xml_root  # feeds builds on Parsed

    if head.startswith(("{", "[")):
        return "jsonfeed" if is_json_feed(text) else "json"
    feed = xml_feed_layout(text)
    if feed is not None:
        return feed
    if _is_html(text):
        return "html"
    if head.startswith("<?xml"):
        root = xml_root(text)
        named = f"<{root[0]}>" if root else "no root element"
        raise Unreadable("unknown_layout", f"an XML document ({named}), not a feed or a page")
    if _DATED_FIRST_LINE.match(lines[0]):
        return "dated"
    if len(lines) >= 3 and lines[0].strip() and _HEADED_DATE.match(lines[1]):
        return "headed"
    if _is_plain(lines):
        return "plain"
    if _csv_dialect(text) is not None:
        return "csv"
    raise Unreadable("unknown_layout", f"no known layout starts {lines[0][:80]!r}")


def parse(text: str, mappings: list[Mapping]) -> Parsed:
    """Detect the layout of `text` and parse it into records."""
    layout = detect_layout(text)
    if layout == "html":
        from tasks.html import parse_html  # tasks.html builds on Parsed from this module

        return parse_html(text)
    if layout in ("rss", "atom"):
        from tasks.feeds import parse_xml_feed

        return parse_xml_feed(text, layout)
    if layout == "jsonfeed":
        from tasks.feeds import parse_json_feed

        feed = parse_json_feed(text)
        if feed is not None:
            return feed
        layout = "json"  # it named JSON Feed's version but is not one: plain JSON
    if layout in ("json", "csv"):
        try:
            parsed = _parse_json(text, mappings) if layout == "json" else _parse_csv(text, mappings)
        except Unreadable as exc:
            # A plain article whose title starts with "[" or "{" is not broken JSON.
            if exc.rule != "invalid_json" or not _is_plain(text.split("\n", 3)):
                raise
            layout = "plain"
        else:
            if not parsed.records:
                raise Unreadable("no_records", f"the {layout} file holds no records")
            return parsed
    lines = text.split("\n")
    if layout == "dated":
        match = _DATED_FIRST_LINE.match(lines[0])
        assert match is not None
        record = {"title": match.group(2), "date_raw": match.group(1), "url": None}
        record["body"] = paragraphs(lines[1:])
    elif layout == "headed":
        has_url = len(lines) > 2 and bool(_URL_LINE.match(lines[2]))
        body_start = 3 if has_url else 2
        record = {
            "title": lines[0].strip(),
            "date_raw": lines[1].strip(),
            "url": lines[2].strip() if has_url else None,
            # One sentence per line and no paragraph breaks: each line stands alone.
            "body": "\n\n".join(ln.strip() for ln in lines[body_start:] if ln.strip()),
        }
    else:
        record = {"title": lines[0].strip(), "date_raw": None, "url": None}
        record["body"] = paragraphs(lines[2:])
    return Parsed(layout, [record])


def _value(raw: Any, name: str) -> str | None:
    """A mapped field's value as text; 'None'-like strings count as missing."""
    if raw is None or isinstance(raw, bool):
        if raw is None:
            return None
        raise Unreadable("wrong_type", f"{name} is a boolean")
    if isinstance(raw, str):
        return None if raw.strip().lower() in _MISSING else _text(raw, name)
    if isinstance(raw, float) and math.isnan(raw):
        return None  # a bare NaN (Python's json writes one for a missing float) is missing too
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return _text("\n\n".join(raw), name) or None
    raise Unreadable("wrong_type", f"{name} is a {type(raw).__name__}")


def _text(value: str, name: str) -> str:
    """`value`, unless it holds a lone surrogate (a JSON "\\ud800" escape) no file can store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unreadable("invalid_text", f"{name} has a lone surrogate at {exc.start}") from None
    return value


def map_record(obj: Any, mappings: list[Mapping]) -> dict[str, str | None]:
    """Map one JSON object or CSV row onto FIELDS with the mapping that fits it best."""
    if not isinstance(obj, dict):
        raise Unreadable("not_an_object", f"record is a {type(obj).__name__}")
    keys = {str(k).strip().lower(): k for k in obj}

    def source_keys(mapping: Mapping) -> dict[str, Any]:
        found = {}
        for out, src in _MAPPED.items():
            hit = next((keys[c] for c in mapping.get(src, []) if c.lower() in keys), None)
            if hit is not None:
                found[out] = hit
        return found

    best = max((source_keys(m) for m in mappings), key=len)  # max keeps the first on ties
    if not best:
        raise Unreadable("unmapped_fields", f"no article field among {sorted(keys)[:20]}")
    record = {out: _value(obj[best[out]], out) if out in best else None for out in FIELDS}
    if record["title"] is None and record["body"] is None:
        raise Unreadable("no_text", "title and body are both missing")
    if record["body"] is not None:
        record["body"] = field_paragraphs(record["body"])
    return record


def field_paragraphs(text: str) -> str:
    """Paragraphs of a body held in one JSON/CSV field.

    Crawlers such as news-please put one paragraph per line with no blank lines
    between; a text that has blank lines uses them as paragraph breaks instead.
    """
    lines = text.split("\n")
    if any(not line.strip() for line in lines[1:-1]):
        return paragraphs(lines)
    return "\n\n".join(line.strip() for line in lines if line.strip())


def _records(objects: list[Any], mappings: list[Mapping], layout: str) -> Parsed:
    parsed = Parsed(layout)
    for index, obj in enumerate(objects):
        try:
            parsed.records.append(map_record(obj, mappings))
        except Unreadable as exc:
            parsed.records.append({})  # keeps record_index aligned with the source
            parsed.rejects.append((index, exc.rule, exc.detail))
    return parsed


def _parse_json(text: str, mappings: list[Mapping]) -> Parsed:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as whole_error:
        return _parse_json_lines(text, mappings, whole_error)
    objects = data if isinstance(data, list) else [data]
    return _records(objects, mappings, "json")


# A record, or the reason it was rejected, at its index in the file.
RecordItem = tuple[int, dict[str, Any] | Unreadable]


def _mapped(obj: Any, mappings: list[Mapping]) -> dict[str, Any] | Unreadable:
    try:
        return map_record(obj, mappings)
    except Unreadable as exc:
        return exc


def jsonl_items(lines: Iterable[str], mappings: list[Mapping]) -> Iterator[RecordItem]:
    """One record (or reject) per non-blank line: for a whole text and for a stream alike."""
    index = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield index, Unreadable("invalid_json_line", str(exc)[:200])
        else:
            yield index, _mapped(obj, mappings)
        index += 1


def _parse_json_lines(text: str, mappings: list[Mapping], whole_error: Exception) -> Parsed:
    parsed = Parsed("jsonl")
    bad: list[tuple[int, str, str]] = []
    unmapped: list[tuple[int, str, str]] = []
    for index, item in jsonl_items(text.split("\n"), mappings):
        if isinstance(item, Unreadable):
            parsed.records.append({})  # keeps record_index aligned with the source
            rejects = bad if item.rule == "invalid_json_line" else unmapped
            rejects.append((index, item.rule, item.detail))
        else:
            parsed.records.append(item)
    if len(bad) == len(parsed.records):
        raise Unreadable("invalid_json", str(whole_error)[:200])
    parsed.rejects = bad + unmapped
    return parsed


def _csv_dialect(text: str) -> str | None:
    """The delimiter of a CSV whose header names an article field, else None."""
    header = text.split("\n", 1)[0]
    known = {"title", "headline", "body", "text", "content", "maintext", "article"}
    for delimiter in (",", ";", "\t"):
        try:
            names = next(csv.reader([header], delimiter=delimiter))
        except csv.Error:
            continue
        # Blank names are allowed: a trailing delimiter, or the index column pandas writes.
        names = [n.strip().lower() for n in names if n.strip()]
        if len(names) >= 2 and all(_CSV_NAME.match(n) for n in names) and known & set(names):
            return delimiter
    return None


def _csv_rows(lines: Iterable[str], delimiter: str) -> Iterator[dict[str, Any]]:
    csv.field_size_limit(sys.maxsize)
    try:
        for row in csv.DictReader(lines, delimiter=delimiter):
            row.pop(None, None)  # cells beyond the header
            yield row
    except csv.Error as exc:
        raise Unreadable("invalid_csv", str(exc)[:200]) from exc


def csv_items(lines: Iterable[str], mappings: list[Mapping]) -> Iterator[RecordItem]:
    """One record (or reject) per row of a CSV read line by line (a stream)."""
    lines = iter(lines)
    header = next(lines, "")
    delimiter = _csv_dialect(header)
    if delimiter is None:
        raise Unreadable("unknown_layout", f"no article field in the CSV header {header[:80]!r}")
    for index, row in enumerate(_csv_rows(itertools.chain([header], lines), delimiter)):
        yield index, _mapped(row, mappings)


def _parse_csv(text: str, mappings: list[Mapping]) -> Parsed:
    delimiter = _csv_dialect(text)
    assert delimiter is not None
    rows = list(_csv_rows(io.StringIO(text), delimiter))
    return _records(rows, mappings, "csv")
