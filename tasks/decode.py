"""Raw bytes -> text: decompression by magic number, then encoding detection.

Anything that cannot become text raises `Unreadable` with a quarantine rule name,
so the caller can account for the file instead of crashing on it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
import zlib
from typing import IO

import charset_normalizer
import zstandard

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Control characters other than tab, newline, form feed and carriage return: text
# has (almost) none, binary data has many.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.001
_MAX_ACCENTED_SHARE = 0.3
_WESTERN_PUNCTUATION = set(
    "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u20ac\u00a3\u00b0\u00b7\u00ad"
)


class Unreadable(Exception):
    """A file or record that cannot be used, with the quarantine rule that says why."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


def compression_of(data: bytes) -> str | None:
    """The compression format named by the first bytes, or None for raw data."""
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def _read_bounded(stream: IO[bytes], limit: int) -> bytes:
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise Unreadable("too_large", f"more than {limit} bytes once decompressed")
    return b"".join(chunks)


def decompressing(raw: IO[bytes], kind: str) -> IO[bytes]:
    """A stream of `raw`'s data decompressed as `kind` (gzip, bz2 or zstd)."""
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(raw)
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)


def decompress(data: bytes, limit: int) -> tuple[bytes, str | None]:
    """Decompress gzip/bz2/zstd data (bounded by `limit` bytes); raw data passes through."""
    kind = compression_of(data)
    if kind is None:
        if len(data) > limit:
            raise Unreadable("too_large", f"{len(data)} bytes, limit {limit}")
        return data, None
    stream = decompressing(io.BytesIO(data), kind)
    try:
        out = _read_bounded(stream, limit)
        if kind == "zstd":
            _check_zstd_frames(data)
        return out, kind
    except Unreadable:
        raise
    except (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError) as exc:
        raise Unreadable("corrupt_compression", f"{kind}: {exc}") from exc


def _check_zstd_frames(data: bytes) -> None:
    """Fail on zstd data cut off inside a frame, which the stream reader passes quietly.

    Runs after the bounded read, so no frame here decompresses to more than the limit.
    """
    rest = data
    while rest:
        frame = zstandard.ZstdDecompressor().decompressobj()
        frame.decompress(rest)
        if not frame.eof:
            raise Unreadable("corrupt_compression", "zstd: data ends inside a frame")
        rest = frame.unused_data


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    return len(_CONTROL.findall(text)) / len(text)


def _western(text: str) -> bool:
    """Whether cp1252-decoded text reads as a Western European language.

    In such text accented letters sit inside mostly-ASCII words. The same bytes
    from a Cyrillic or Greek code page come out as runs of accented letters, and
    from a Central European one as symbols inside words (ł as ³, ą as ¹, ż as ¿).
    """
    letters = accented = 0
    for i, ch in enumerate(text):
        if ch.isascii():
            letters += ch.isalpha()
            continue
        if ch.isalpha():
            letters += 1
            accented += 1
        elif (
            ch not in _WESTERN_PUNCTUATION
            and 0 < i < len(text) - 1
            and text[i - 1].isalpha()
            and text[i + 1].isalpha()
        ):
            return False
    return letters > 0 and accented / letters < _MAX_ACCENTED_SHARE


def _guess_decode(data: bytes) -> tuple[str, str]:
    """Decode bytes that are not UTF-8.

    Detectors guess wildly on Western text with few high bytes (a bare 0xA3 for a
    pound sign reads as Japanese) or many (German read as a Baltic code page), so
    cp1252 comes first whenever it decodes to plausible Western text; everything
    else is left to charset-normalizer.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        if _western(text):
            return text, "cp1252"
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise Unreadable("undecodable", "no text encoding fits the bytes")
    return str(best), best.encoding


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes to text: a BOM, then strict UTF-8, then detection. Returns (text, encoding)."""
    if not data.strip():
        raise Unreadable("empty_file", f"{len(data)} bytes, no text")
    text: str | None = None
    encoding = ""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(name), name
            except UnicodeDecodeError:
                text = None
            break
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            if b"\x00" in data:
                raise Unreadable(
                    "binary_content", "NUL bytes in data that is not UTF-8/16"
                ) from None
            text, encoding = _guess_decode(data)
    if not text.strip():
        raise Unreadable("empty_file", f"{len(data)} bytes, no text once decoded ({encoding})")
    share = _control_share(text)
    if share > _MAX_CONTROL_SHARE:
        raise Unreadable("binary_content", f"{share:.1%} control characters")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding
