"""Hostile input, parser by parser, then whole files on disk.

tests/property/test_ingest_fuzz.py throws random files at `read_file` and checks
that each is parsed or rejected. Here each stage of reading gets inputs built to
hit its own edge cases (wrong encodings and byte-order marks for decoding, damaged
streams for decompression, near-valid text for each layout parser, tag soup for
the HTML extractor, hostile URLs for canonicalisation), with properties beyond
"no crash": decoded text is storable, rejects name a known rule and the field
that failed, nothing acceptable is rejected. The last tests ingest real hostile
folders (empty files, folders named like files, links out of the folder, FIFOs,
gigantic lines, decompression bombs) under a hang guard and a memory bound.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, InputFile, list_inputs, plan_batches
from newsflow.lake import Lake
from newsflow.schema import QUARANTINE
from tasks.decode import Unreadable, decode_text, decompress
from tasks.html import parse_html
from tasks.ingest import IngestResult, ingest_files
from tasks.layouts import FIELDS, SOURCE_FIELDS, detect_layout, map_record, parse
from tasks.parsed import Parsed
from tasks.urls import canonical_url
from tests.reliability.guards import peak_memory, time_limit

LIMIT = 256 * 1024
CONFIG = PipelineConfig(max_file_bytes=LIMIT)
MAPPINGS = CONFIG.mappings()
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Decoded text never holds a lone surrogate (the decode test checks it), so the text
# parsers are fed none; JSON's "\\ud800" escapes are fuzzed where JSON is parsed.
CHARS = st.characters(exclude_categories=["Cs"])
LINE_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\n\r")

LAYOUTS = {"headed", "dated", "plain", "json", "jsonl", "csv", "html"}
FILE_RULES = {
    "empty_file",
    "binary_content",
    "undecodable",
    "corrupt_compression",
    "too_large",
    "unknown_layout",
    "invalid_json",
    "invalid_csv",
    "no_records",
    "no_main_text",
    "html_unparseable",
    "outside_input_root",
    "unreadable_file",
}
RECORD_RULES = {
    "invalid_json_line",
    "not_an_object",
    "wrong_type",
    "invalid_text",
    "unmapped_fields",
    "no_text",
}
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "bz2": bz2.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


def outcome(read: Callable[[], Any]) -> Any:
    """`read()` under the hang guard; `Unreadable` is an outcome, anything else fails."""
    with time_limit():
        try:
            return read()
        except Unreadable as exc:
            rejected = exc
    assert rejected.rule in FILE_RULES | RECORD_RULES, rejected.rule
    assert isinstance(rejected.detail, str)
    return rejected


def assert_storable(value: str | list[str] | None) -> None:
    """Parquet stores UTF-8: a lone surrogate would fail the whole batch's write."""
    for text in value if isinstance(value, list) else [value]:
        if text is not None:
            assert isinstance(text, str)
            text.encode("utf-8")


def assert_well_formed(parsed: Parsed) -> None:
    assert parsed.layout in LAYOUTS
    rejected = {index for index, _, _ in parsed.rejects}
    assert all(rule in RECORD_RULES for _, rule, _ in parsed.rejects)
    assert all(0 <= index < len(parsed.records) for index in rejected)
    for index, record in enumerate(parsed.records):
        if index in rejected:
            continue
        assert set(FIELDS) <= set(record) <= {*FIELDS, *SOURCE_FIELDS}
        assert (
            record["title"] is not None
            or record["body"] is not None
            or record["url"] is not None
            or parsed.layout
            in {
                "headed",
                "dated",
                "plain",
            }
        )
        for value in record.values():
            assert_storable(value)


# --- decode: bytes -> text ------------------------------------------------------------------

ENCODINGS = [
    "utf-8",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp1252",
    "latin-1",
    "koi8_r",
    "shift_jis",
    "gb18030",
    "iso8859_7",
    "mac_roman",
    "cp437",
]
BOMS = [b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]


@st.composite
def misencoded(draw: st.DrawFn) -> bytes:
    """Text in some encoding, behind a byte-order mark that may not match, maybe with NULs."""
    text = draw(st.text(alphabet=CHARS, max_size=300))
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    data = draw(st.sampled_from(BOMS)) + data
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    return data


