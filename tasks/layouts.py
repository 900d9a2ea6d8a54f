"""Text -> article records: one registry entry per layout (`LAYOUTS`).

An entry says how a layout is recognised from content alone, which parser reads it,
and what its records carry (a date, a URL, the source's paragraph order). Adding a
layout is one entry here, with its detector and parser (in this module or their own,
as tasks/html.py and tasks/feeds.py are). Detection tries the entries in order and the
first that matches wins, so an entry goes before any that would also take its files.

A parser returns `Parsed`: the records it could read plus record-level rejects.
A whole file that fits no layout raises `Unreadable`. Bodies come out as
paragraphs separated by one blank line; the clean stage normalises the rest.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from newsflow.config import MAPPING_FIELDS
from tasks.authors import author_names, tag_list
from tasks.decode import Unreadable
from tasks.feeds import is_json_feed, parse_json_feed, parse_xml_feed, xml_feed_layout, xml_root
from tasks.html import parse_html
from tasks.parsed import Parsed, Record, RecordItem, field_paragraphs, paragraphs
from tasks.unmapped import ColumnCounts, count_values

Mapping = dict[str, list[str]]
Parser = Callable[[str, list[Mapping]], Parsed]
FIELDS = ("title", "date_raw", "url", "body")
# What JSON/CSV records carry besides FIELDS: the source's own metadata.
SOURCE_FIELDS = tuple(
    f for f in MAPPING_FIELDS if f not in ("title", "date", "url", "body", "ignore")
)
LIST_FIELDS = ("authors", "tags")
# Record field -> the name a field mapping gives it.
_MAPPED = {"title": "title", "date_raw": "date", "url": "url", "body": "body"}
_MAPPED |= {name: name for name in SOURCE_FIELDS}
# A CSV cell holding a serialised object (pandas writes NewsAPI's `source` dict so).
_EMBEDDED_OBJECT_CHARS = 4096
_ABSENT = object()  # a name that finds nothing (None is a value: JSON null)

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


# -- recognising a layout -----------------------------------------------------------------


class Probe:
    """A decoded file being recognised: what several detectors look at, computed once."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def head(self) -> str:
        return self.text.lstrip()[:2048]

    @cached_property
    def lines(self) -> list[str]:
        """The first three lines, and the rest of the text as a fourth."""
        return self.text.split("\n", 3)

    @cached_property
    def xml_feed(self) -> str | None:
        return xml_feed_layout(self.text)

    @cached_property
    def is_html(self) -> bool:
        return _is_html(self.text)


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


def _is_json(probe: Probe) -> bool:
    return probe.head.startswith(("{", "["))


def _is_headed(probe: Probe) -> bool:
    lines = probe.lines
    return len(lines) >= 3 and bool(lines[0].strip()) and bool(_HEADED_DATE.match(lines[1]))


def _refuse_other_xml(probe: Probe) -> None:
    """XML that is neither a feed nor a page is no layout: refused before the text
    layouts could read its lines as a plain article."""
    if probe.head.startswith("<?xml") and probe.xml_feed is None and not probe.is_html:
        root = xml_root(probe.text)
        named = f"<{root[0]}>" if root else "no root element"
        raise Unreadable("unknown_layout", f"an XML document ({named}), not a feed or a page")


# -- reading a layout ---------------------------------------------------------------------


def _parse_json_feed(text: str, mappings: list[Mapping]) -> Parsed:
    feed = parse_json_feed(text)
    # A file that names JSON Feed's version but is not one is read as plain JSON.
    return feed if feed is not None else _whole_file("json", _parse_json, text, mappings)


def _parse_json_layout(text: str, mappings: list[Mapping]) -> Parsed:
    return _whole_file("json", _parse_json, text, mappings)


def _parse_csv_layout(text: str, mappings: list[Mapping]) -> Parsed:
    return _whole_file("csv", _parse_csv, text, mappings)


def _whole_file(layout: str, read: Parser, text: str, mappings: list[Mapping]) -> Parsed:
    """A JSON or CSV file's records; a file of none is unreadable."""
    try:
        parsed = read(text, mappings)
    except Unreadable as exc:
        # A plain article whose title starts with "[" or "{" is not broken JSON.
        if exc.rule != "invalid_json" or not _is_plain(text.split("\n", 3)):
            raise
        return _parse_plain(text, mappings)
    if not parsed.records:
        raise Unreadable("no_records", f"the {layout} file holds no records")
    return parsed


def _parse_dated(text: str, mappings: list[Mapping]) -> Parsed:
    """`date 2021-12-08 Title` on the first line, then the body."""
    lines = text.split("\n")
    match = _DATED_FIRST_LINE.match(lines[0])
    assert match is not None
    record = {"title": match.group(2), "date_raw": match.group(1), "url": None}
    record["body"] = paragraphs(lines[1:])
    return Parsed("dated", [record])


