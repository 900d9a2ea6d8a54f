"""Hostile input never crashes ingest: every byte string is parsed or quarantined with a rule."""

from __future__ import annotations

import bz2
import gzip
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.decode import Unreadable
from tasks.ingest import ingest_files, read_file
from tasks.layouts import FIELDS, LIST_FIELDS, SOURCE_FIELDS
from tasks.parsed import Parsed

# A small limit so that bombs are cheap to build and the limit is actually reached.
LIMIT = 64 * 1024
CONFIG = PipelineConfig(max_file_bytes=LIMIT)
MAPPINGS = CONFIG.mappings()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

COMPRESSORS: list[Callable[[bytes], bytes]] = [
    lambda b: gzip.compress(b, mtime=0),
    bz2.compress,
    lambda b: zstandard.ZstdCompressor().compress(b),
]

# Fragments that steer random text towards the layout detectors and parsers.
FRAGMENTS = [
    "{",
    "}",
    "[",
    "]",
    '"title": ',
    '"body": ',
    '"maintext": "',
    '"date_publish": null',
    '"url": "javascript:alert(1)"',
    "None",
    "NaN",
    "\\ud800",
    '"',
    ",",
    ";",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    " date 2021-02-03 ",
    "20211208",
    "29991231",
    "https://x.example/a",
    "title,date,url,body",
    "headline;content",
    "<html>",
    "<!doctype html>",
    "\ufeff",
    "£",
    "\x00",
    "\x07",
    "1" * 5000,
    "[" * 3000,
]

# Strings may hold lone surrogates, which json.dumps writes as "\\ud800" escapes.
# (st.text drops surrogates, so strings are joined from single characters here.)
json_strings = st.lists(
    st.characters(exclude_categories=[]) | st.sampled_from(["\ud800", "\udfff", "£", "\n"]),
    max_size=20,
).map("".join) | st.sampled_from(["None", "null", "NaN", ""])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | json_strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
# Mostly article-shaped objects (known keys, string values), sometimes anything at all.
ARTICLE_KEYS = ["title", "headline", "date", "date_publish", "url", "body", "maintext", "text"]
field_values = st.one_of(json_strings, json_strings, st.integers(), json_values)
json_records = st.fixed_dictionaries(
    {}, optional={key: field_values for key in ARTICLE_KEYS}
) | st.dictionaries(st.sampled_from(ARTICLE_KEYS) | st.text(max_size=8), json_values, max_size=5)


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=25))
    return "".join(parts)


# Raw JSON tokens json.dumps never writes: huge integers, deep nesting, bare NaN.
POISON = ["1" * 5000, "-" + "9" * 4400, "[" * 3000 + "]" * 3000, "NaN", "-Infinity", "1e999"]


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    items = draw(st.lists(json_records | json_values, max_size=5))
    lines = [json.dumps(x) for x in items]
    poisoned: bool = draw(st.booleans())
    if lines and poisoned:
        i = draw(st.integers(0, len(lines) - 1))
        field = draw(st.sampled_from(["title", "body", "date", "url"]))
        lines[i] = f'{{"{field}": {draw(st.sampled_from(POISON))}, "title": "t"}}'
    if draw(st.booleans()):
        return "\n".join(lines)  # JSON lines
    if draw(st.booleans()):
        return "[" + ", ".join(lines) + "]"
    return lines[0] if lines else "{}"


