"""Render a synthetic article into any input layout, and write files as the corpus grows.

`synth_corpus.py` decides what each document says; this module decides how it looks
on disk. Layouts (as `tasks/layouts.py` detects them):

* `headed` / `dated`: rendered in `synth_corpus` (they carry the duplicate-specific
  furniture: shuffles and disclaimers);
* `plain`: title, blank line, paragraphs (no date, no URL);
* `json`: a news-please object (`title`, `date_publish`, `url`, `maintext` with one
  paragraph per line), an array of them when a file holds several;
* `jsonl` / `csv`: the generic mapping (`title`, `date`, `url`, `body` with paragraphs
  one blank line apart), `feed_size` records per file;
* `html`: a page with navigation, a footer, a canonical link, `og:` metadata and
  `article:published_time`, the article in `<article>` (trafilatura extracts it).

Any file may be compressed (gzip, bz2 or zstd). Files are written as soon as they are
complete, so memory holds at most one feed of `feed_size` records per layout.
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

TEXT_LAYOUTS = ("headed", "dated", "plain", "html")
FEED_LAYOUTS = ("json", "jsonl", "csv")
ALL_LAYOUTS = ("headed", "dated", "plain", "json", "jsonl", "csv", "html")
CODECS = ("gzip", "bz2", "zstd")
SUFFIX = {
    "headed": ".txt",
    "dated": ".txt",
    "plain": ".txt",
    "html": ".html",
    "json": ".json",
    "jsonl": ".jsonl",
    "csv": ".csv",
}
CODEC_SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "zstd": ".zst"}
NAV = ["Home", "News", "World", "Business", "Politics", "Sport", "Culture"]


@dataclass(frozen=True)
class Fields:
    """An article as the structured layouts carry it."""

    title: str
    date: dt.date
    url: str
    site: str
    paragraphs: tuple[str, ...]


def render_plain(f: Fields) -> str:
    return f"{f.title}\n\n" + "\n\n".join(f.paragraphs) + "\n"


def render_html(f: Fields) -> str:
    esc = html.escape
    nav = " ".join(f'<a href="/{n.lower()}">{n}</a>' for n in NAV)
    body = "\n".join(f"<p>{esc(p)}</p>" for p in f.paragraphs)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(f.title)} | {esc(f.site)}'
        f'</title>\n<link rel="canonical" href="{esc(f.url)}">\n'
        f'<meta property="og:url" content="{esc(f.url)}">\n'
        f'<meta property="og:site_name" content="{esc(f.site)}">\n'
        f'<meta property="article:published_time" content="{f.date.isoformat()}T08:00:00Z">\n'
        f"</head><body><header><nav>{nav}</nav></header>\n"
        f"<main><article><h1>{esc(f.title)}</h1>\n{body}\n</article></main>\n"
        f"<footer><p>Copyright {f.date.year} {esc(f.site)}. All rights reserved.</p>"
        "</footer></body></html>\n"
    )


def newsplease_record(f: Fields) -> dict[str, str]:
    return {
        "title": f.title,
        "date_publish": f"{f.date.isoformat()} 08:00:00",
        "url": f.url,
        "maintext": "\n".join(f.paragraphs),
        "source_domain": f.url.split("/")[2],
    }


def generic_record(f: Fields) -> dict[str, str]:
    return {
        "title": f.title,
        "date": f.date.isoformat(),
        "url": f.url,
        "body": "\n\n".join(f.paragraphs),
    }


def render_feed(layout: str, records: Sequence[Fields]) -> str:
    """A json, jsonl or csv file holding `records`."""
    if layout == "json":
        objects = [newsplease_record(r) for r in records]
        data = objects[0] if len(objects) == 1 else objects
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if layout == "jsonl":
        return "".join(json.dumps(generic_record(r), ensure_ascii=False) + "\n" for r in records)
    out = io.StringIO()
    writer = csv.DictWriter(out, ["title", "date", "url", "body"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(generic_record(r) for r in records)
    return out.getvalue()


def compressed(data: bytes, codec: str | None) -> bytes:
    # mtime=0: the same corpus twice is the same bytes (gzip stores a timestamp).
    if codec == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if codec == "bz2":
        return bz2.compress(data, compresslevel=9)
    if codec == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


@dataclass
class _Feed:
    name: str
    codec: str | None
    records: list[Fields] = field(default_factory=list)


@dataclass
class CorpusWriter:
    """Numbers files as they are opened (`NNN/NNNNNN.ext`) and writes each once complete.

    A text layout is one file per document; a feed layout fills one open file per
    layout up to `feed_size` records. Returns (file name, record index) per document.
    """

    docs: Path
    feed_size: int = 1
    files: int = 0
    bytes_written: int = 0
    _feeds: dict[str, _Feed] = field(default_factory=dict)

    def _name(self, layout: str, codec: str | None) -> str:
        i = self.files
        self.files += 1
        return f"{i // 1000:03d}/{i:06d}{SUFFIX[layout]}{CODEC_SUFFIX.get(codec or '', '')}"

    def _write(self, name: str, text: str, codec: str | None) -> None:
        path = self.docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = compressed(text.encode("utf-8"), codec)
        path.write_bytes(data)
        self.bytes_written += len(data)

    def text(self, layout: str, text: str, codec: str | None) -> tuple[str, int]:
        name = self._name(layout, codec)
        self._write(name, text, codec)
        return name, 0

    def record(self, layout: str, fields: Fields, codec: str | None) -> tuple[str, int]:
        """Add a record to the layout's open feed (opened with `codec` if none is)."""
        feed = self._feeds.get(layout)
        if feed is None:
            feed = self._feeds[layout] = _Feed(self._name(layout, codec), codec)
        feed.records.append(fields)
        index = len(feed.records) - 1
        if len(feed.records) >= self.feed_size:
            self._close(layout)
        return feed.name, index

    def _close(self, layout: str) -> None:
        feed = self._feeds.pop(layout)
        self._write(feed.name, render_feed(layout, feed.records), feed.codec)

    def close(self) -> None:
        for layout in sorted(self._feeds):
            self._close(layout)