@FUZZ
@given(data=misencoded())
def test_decoded_text_is_storable_text_or_a_reason(data: bytes) -> None:
    result = outcome(lambda: decode_text(data))
    if isinstance(result, Unreadable):
        assert result.rule in {"empty_file", "binary_content", "undecodable"}
        return
    text, encoding = result
    assert encoding
    assert text.strip()
    assert "\r" not in text
    assert_storable(text)


@FUZZ
@given(text=st.text(alphabet=CHARS, min_size=1, max_size=500).filter(lambda t: "\x00" not in t))
def test_utf8_text_decodes_to_itself(text: str) -> None:
    data = text.encode("utf-8")
    assume(not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")))
    result = outcome(lambda: decode_text(data))
    if not isinstance(result, Unreadable):
        assert result == (text.replace("\r\n", "\n").replace("\r", "\n"), "utf-8")


# --- decompress: damaged streams -----------------------------------------------------------


@FUZZ
@given(
    payload=st.binary(max_size=4096),
    kind=st.sampled_from(sorted(COMPRESSORS)),
    cut=st.none() | st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=3),
    tail=st.binary(max_size=16),
)
def test_damaged_compressed_data_decompresses_within_the_limit_or_is_corrupt(
    payload: bytes, kind: str, cut: float | None, flips: list[tuple[float, int]], tail: bytes
) -> None:
    data = bytearray(COMPRESSORS[kind](payload))
    damaged = bool(cut is not None or flips or tail)
    if cut is not None:
        data = data[: int(len(data) * cut)]
    for where, mask in flips:
        if data:
            data[min(int(len(data) * where), len(data) - 1)] ^= mask
    data += tail
    result = outcome(lambda: decompress(bytes(data), 1024))
    if isinstance(result, Unreadable):
        assert result.rule in {"corrupt_compression", "too_large"}
        assert damaged or len(payload) > 1024
        return
    out, _ = result
    assert len(out) <= 1024
    if not damaged:
        assert out == payload


# --- layout detection and the text parsers ------------------------------------------------

# Dates a header may carry: real, impossible, far future, before 1900, signed, not digits.
HEADER_DATES = st.sampled_from(
    ["20211208", "29991231", "00000000", "99999999", "18991231", "20210230", "19700101"]
) | st.from_regex(r"\A[-+]?\d{6,9}\Z")
HOSTILE_URLS = st.sampled_from(
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:void(0)",
        "https://user:password@example.com/a",
        "https://:token@example.com/",
        "http://user@example.com:99999/x",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "http://[::1",
        "https://exa mple.com/ x",
        "//example.com/no-scheme",
        "mailto:desk@example.com",
        "https://" + "a" * 3000 + ".com/",
        "https://example.com/%zz?utm_source=x#frag",
    ]
) | st.text(alphabet=LINE_CHARS, max_size=60)
LINES = st.lists(st.text(alphabet=LINE_CHARS, max_size=80), max_size=8)


@FUZZ
@given(title=st.text(alphabet=CHARS, max_size=80), date=HEADER_DATES, url=HOSTILE_URLS, lines=LINES)
def test_headed_header_is_kept_as_written_whatever_its_date_and_url(
    title: str, date: str, url: str, lines: list[str]
) -> None:
    title = title.replace("\n", " ").replace("\r", " ")
    text = "\n".join([title, date, url, *lines])
    result = outcome(lambda: parse(text, MAPPINGS))
    if isinstance(result, Unreadable):
        return
    assert_well_formed(result)
    if result.layout == "headed":
        [record] = result.records
        assert record["date_raw"] == date.strip()
        assert record["url"] in {None, url.strip()}


