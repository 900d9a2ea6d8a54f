"""Raw files read as streams of records, so a file of any size takes bounded memory.

A small file is read whole and parsed by its layout's parser (tasks/layouts.py). A
large JSON Lines or CSV export, and every WARC file, is read record by record from a
decompressing stream instead: a multi-GB export is neither loaded at once nor
rejected as `too_large`. Formats whose records cannot be told apart before the whole
file is read (one JSON document, an HTML page, a feed) keep the size limit.
"""

from __future__ import annotations

import io
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard

from tasks.decode import Unreadable, compression_of, decode_text, decompressing
from tasks.layouts import Mapping, csv_items, detect_layout, jsonl_items
from tasks.parsed import Parsed, RecordItem
from tasks.unmapped import ColumnCounts

# Bytes read (after decompression) to recognise a file's layout before choosing how to read it.
HEAD_BYTES = 1 << 20
_SNIFF_BYTES = 1 << 16
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# EOFError: a cut stream; OSError: a bad gzip header or bz2 data (and disk errors, alike).
_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


@dataclass
class FileRecords:
    """The records of one file, read lazily: `items` yields (index, record or reject).

    `skipped` counts what the file held that is not an article (a WARC's request and
    metadata records), by kind; it and `unmapped_columns` are complete once `items` is
    exhausted.
    """

    layout: str
    encoding: str
    items: Iterator[RecordItem]
    skipped: Counter[str] = field(default_factory=Counter)
    # JSON/CSV source columns no mapping names, counted as the items stream.
    unmapped_columns: ColumnCounts = field(default_factory=dict)

    @classmethod
    def whole(cls, parsed: Parsed, encoding: str) -> FileRecords:
        """The records of a file parsed whole, in the same form as a stream's."""
        rejected = {index: Unreadable(rule, detail) for index, rule, detail in parsed.rejects}

        def items() -> Iterator[RecordItem]:
            for index, record in enumerate(parsed.records):
                yield index, rejected.get(index, record)

        return cls(parsed.layout, encoding, items(), unmapped_columns=parsed.unmapped_columns)


class _Decompressing(io.RawIOBase):
    """A decompressing reader whose failures are `Unreadable("corrupt_compression")`.

    Data decompressed before a cut or a bad byte is served first; the error comes on
    the next read. It is not an EOFError, which readers such as warcio take for a
    normal end of file: a cut-off file must not pass for a complete one.
    """

    def __init__(self, stream: IO[bytes], kind: str) -> None:
        self._stream = stream
        self._kind = kind

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(buffer))
        except _STREAM_ERRORS as exc:
            raise Unreadable("corrupt_compression", f"{self._kind}: {exc}"[:200]) from exc
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def open_decompressed(path: Path) -> Iterator[IO[bytes]]:
    """`path` opened for reading, through gzip/bz2/zstd when its magic bytes name one."""
    with path.open("rb") as raw:
        kind = compression_of(raw.peek(4)[:4])
        if kind is None:
            yield raw
            return
        stream = decompressing(raw, kind)
        with io.BufferedReader(_Decompressing(stream, kind), 1 << 16) as checked:
            yield checked


def decompressed_head(path: Path) -> tuple[bytes, bool]:
    """The first `HEAD_BYTES` of the file's content, and whether that is all of it."""
    head = bytearray()
    with open_decompressed(path) as stream:
        try:
            # In small reads: a failing read loses what it read before the failure.
            while len(head) < HEAD_BYTES and (
                chunk := stream.read(min(1 << 16, HEAD_BYTES - len(head)))
            ):
                head += chunk
            complete = len(head) < HEAD_BYTES or not stream.read(1)
        except Unreadable:
            if not head:
                raise
            complete = False  # broken further on: whoever reads on reports it where it is
    return bytes(head), complete


def content_larger_than(path: Path, limit: int) -> bool:
    """Whether the file holds more than `limit` bytes once decompressed (read, not kept)."""
    with path.open("rb") as raw:
        if compression_of(raw.read(4)) is None:
            return path.stat().st_size > limit
    with open_decompressed(path) as stream:
        total = 0
        while total <= limit:
            chunk = stream.read(min(1 << 20, limit + 1 - total))
            if not chunk:
                return False
            total += len(chunk)
        return True


def streamable_layout(head: bytes) -> tuple[str, str] | None:
    """(`jsonl` or `csv`, encoding) when the file's first bytes show records one per line."""
    if head.startswith(_UTF16_BOMS):
        return None  # lines cannot be cut at a newline byte; read whole, within the limit
    # Whole lines of the first 64 KiB, or of the head when its first line is longer.
    sample = head[: (head.rfind(b"\n", 0, _SNIFF_BYTES) + 1) or (head.rfind(b"\n") + 1)]
    try:
        text, encoding = decode_text(sample)
    except Unreadable:
        return None  # reading the file whole names what is wrong with it
    start = len(text) - len(text.lstrip())
    end = text.find("\n", start)
    first = text[start : end if end >= 0 else len(text)]
    if first.startswith("{"):
        try:
            return ("jsonl", encoding) if isinstance(json.loads(first), dict) else None
        except (ValueError, RecursionError):
            return None  # one JSON document over many lines: it cannot be split
    try:
        return ("csv", encoding) if detect_layout(text) == "csv" else None
    except Unreadable:
        return None


def text_lines(path: Path, encoding: str) -> Iterator[str]:
    """The decoded lines of a file, each ending in "\\n", read as a stream.

    The encoding is the one the file's head was decoded with; a later line that does
    not decode with it is decoded on its own (as a whole file would be), not dropped.
    """
    with open_decompressed(path) as stream:
        lines = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        for line in lines:
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                raw = line.encode(encoding, "surrogateescape")
                try:
                    line = decode_text(raw)[0]
                except Unreadable:
                    line = raw.decode(encoding, "backslashreplace")
            yield line.rstrip("\r\n") + "\n"


def streamed_records(
    path: Path, layout: str, encoding: str, mappings: list[Mapping]
) -> FileRecords:
    """The records of a large JSON Lines or CSV file, one line (row) at a time."""
    lines = text_lines(path, encoding)
    unmapped: ColumnCounts = {}
    read = jsonl_items if layout == "jsonl" else csv_items
    return FileRecords(layout, encoding, read(lines, mappings, unmapped), unmapped_columns=unmapped)