def _parse_headed(text: str, mappings: list[Mapping]) -> Parsed:
    """Title, a yyyymmdd date, an optional URL line, then one sentence per line."""
    lines = text.split("\n")
    has_url = len(lines) > 2 and bool(_URL_LINE.match(lines[2]))
    body_start = 3 if has_url else 2
    record = {
        "title": lines[0].strip(),
        "date_raw": lines[1].strip(),
        "url": lines[2].strip() if has_url else None,
        # One sentence per line and no paragraph breaks: each line stands alone.
        "body": "\n\n".join(ln.strip() for ln in lines[body_start:] if ln.strip()),
    }
    return Parsed("headed", [record])


def _parse_plain(text: str, mappings: list[Mapping]) -> Parsed:
    """A title line, a blank line, then the body."""
    lines = text.split("\n")
    record = {"title": lines[0].strip(), "date_raw": None, "url": None}
    record["body"] = paragraphs(lines[2:])
    return Parsed("plain", [record])


# -- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A file layout: how to recognise it, how to read it, what its records carry."""

    name: str
    # Whether a decoded file is this layout; None for a layout only another reader
    # yields (see `parse`), which detection never names.
    detect: Callable[[Probe], bool] | None
    parse: Parser | None
    carries_date: bool
    carries_url: bool
    # False where the body is a bag of (possibly shuffled) sentences: dedupe's merge
    # then prefers any other copy's body (tasks/merge.py).
    keeps_paragraph_order: bool = True


# In detection order: the first entry whose detector matches names the layout.
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "jsonfeed",
        lambda p: _is_json(p) and is_json_feed(p.text),
        _parse_json_feed,
        carries_date=True,
        carries_url=True,
    ),
    Layout("json", _is_json, _parse_json_layout, carries_date=True, carries_url=True),
    Layout(
        "rss",
        lambda p: p.xml_feed == "rss",
        lambda text, _: parse_xml_feed(text, "rss"),
        carries_date=True,
        carries_url=True,
    ),
    Layout(
        "atom",
        lambda p: p.xml_feed == "atom",
        lambda text, _: parse_xml_feed(text, "atom"),
        carries_date=True,
        carries_url=True,
    ),
    Layout(
        "html",
        lambda p: p.is_html,
        lambda text, _: parse_html(text),
        carries_date=True,
        carries_url=True,
    ),
    Layout(
        "dated",
        lambda p: bool(_DATED_FIRST_LINE.match(p.lines[0])),
        _parse_dated,
        carries_date=True,
        carries_url=False,
    ),
    Layout(
        "headed",
        _is_headed,
        _parse_headed,
        carries_date=True,
        carries_url=True,
        keeps_paragraph_order=False,
    ),
    Layout(
        "plain",
        lambda p: _is_plain(p.lines),
        _parse_plain,
        carries_date=False,
        carries_url=False,
    ),
    Layout(
        "csv",
        lambda p: _csv_dialect(p.text) is not None,
        _parse_csv_layout,
        carries_date=True,
        carries_url=True,
    ),
    # JSON Lines: what the json parser yields for one object per line (and what large
    # files are streamed as, tasks/streams.py).
    Layout("jsonl", None, None, carries_date=True, carries_url=True),
    # Web archives, recognised by their bytes and read record by record (tasks/warc.py).
    Layout("warc", None, None, carries_date=True, carries_url=True),
)
_BY_NAME = {layout.name: layout for layout in LAYOUTS}
# Layouts whose records carry a date / a URL field (SPEC §2): the quality suites ask
# only their rows for one.
DATE_LAYOUTS = tuple(layout.name for layout in LAYOUTS if layout.carries_date)
URL_LAYOUTS = tuple(layout.name for layout in LAYOUTS if layout.carries_url)
SHUFFLED_LAYOUTS = tuple(layout.name for layout in LAYOUTS if not layout.keeps_paragraph_order)


def detect_layout(text: str) -> str:
    """Name the layout of a decoded file from its content alone."""
    probe = Probe(text)
    _refuse_other_xml(probe)
    for layout in LAYOUTS:
        if layout.detect is not None and layout.detect(probe):
            return layout.name
    raise Unreadable("unknown_layout", f"no known layout starts {probe.lines[0][:80]!r}")


def parse(text: str, mappings: list[Mapping]) -> Parsed:
    """Detect the layout of `text` and parse it into records."""
    read = _BY_NAME[detect_layout(text)].parse
    assert read is not None  # every detected layout has a parser
    return read(text, mappings)


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