@FUZZ
@given(
    date=st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"),
    title=st.text(alphabet=LINE_CHARS, min_size=1, max_size=60),
    lines=LINES,
)
def test_dated_header_takes_any_date_shaped_value(date: str, title: str, lines: list[str]) -> None:
    assume(title.strip())
    text = "\n".join([f" date {date} {title}", *lines])
    result = outcome(lambda: parse(text, MAPPINGS))
    if isinstance(result, Unreadable):
        return
    assert_well_formed(result)
    if result.layout == "dated":  # a title that looks like HTML or JSON goes elsewhere
        assert result.records[0]["date_raw"] == date


@FUZZ
@given(text=st.text(alphabet=CHARS, max_size=600))
def test_any_text_gets_a_layout_or_a_reason(text: str) -> None:
    layout = outcome(lambda: detect_layout(text))
    if not isinstance(layout, Unreadable):
        assert layout in LAYOUTS - {"jsonl"}
    result = outcome(lambda: parse(text, MAPPINGS))
    if not isinstance(result, Unreadable):
        assert_well_formed(result)


# JSON values in every shape a field may wrongly hold.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=CHARS, max_size=20)
    | st.sampled_from(["None", "null", "NaN", "", "\ud800"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner),
    max_leaves=8,
)
# Strings a mapped field treats as missing.
_MISSING = {"", "none", "null", "nan"}
ARTICLE_KEYS = ["title", "headline", "date", "date_publish", "url", "link", "body", "maintext"]


def acceptable(value: Any) -> bool:
    """A value a field may hold: text, a number, null, or a list of strings."""
    if isinstance(value, list):
        return all(isinstance(x, str) for x in value)
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def has_lone_surrogate(value: Any) -> bool:
    texts = value if isinstance(value, list) else [value]
    return any(isinstance(t, str) and any("\ud800" <= c <= "\udfff" for c in t) for t in texts)


# The generic mapping's names only, so every field is mapped and its fate is known.
GENERIC_NAMES = {"title": "headline", "date_raw": "date", "url": "link", "body": "body"}


@FUZZ
@given(values=st.fixed_dictionaries({field: VALUES for field in GENERIC_NAMES}))
def test_a_wrongly_typed_field_rejects_its_record_naming_the_field(
    values: dict[str, Any],
) -> None:
    obj = {GENERIC_NAMES[field]: value for field, value in values.items()}
    result = outcome(lambda: map_record(obj, MAPPINGS))
    # Fields are read in order; the first bad one names the rejection.
    bad = [f for f in FIELDS if not acceptable(values[f]) or has_lone_surrogate(values[f])]
    if bad:
        assert isinstance(result, Unreadable)
        expected = "wrong_type" if not acceptable(values[bad[0]]) else "invalid_text"
        assert (result.rule, result.detail.split()[0]) == (expected, bad[0])
    elif isinstance(result, Unreadable):
        assert result.rule == "no_text"  # title, body and URL all missing
    else:
        assert tuple(result) == (*FIELDS, *SOURCE_FIELDS)
        for value in result.values():
            assert_storable(value)


@FUZZ
@given(
    title=st.text(alphabet=CHARS, min_size=1, max_size=30).filter(
        lambda t: t.strip().lower() not in _MISSING
    ),
    body=st.text(alphabet=CHARS, max_size=60),
    date=SCALARS.filter(acceptable),
    url=SCALARS.filter(acceptable),
)
def test_text_numbers_and_nulls_are_never_rejected(
    title: str, body: str, date: Any, url: Any
) -> None:
    assume(not any(isinstance(v, str) and "\ud800" in v for v in (title, body, date, url)))
    record = map_record({"title": title, "body": body, "date": date, "url": url}, MAPPINGS)
    assert record["title"] == title
    if isinstance(date, int | float) and not (isinstance(date, float) and math.isnan(date)):
        assert record["date_raw"] == str(date)


@FUZZ
@given(
    objects=st.lists(st.dictionaries(st.sampled_from(ARTICLE_KEYS), VALUES), min_size=1, max_size=5)
)
def test_json_lines_keep_every_line_in_its_place(objects: list[dict[str, Any]]) -> None:
    text = "\n".join(json.dumps(o) for o in objects) + "\n"
    result = outcome(lambda: parse(text, MAPPINGS))
    if isinstance(result, Unreadable):
        assert result.rule == "no_records" or len(objects) == 1
        return
    assert_well_formed(result)
    assert len(result.records) == len(objects)  # a rejected line keeps its index