@st.composite
def raw_files(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, or text-like bytes that are encoded, compressed and maybe cut off."""
    kind = draw(st.sampled_from(["bytes", "text", "json"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2048))
    text = draw(texts() if kind == "text" else json_documents())
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = draw(st.sampled_from(COMPRESSORS))(data)
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 9)) == 0:
        data = data + draw(st.binary(max_size=64))
    return data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def read(path: Path, data: bytes) -> tuple[Parsed, str] | Unreadable:
    """`read_file` on `data`; any exception other than `Unreadable` fails the test."""
    path.write_bytes(data)
    try:
        return read_file(path, LIMIT, MAPPINGS)
    except Unreadable as exc:
        return exc


def check_read(path: Path, data: bytes) -> None:
    outcome = read(path, data)
    if isinstance(outcome, Unreadable):
        assert outcome.rule
        assert isinstance(outcome.detail, str)
        return
    parsed, encoding = outcome
    assert isinstance(parsed, Parsed)
    assert encoding
    rejected = {index for index, _, _ in parsed.rejects}
    assert all(0 <= index < len(parsed.records) for index in rejected)
    assert all(rule for _, rule, _ in parsed.rejects)
    for index, record in enumerate(parsed.records):
        if index in rejected:
            continue
        # JSON/CSV records and HTML pages also carry the source's own fields.
        assert tuple(record)[: len(FIELDS)] == FIELDS
        assert set(record) - set(FIELDS) <= set(SOURCE_FIELDS)
        assert any(record[f] is not None for f in ("title", "body", "url"))
        for name, value in record.items():
            texts = value if name in LIST_FIELDS else [value]
            assert isinstance(texts, list)
            for text in texts:
                assert text is None or isinstance(text, str)
                if text is not None:
                    text.encode("utf-8")  # raises on a lone surrogate, which Parquet cannot store


@FUZZ
@given(data=raw_files())
def test_read_file_parses_or_raises_unreadable(scratch: Path, data: bytes) -> None:
    check_read(scratch / "input.bin", data)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_read_file_on_pure_random_bytes(scratch: Path, data: bytes) -> None:
    check_read(scratch / "random.bin", data)


ARTICLE_TITLE = "Harbour ferry to stop"


def article_of_exactly(size: int) -> bytes:
    """A plain article of `size` bytes: a title line, a blank line, a body of words."""
    head = ARTICLE_TITLE.encode() + b"\n\n"
    return head + (b"word " * (size // 5))[: size - len(head) - 4] + b"end."


@pytest.mark.parametrize("compress", [None, *COMPRESSORS], ids=["raw", "gzip", "bz2", "zstd"])
@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT, LIMIT + 1, 4 * LIMIT])
def test_read_file_reads_a_file_of_the_limit_whole_and_refuses_one_byte_more(
    scratch: Path, compress: Callable[[bytes], bytes] | None, size: int
) -> None:
    """The limit counts decompressed bytes: up to it a file is read whole, past it by one
    byte (raw or a compression bomb) it is `too_large`, never cut or parsed."""
    data = article_of_exactly(size)
    assert len(data) == size
    outcome = read(scratch / "bomb.bin", compress(data) if compress else data)
    if size > LIMIT:
        assert isinstance(outcome, Unreadable)
        assert outcome.rule == "too_large"
        return
    assert not isinstance(outcome, Unreadable), outcome.detail
    [record] = outcome[0].records
    assert (record["title"], record["body"]) == (ARTICLE_TITLE, data.decode().split("\n\n")[1])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=st.lists(raw_files(), min_size=1, max_size=6))
def test_ingest_files_accounts_for_every_file(contents: list[bytes]) -> None:
    root = Path(tempfile.mkdtemp(prefix="newsflow-fuzz-"))
    try:
        names = [f"f{i:02d}{ext}" for i, ext in enumerate([".txt", ".json", ".gz"] * 2)]
        names = names[: len(contents)]
        for name, data in zip(names, contents, strict=True):
            (root / name).write_bytes(data)
        files, rejected = list_inputs(root)
        assert rejected == []
        assert [f.path for f in files] == names
        batches = plan_batches(files, batch_size=4, max_bytes=1 << 30)
        results = [ingest_files(b, root, CONFIG, "run-fuzz") for b in batches]
    finally:
        shutil.rmtree(root)

    manifest = [row for r in results for row in r.manifest.to_dicts()]
    assert sorted(row["source_file"] for row in manifest) == names  # each exactly once
    for result in results:
        quarantined = result.quarantined.to_dicts()
        ingested = result.ingested.to_dicts()
        assert all(row["rule"] for row in quarantined)
        for row in result.manifest.to_dicts():
            name = row["source_file"]
            assert row["status"] in {"ingested", "quarantined"}
            file_rows = [q for q in quarantined if q["source_file"] == name]
            record_rows = [i for i in ingested if i["source_file"] == name]
            if row["status"] == "quarantined":
                assert [q["record_index"] for q in file_rows] == [None]
                assert row["records"] == 0
                assert record_rows == []
            else:
                assert all(q["record_index"] is not None for q in file_rows)
                assert row["records"] == len(record_rows)
                indices = [i["record_index"] for i in record_rows]
                indices += [q["record_index"] for q in file_rows]
                assert len(indices) == len(set(indices))  # a record is kept or rejected once
        doc_ids = [i["doc_id"] for i in ingested]
        assert len(doc_ids) == len(set(doc_ids))