def _embedded_object(value: str) -> Any:
    """The object a CSV cell serialised (JSON or Python's repr), else the string."""
    text = value.strip()
    if not (text.startswith("{") and text.endswith("}")) or len(text) > _EMBEDDED_OBJECT_CHARS:
        return value
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)  # literals only: never runs code
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value


@dataclass(frozen=True)
class CompiledMapping:
    """A field mapping with its names lower-cased and split at the first dot, once."""

    mapping: Mapping
    # (record field, ((name, head, rest), ...)) in the order names are tried.
    fields: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]
    # Top-level source keys (lower case) the mapping names, in any field or `ignore`.
    named: frozenset[str]


def compiled(mappings: list[Mapping]) -> list[CompiledMapping]:
    """`mappings` ready to match many records: once per file, not once per record.
    A mapping's `ignore` list only adds to the keys it names."""
    result = []
    for mapping in mappings:
        fields = tuple(
            (out, tuple(_split_name(n) for n in mapping.get(src, [])))
            for out, src in _MAPPED.items()
        )
        names = {n.strip().lower() for names in mapping.values() for n in names}
        named = frozenset(names | {n.partition(".")[0] for n in names})
        result.append(CompiledMapping(mapping, fields, named))
    return result


def _split_name(name: str) -> tuple[str, str, str]:
    wanted = name.strip().lower()
    head, _, rest = wanted.partition(".")
    return wanted, head, rest


def _lookup(obj: dict[Any, Any], keys: dict[str, Any], name: tuple[str, str, str]) -> Any:
    """The value `name` (name, head, rest) names in `obj`, case-insensitively, else _ABSENT.

    A key spelt as the name wins (a CSV column "source.name"); otherwise a dotted name is
    a path into nested objects ("source.name" -> obj["source"]["name"]).
    """
    wanted, head, rest = name
    if wanted in keys:
        return obj[keys[wanted]]
    if not rest or head not in keys:
        return _ABSENT
    inner = obj[keys[head]]
    if isinstance(inner, str):
        inner = _embedded_object(inner)
    if not isinstance(inner, dict):
        return _ABSENT
    return _lookup(inner, {str(k).strip().lower(): k for k in inner}, _split_name(rest))


def _usable(out: str, value: Any) -> bool:
    """Whether `value` can fill `out`. Article fields take any value (a wrong type rejects
    the record); source fields skip a value of the wrong shape for the next name."""
    if out in FIELDS or value is None:
        return True
    if out in LIST_FIELDS:
        return isinstance(value, str | list)
    if out == "fetched_at":
        return isinstance(value, str)
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _found(obj: dict[Any, Any], keys: dict[str, Any], mapping: CompiledMapping) -> dict[str, Any]:
    """Record field -> source value, for the fields `mapping` finds in `obj`."""
    found: dict[str, Any] = {}
    for out, names in mapping.fields:
        for name in names:
            value = _lookup(obj, keys, name)
            if value is _ABSENT or not _usable(out, value):
                continue
            if out not in found or _is_missing(found[out]):
                found[out] = value  # a later name fills a field the first left empty
            if not _is_missing(value):
                break
    return found


def _is_missing(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _MISSING
    return value is None or value == []


def _list_value(raw: Any, out: str) -> list[str]:
    if raw is None:
        return []
    values = author_names(raw) if out == "authors" else tag_list(raw)
    return [_text(v, out) for v in values]


def fetched_time(raw: Any) -> dt.datetime | None:
    """An ISO 8601 fetch time (news-please's date_download) in UTC; a time without an
    offset is taken as UTC (crawlers write their clock's time); anything else is None."""
    if not isinstance(raw, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.strip())
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # not ISO 8601, or beyond year 1..9999 in UTC
        return None


def best_mapping(
    obj: dict[Any, Any], keys: dict[str, Any], mappings: list[CompiledMapping]
) -> tuple[dict[str, Any], CompiledMapping]:
    """The fields found and the mapping that finds most of them (the first on ties):
    most of FIELDS first, so a mapping rich in metadata never costs a body or a date.
    `keys`: the object's keys by their lower-case names."""
    candidates = [(_found(obj, keys, m), m) for m in mappings]
    return max(candidates, key=lambda c: (sum(out in c[0] for out in FIELDS), len(c[0])))


def mapped_record(obj: Any, mappings: list[CompiledMapping]) -> tuple[Record, dict[Any, Any]]:
    """`obj` mapped onto FIELDS + SOURCE_FIELDS with the mapping that finds most fields
    (the first on ties), and the source keys that mapping does not name."""
    if not isinstance(obj, dict):
        raise Unreadable("not_an_object", f"record is a {type(obj).__name__}")
    keys = {str(k).strip().lower(): k for k in obj}
    best, mapping = best_mapping(obj, keys, mappings)
    if not any(out in best for out in FIELDS):
        raise Unreadable("unmapped_fields", f"no article field among {sorted(keys)[:20]}")
    record: Record = {out: _value(best[out], out) if out in best else None for out in FIELDS}
    # A title or a URL alone is a metadata-only record (clean files it apart).
    if record["title"] is None and record["body"] is None and record["url"] is None:
        raise Unreadable("no_text", "title, body and URL are all missing")
    if record["body"] is not None:
        record["body"] = field_paragraphs(record["body"])
    for out in SOURCE_FIELDS:
        raw = best.get(out)
        if out in LIST_FIELDS:
            record[out] = _list_value(raw, out)
        elif out == "fetched_at":
            record[out] = fetched_time(raw)
        else:
            record[out] = _value(raw, out)
    unmapped = {k: v for k, v in obj.items() if str(k).strip().lower() not in mapping.named}
    return record, unmapped


def map_record(obj: Any, mappings: list[Mapping]) -> Record:
    """Map one JSON object or CSV row onto FIELDS + SOURCE_FIELDS (see `mapped_record`)."""
    return mapped_record(obj, compiled(mappings))[0]


def _records(objects: list[Any], mappings: list[Mapping], layout: str) -> Parsed:
    parsed = Parsed(layout)
    tried = compiled(mappings)
    for index, obj in enumerate(objects):
        try:
            record, unmapped = mapped_record(obj, tried)
            parsed.records.append(record)
            count_values(parsed.unmapped_columns, unmapped)
        except Unreadable as exc:
            parsed.records.append({})  # keeps record_index aligned with the source
            parsed.rejects.append((index, exc.rule, exc.detail))
    return parsed


def _parse_json(text: str, mappings: list[Mapping]) -> Parsed:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as whole_error:
        return _parse_json_lines(text, mappings, whole_error)
    objects = data if isinstance(data, list) else _enveloped(data, mappings)
    return _records(objects, mappings, "json")


def _enveloped(data: Any, mappings: list[Mapping]) -> list[Any]:
    """The records of an API response such as NewsAPI's {"status", "articles": [...]}:
    an object with no article field and one list of objects. Else the object itself."""
    if not isinstance(data, dict):
        return [data]
    keys = {str(k).strip().lower(): k for k in data}
    if any(out in FIELDS for m in compiled(mappings) for out in _found(data, keys, m)):
        return [data]
    lists = [v for v in data.values() if isinstance(v, list) and v]
    if len(lists) == 1 and all(isinstance(item, dict) for item in lists[0]):
        return lists[0]
    return [data]


def _mapped(obj: Any, tried: list[CompiledMapping], unmapped: ColumnCounts) -> Record | Unreadable:
    try:
        record, columns = mapped_record(obj, tried)
    except Unreadable as exc:
        return exc
    count_values(unmapped, columns)
    return record


def jsonl_items(
    lines: Iterable[str], mappings: list[Mapping], unmapped: ColumnCounts
) -> Iterator[RecordItem]:
    """One record (or reject) per non-blank line: for a whole text and for a stream alike.
    Source columns no mapping names are counted into `unmapped` as the lines go."""
    tried = compiled(mappings)
    index = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield index, Unreadable("invalid_json_line", str(exc)[:200])
        else:
            yield index, _mapped(obj, tried, unmapped)
        index += 1


def _parse_json_lines(text: str, mappings: list[Mapping], whole_error: Exception) -> Parsed:
    parsed = Parsed("jsonl")
    bad: list[tuple[int, str, str]] = []
    unmapped: list[tuple[int, str, str]] = []
    for index, item in jsonl_items(text.split("\n"), mappings, parsed.unmapped_columns):
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


def csv_items(
    lines: Iterable[str], mappings: list[Mapping], unmapped: ColumnCounts
) -> Iterator[RecordItem]:
    """One record (or reject) per row of a CSV read line by line (a stream); columns no
    mapping names are counted into `unmapped`."""
    tried = compiled(mappings)
    lines = iter(lines)
    header = next(lines, "")
    delimiter = _csv_dialect(header)
    if delimiter is None:
        raise Unreadable("unknown_layout", f"no article field in the CSV header {header[:80]!r}")
    for index, row in enumerate(_csv_rows(itertools.chain([header], lines), delimiter)):
        yield index, _mapped(row, tried, unmapped)


def _parse_csv(text: str, mappings: list[Mapping]) -> Parsed:
    delimiter = _csv_dialect(text)
    assert delimiter is not None
    rows = list(_csv_rows(io.StringIO(text), delimiter))
    return _records(rows, mappings, "csv")