CELLS = st.text(alphabet=CHARS, max_size=40) | st.sampled_from(
    ['"', '""', ",", ";", "\n", "\x00", "x" * 5000]
)


@FUZZ
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoted=st.booleans(),
)
def test_csv_rows_with_hostile_cells(rows: list[list[str]], delimiter: str, quoted: bool) -> None:
    header = delimiter.join(["title", "date", "url", "body"])
    if quoted:  # well-formed CSV, cells quoted as needed
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
        text = header + "\n" + out.getvalue()
    else:  # cells joined raw: stray quotes, delimiters and newlines break the rows
        text = "\n".join([header, *(delimiter.join(row) for row in rows)])
    result = outcome(lambda: parse(text, MAPPINGS))
    if not isinstance(result, Unreadable):
        assert_well_formed(result)


TAGS = ["html", "head", "body", "title", "h1", "p", "div", "article", "script", "style", "table"]
TAGS += ["td", "a", "meta", "link", "br", "!--", "![CDATA[", "?xml", "svg", "math", "noscript"]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    """A page-like string: random tags (some never closed), attributes, entities, text."""
    parts = [draw(st.sampled_from(["<!doctype html>", "<html>", "<head>", "<body>", "<div>"]))]
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(st.sampled_from(TAGS))
        kind = draw(st.sampled_from(["open", "close", "text", "entity", "meta"]))
        if kind == "open":
            attrs = draw(st.text(alphabet=CHARS, max_size=20))
            parts.append(f"<{tag} class='{attrs}'>")
        elif kind == "close":
            parts.append(f"</{tag}>")
        elif kind == "entity":
            parts.append(
                draw(st.sampled_from(["&#0;", "&#xD800;", "&#x110000;", "&amp", "&bogus;"]))
            )
        elif kind == "meta":
            url = draw(HOSTILE_URLS).replace('"', "")
            parts.append(
                f'<meta property="og:url" content="{url}"><link rel="canonical" href="{url}">'
            )
        else:
            parts.append(draw(st.text(alphabet=CHARS, max_size=80)))
    return "".join(parts)


@settings(FUZZ, max_examples=40)
@given(page=tag_soup())
def test_tag_soup_is_a_record_or_a_reason(page: str) -> None:
    result = outcome(lambda: parse_html(page))
    if isinstance(result, Unreadable):
        assert result.rule in {"no_main_text", "html_unparseable"}
        return
    assert_well_formed(result)
    [record] = result.records
    assert record["title"] or record["body"]


# --- URLs: canonical form and credentials ---------------------------------------------------


@FUZZ
@given(url=HOSTILE_URLS | st.text(alphabet=CHARS, max_size=80))
def test_canonical_url_is_a_web_url_without_credentials_or_a_flag(url: str) -> None:
    canonical, flag = outcome(lambda: canonical_url(url))
    if canonical is None:
        assert flag
        return
    assert flag is None
    assert canonical.startswith(("http://", "https://"))
    assert "@" not in canonical.split("/")[2]
    assert "#" not in canonical
    assert canonical_url(canonical) == (canonical, None)  # canonical twice is canonical once


# --- whole files on disk ------------------------------------------------------------------


@pytest.fixture
def ingest_each(tmp_path: Path) -> Callable[[Path, PipelineConfig], list[IngestResult]]:
    """List a folder and ingest each file as its own batch, each under the hang guard."""

    def run(root: Path, config: PipelineConfig = CONFIG) -> list[IngestResult]:
        with time_limit():  # opening a FIFO to hash it would block for ever
            files, _ = list_inputs(root)
        results = []
        for batch in plan_batches(files, batch_size=1, max_bytes=1 << 40):
            with time_limit():
                results.append(ingest_files(batch, root, config, "run-hostile"))
        return results

    return run


