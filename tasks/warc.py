"""WARC files (as CC-NEWS ships them) -> one article record per HTML response.

Each HTTP response whose content is HTML goes through the HTML path
(`tasks.html.parse_html`), exactly as a saved page would. The page's own URL
(canonical link / og:url) stays the record's `url`, else the URL the crawler fetched
(`WARC-Target-URI`); the fetched URL is always kept in `url_raw`, and the crawl time
(`WARC-Date`) in `fetched_at`. Requests, metadata, redirects and non-HTML payloads
are not articles: they are counted per kind (`FileRecords.skipped`), not rejected.
The file is read record by record, so a 1 GB WARC takes the memory of one page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from tasks.decode import Unreadable, decode_text
from tasks.html import parse_html
from tasks.parsed import RecordItem
from tasks.streams import FileRecords, open_decompressed

_WARC_START = re.compile(rb"\AWARC/1\.[01]\r?\n")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# Labels browsers read as windows-1252 (WHATWG Encoding): pages labelled latin-1 use its
# extra characters (curly quotes, euro sign) in the 0x80-0x9F range.
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def is_warc(head: bytes) -> bool:
    """Whether decompressed content starts like a WARC file (a `WARC/1.0` or `1.1` line)."""
    return bool(_WARC_START.match(head))


def fetched_at(warc_date: str | None) -> dt.datetime | None:
    """A WARC-Date (ISO 8601, UTC per the standard) as a UTC datetime; None when unreadable."""
    if not warc_date:
        return None
    try:
        when = dt.datetime.fromisoformat(warc_date.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def page_text(payload: bytes, content_type: str) -> tuple[str, str]:
    """The page as text: UTF-8 when it is UTF-8, else the charset the server declared,
    else whatever `decode_text` detects. Returns (text, encoding)."""
    declared = _CHARSET.search(content_type)
    if declared and not payload.startswith(_BOMS):
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            charset = declared.group(1).lower()
            charset = "cp1252" if charset in _AS_CP1252 else charset
            try:
                text = payload.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
            else:
                return text.replace("\r\n", "\n").replace("\r", "\n"), charset
    return decode_text(payload)


def _content_type(record: ArcWarcRecord) -> str:
    headers = record.http_headers if record.rec_type == "response" else record.rec_headers
    declared = headers.get_header("Content-Type") if headers is not None else None
    return declared or record.rec_headers.get_header("WARC-Identified-Payload-Type") or ""


def _article(
    record: ArcWarcRecord, size_limit: int, skipped: Counter[str]
) -> dict[str, Any] | Unreadable | None:
    """The article of one WARC record, the reason it is rejected, or None (not an article)."""
    if record.rec_type not in ("response", "resource"):
        skipped[f"warc_{record.rec_type or 'unknown'}"] += 1
        return None
    if record.rec_type == "response":
        if record.http_headers is None:
            skipped["warc_not_http"] += 1  # dns: and other non-HTTP responses
            return None
        status = record.http_headers.get_statuscode() or ""
        if not status.startswith("2"):
            skipped["warc_http_not_ok"] += 1  # redirects, errors: no article in them
            return None
    content_type = _content_type(record)
    if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
        skipped["warc_not_html"] += 1
        return None
    target = record.rec_headers.get_header("WARC-Target-URI") or None
    try:
        payload = record.content_stream().read(size_limit + 1)
    except Unreadable:
        raise  # the file's stream broke (corrupt compression): not this record's fault
    except Exception as exc:  # a bad chunked or gzip transfer encoding inside the record
        return Unreadable("invalid_warc_record", f"{type(exc).__name__}: {exc}"[:200])
    if len(payload) > size_limit:
        return Unreadable("too_large", f"response over {size_limit} bytes")
    if getattr(record.raw_stream, "limit", 0) > 0:  # bytes its Content-Length promised
        return Unreadable("truncated_record", "the file ends inside this record")
    if not payload.strip():
        return Unreadable("empty_response", f"no content in the response for {target}")
    try:
        text, encoding = page_text(payload, content_type)
        page = parse_html(text).records[0]
    except Unreadable as exc:
        return exc
    url = page.get("url")
    return {
        **page,
        # A relative canonical link names a page of the fetched site.
        "url": urljoin(target, url) if url and target else url or target,
        "url_raw": target,
        "fetched_at": fetched_at(record.rec_headers.get_header("WARC-Date")),
        "encoding": encoding,
    }


def warc_records(path: Path, size_limit: int) -> FileRecords:
    """The articles of a WARC file, read as a stream; `record_index` is the position of
    the WARC record in the file (requests and metadata included), so it can be found."""
    skipped: Counter[str] = Counter()

    def items() -> Iterator[RecordItem]:
        with open_decompressed(path) as stream:
            try:
                for position, record in enumerate(ArchiveIterator(stream)):
                    article = _article(record, size_limit, skipped)
                    if article is not None:
                        yield position, article
            except Unreadable:
                raise
            # warcio parses hostile bytes: whatever it trips on is this file's fault.
            except Exception as exc:
                raise Unreadable("invalid_warc", f"{type(exc).__name__}: {exc}"[:200]) from exc

    return FileRecords("warc", "", items(), skipped)