def rules_by_file(results: list[IngestResult]) -> dict[str, str | None]:
    """source file -> its file-level quarantine rule, or None when it was ingested."""
    out: dict[str, str | None] = {}
    for result in results:
        for row in result.manifest.iter_rows(named=True):
            out[row["source_file"]] = None
        for row in result.quarantined.filter(result.quarantined["record_index"].is_null()).rows(
            named=True
        ):
            out[row["source_file"]] = row["rule"]
    return out


ARTICLE = "Ferry returns\n20240301\nhttps://example.org/ferry\nThe ferry is back.\n"


def test_a_hostile_input_folder_is_ingested_or_quarantined_entry_by_entry(
    tmp_path: Path, ingest_each: Callable[..., list[IngestResult]]
) -> None:
    root, outside = tmp_path / "raw", tmp_path / "outside"
    (root / "x.txt").mkdir(parents=True)  # a folder named like a file, with a file inside
    (root / "x.txt" / "inner.txt").write_text(ARTICLE)
    outside.mkdir()
    (outside / "secret.txt").write_text(ARTICLE)
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.txt").write_bytes(b" \n\t\n")
    (root / "bom_only.txt").write_bytes(b"\xef\xbb\xbf")
    (root / "nul.txt").write_bytes(b"title\x00\x00\xff\n")
    (root / "link_out.txt").symlink_to(outside / "secret.txt")
    (root / "dir_out").symlink_to(outside)
    (root / "climb.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (root / "dangling.txt").symlink_to(root / "nowhere.txt")
    os.mkfifo(root / "pipe.txt")
    (root / os.fsdecode(b"caf\xe9.txt")).write_text(ARTICLE)  # a Latin-1 name, not UTF-8
    with time_limit():
        _, rejected = list_inputs(root)
    results = ingest_each(root)

    assert sorted((r.path, r.rule) for r in rejected) == [
        ("caf\\xe9.txt", "unreadable_file"),
        ("climb.txt", "outside_input_root"),
        ("dangling.txt", "unreadable_file"),
        ("dir_out", "outside_input_root"),
        ("link_out.txt", "outside_input_root"),
        ("pipe.txt", "unreadable_file"),
    ]
    assert rules_by_file(results) == {
        "blank.txt": "empty_file",
        "bom_only.txt": "empty_file",
        "empty.txt": "empty_file",
        "nul.txt": "binary_content",
        "x.txt/inner.txt": None,
    }


def test_a_batch_cannot_reach_outside_the_input_folder(tmp_path: Path) -> None:
    """A crafted batch, or a file swapped for a link or a FIFO after listing, is refused."""
    root, outside = tmp_path / "raw", tmp_path / "outside.txt"
    root.mkdir()
    outside.write_text(ARTICLE)
    for name in ("swapped.txt", "piped.txt"):
        (root / name).write_text(ARTICLE)
    files, _ = list_inputs(root)
    (root / "swapped.txt").unlink()
    (root / "swapped.txt").symlink_to(outside)
    (root / "piped.txt").unlink()
    os.mkfifo(root / "piped.txt")
    crafted = [InputFile("../outside.txt", "0" * 32, 1), InputFile(str(outside), "1" * 32, 1)]
    with time_limit():
        result = ingest_files(Batch("b", (*files, *crafted)), root, CONFIG, "run-escape")
    assert result.ingested.is_empty()
    assert sorted(result.quarantined.select("source_file", "rule").rows()) == sorted(
        [
            ("../outside.txt", "outside_input_root"),
            (str(outside), "outside_input_root"),
            ("piped.txt", "unreadable_file"),
            ("swapped.txt", "outside_input_root"),
        ]
    )


# Names as the file system holds them: any bytes but "/" and NUL, UTF-8 or not.
FILE_NAMES = st.lists(
    st.binary(min_size=1, max_size=60)
    .map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))
    .filter(lambda b: not b.startswith(b".")),
    min_size=1,
    max_size=5,
    unique=True,
)


@settings(FUZZ, max_examples=30)
@given(names=FILE_NAMES)
def test_any_file_name_is_ingested_or_quarantined_and_stored(names: list[bytes]) -> None:
    """A name that is not UTF-8 once crashed the run: batch ids hash names as UTF-8."""
    with tempfile.TemporaryDirectory(prefix="newsflow-names-") as scratch:
        root = Path(scratch) / "raw"
        root.mkdir()
        for name in names:
            with open(os.path.join(os.fsencode(root), name), "wb") as fh:
                fh.write(ARTICLE.encode())
        files, rejected = list_inputs(root)
        assert len(files) + len(rejected) == len(names)
        assert all(r.rule == "unreadable_file" for r in rejected)
        lake = Lake(Path(scratch) / "lake")
        for batch in plan_batches(files, batch_size=2, max_bytes=1 << 30):
            result = ingest_files(batch, root, CONFIG, "run-names")
            assert result.quarantined.is_empty()
            lake.write(result.ingested, "ingested", batch.batch_id, "run-names")
        rows = [
            {"source_file": r.path, "stage": "ingest", "rule": r.rule, "detail": r.detail}
            for r in rejected
        ]
        lake.write(pl.DataFrame(rows, schema=QUARANTINE), "quarantine", "names", "run-names")
        assert lake.count("quarantine") == len(rejected)
        assert lake.count("ingested") == len(files)


BIG = 2 << 20  # 2 MiB: far more than any article, small enough to build quickly


def gigantic_lines() -> Iterator[tuple[str, bytes, str | None]]:
    """(name, content, expected rule or None for ingested) with one huge line each."""
    words = "lorem ipsum dolor " * (BIG // 18)
    yield "one_line.txt", words.encode(), "unknown_layout"
    yield "plain.txt", f"Title\n\n{words}\n".encode(), None
    yield "headed.txt", f"Title\n20240301\nhttps://example.org/{'a' * BIG}\nText.\n".encode(), None
    yield "dated.txt", f" date 2024-03-01 {'Title ' * (BIG // 6)}\n\nText.\n".encode(), None
    yield "feed.json", json.dumps({"title": "T", "body": words}).encode(), None
    yield "nested.json", ("[" * (BIG // 4) + "]" * (BIG // 4)).encode(), "invalid_json"
    yield "feed.csv", f'title,body\nT,"{words}"\n'.encode(), None
    yield "unclosed.csv", f'title,body\nT,"{words}\n'.encode(), None
    yield "page.html", f"<html><body><p>{words}</p></body></html>".encode(), None
    yield "comment.html", ("<!-- " + "x" * BIG).encode(), "unknown_layout"


def test_gigantic_single_lines_are_read_in_bounded_time(
    tmp_path: Path, ingest_each: Callable[..., list[IngestResult]]
) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    expected = {}
    for name, content, rule in gigantic_lines():
        (root / name).write_bytes(content)
        expected[name] = rule
    config = PipelineConfig(max_file_bytes=2 * BIG)
    assert rules_by_file(ingest_each(root, config)) == expected


def zero_bomb(kind: str, size: int) -> bytes:
    """`size` zero bytes compressed, built in pieces so the test never holds them whole."""
    chunk, pieces = b"\0" * (1 << 20), size >> 20
    if kind == "zstd":  # one frame per MiB: the limit is reached across frames
        return b"".join(zstandard.ZstdCompressor().compress(chunk) for _ in range(pieces))
    packer: Any = bz2.BZ2Compressor() if kind == "bz2" else zlib.compressobj(wbits=31)
    out = [packer.compress(chunk) for _ in range(pieces)]
    return b"".join([*out, packer.flush()])


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_a_decompression_bomb_is_quarantined_without_being_decompressed(
    tmp_path: Path, kind: str, ingest_each: Callable[..., list[IngestResult]]
) -> None:
    root, limit, expands_to = tmp_path / "raw", 1 << 20, 64 << 20
    root.mkdir()
    (root / "bomb.txt").write_bytes(zero_bomb(kind, expands_to))
    with peak_memory() as peak:
        results = ingest_each(root, PipelineConfig(max_file_bytes=limit))
    assert rules_by_file(results) == {"bomb.txt": "too_large"}
    # Reading stops just past the limit: a few MiB, not the 64 MiB the bomb holds.
    assert peak[0] < 16 * limit, f"peak {peak[0]} bytes"
