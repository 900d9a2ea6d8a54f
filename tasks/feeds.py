"""Feeds -> one article record per item: RSS (2.0 and 1.0), Atom and JSON Feed.

RSS and Atom are read by feedparser, which copes with the malformed XML real feeds
serve; JSON Feed (https://jsonfeed.org/version/1.1) is plain JSON. A feed's bodies
are HTML: they become paragraphs of text here (`html_paragraphs`), so no markup
reaches the lake. Feed-level facts (the feed's title as `site_name`, its language)
are copied onto every item.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from tasks.authors import author_names
from tasks.decode import Unreadable
from tasks.parsed import Parsed, field_paragraphs

_SCAN = 1 << 16
# What may precede an XML document's root element: declaration, processing
# instructions (xml-stylesheet), comments, a doctype.
_XML_PROLOG = re.compile(
    r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*", re.DOTALL | re.IGNORECASE
)
_XML_ROOT = re.compile(r"<(?:[\w.-]+:)?([\w.-]+)([^>]*)")
_ATOM_NAMESPACES = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RSS1_NAMESPACE = "http://purl.org/rss/1.0/"
_JSON_FEED_VERSION = re.compile(r'"version"\s*:\s*"https?://jsonfeed\.org/version/')
_HTML_TYPES = ("text/html", "application/xhtml+xml")

# Elements whose start and end break a paragraph; their text is kept.
_BLOCKS = frozenset(
    ("p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr")
    + ("h1", "h2", "h3", "h4", "h5", "h6", "caption", "section", "article", "header", "footer")
    + ("aside", "figure", "figcaption", "address", "hr", "details", "summary", "main", "nav")
)
# Table cells sit side by side: a space, not a break, keeps their words apart.
_CELLS = frozenset(("td", "th"))
# Elements whose content is not text a reader sees.
_INVISIBLE = ("script", "style", "noscript", "template", "head", "title")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_PARAGRAPH_BREAK = re.compile(r"\s*\n\s*\n\s*")
# RSS's <author>: "desk@example.com (Jo Bloggs)".
_EMAIL_AND_NAME = re.compile(r"^\s*\S+@\S+\s+\((.+)\)\s*$")


def xml_root(text: str) -> tuple[str, str] | None:
    """(local name, start tag) of the root element of an XML-looking text, else None."""
    head = text[:_SCAN]
    prolog = _XML_PROLOG.match(head)
    match = _XML_ROOT.match(head, prolog.end() if prolog else 0)
    return (match.group(1), match.group(0)) if match else None


def xml_feed_layout(text: str) -> str | None:
    """`rss` or `atom` when the root element of `text` is a feed's, else None.

    Named by the root element (and its namespace), so a sitemap (`<urlset>`), an
    XHTML page or any other XML document is never taken for a feed.
    """
    root = xml_root(text)
    if root is None:
        return None
    name, start_tag = root
    if name == "rss":
        return "rss"
    if name == "feed" and any(ns in start_tag for ns in _ATOM_NAMESPACES):
        return "atom"
    if name == "RDF" and _RSS1_NAMESPACE in text[:_SCAN]:
        return "rss"  # RSS 1.0
    return None


def is_json_feed(text: str) -> bool:
    """Whether a JSON text declares itself a JSON Feed (its `version` comes first by spec)."""
    return bool(_JSON_FEED_VERSION.search(text[: 1 << 20]))


def html_paragraphs(markup: str) -> str:
    """The visible text of an HTML fragment, one paragraph per block, blank lines apart.

    Block elements (`<p>`, `<li>`, headings …) end a paragraph, so a list keeps one
    item per paragraph; `<br>` ends a line, and two in a row end a paragraph.
    """
    if "<" not in markup and "&" not in markup:
        return field_paragraphs(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return field_paragraphs(markup)
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction, *_INVISIBLE)):
        if node is not root:
            node.drop_tree()  # keeps the text after the node (its tail)
    pieces: list[str] = []
    for event, node in etree.iterwalk(root, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                pieces.append("\n\n")
            elif tag in _CELLS:
                pieces.append(" ")
            elif tag == "br":
                pieces.append("\n")
            if node.text:
                pieces.append(_HORIZONTAL_SPACE.sub(" ", node.text.replace("\n", " ")))
        else:
            if tag in _BLOCKS:
                pieces.append("\n\n")
            if node.tail and node is not root:
                pieces.append(_HORIZONTAL_SPACE.sub(" ", node.tail.replace("\n", " ")))
    blocks = _PARAGRAPH_BREAK.split("".join(pieces))
    cleaned = ("\n".join(ln.strip() for ln in b.split("\n") if ln.strip()) for b in blocks)
    return "\n\n".join(b for b in cleaned if b)


def _text(detail: Any, fallback: Any = None) -> str | None:
    """A feedparser text construct (`title_detail`, `content[0]`) as plain text."""
    if detail is None:
        value = fallback
        kind = "text/html"  # feedparser marks RSS text as HTML when unsure
    else:
        value, kind = detail.get("value"), detail.get("type") or "text/html"
    if not isinstance(value, str) or not value.strip():
        return None
    text = html_paragraphs(value) if kind in _HTML_TYPES else field_paragraphs(value)
    return text or None


def _image(entry: Any) -> str | None:
    """The item's image: media:content, an image enclosure, then media:thumbnail."""
    for media in entry.get("media_content") or []:
        kind = media.get("medium") or media.get("type") or ""
        if media.get("url") and (kind == "image" or kind.startswith("image/")):
            return str(media["url"])
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link["href"]) if link.get("href") else None
    for thumb in entry.get("media_thumbnail") or []:
        if thumb.get("url"):
            return str(thumb["url"])
    return None


def _entry_record(entry: Any, site_name: str | None, language: str | None) -> dict[str, Any]:
    content = (entry.get("content") or [None])[0]
    summary = _text(entry.get("summary_detail"), entry.get("summary"))
    body = _text(content) if content is not None else None
    names = [a.get("name") for a in entry.get("authors") or [] if a.get("name")]
    # RSS's <author> is "email (Name)"; feedparser splits it wrongly for long TLDs.
    rss_author = _EMAIL_AND_NAME.match(entry.get("author") or "")
    if rss_author:
        names = [rss_author.group(1)]
    elif not names and entry.get("author") and "@" not in entry["author"]:
        names = [entry["author"]]
    title = _text(entry.get("title_detail"), entry.get("title"))
    return {
        "title": " ".join(title.split()) if title else None,
        "date_raw": entry.get("published") or entry.get("updated") or None,
        "url": entry.get("link") or None,
        "body": body or summary,
        "site_name": site_name,
        "authors": author_names(names),
        # feedparser fills a missing summary with the content: no description then.
        "description": summary if body and summary != body else None,
        "image_url": _image(entry),
        "source_language": language,
        "tags": _unique(t.get("label") or t.get("term") for t in entry.get("tags") or []),
    }


def _unique(values: Any) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, str) and value.strip() and value.strip() not in out:
            out.append(value.strip())
    return out


def _records(layout: str, items: list[Any], build: Any) -> Parsed:
    """One record per item; an item with neither title nor body is a record-level reject."""
    if not items:
        raise Unreadable("no_records", f"the {layout} feed holds no items")
    parsed = Parsed(layout)
    for index, item in enumerate(items):
        try:
            record = build(item)
        except Unreadable as exc:
            parsed.records.append({})  # keeps record_index aligned with the feed's items
            parsed.rejects.append((index, exc.rule, exc.detail))
            continue
        # Markup conversion over hostile input: what it trips on is this item's fault.
        except Exception as exc:
            parsed.records.append({})
            parsed.rejects.append((index, "invalid_item", f"{type(exc).__name__}: {exc}"[:200]))
            continue
        if record["title"] is None and record["body"] is None:
            parsed.records.append({})
            parsed.rejects.append((index, "no_text", "the item has neither title nor content"))
            continue
        parsed.records.append(record)
    return parsed


def parse_xml_feed(text: str, layout: str) -> Parsed:
    """An RSS or Atom feed's items as records. Raises `invalid_feed` or `no_records`."""
    # A stream, not a string: feedparser fetches a string that looks like a URL. The
    # text is decoded already, so the header overrides the declaration's encoding.
    try:
        feed = feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers={"content-type": "application/xml; charset=utf-8"},
        )
    # feedparser reads hostile markup: whatever it trips on is this feed's fault.
    except Exception as exc:
        raise Unreadable("invalid_feed", f"{type(exc).__name__}: {exc}"[:200]) from exc
    if feed.bozo and not feed.entries:
        raise Unreadable("invalid_feed", f"{feed.get('bozo_exception')}"[:200])
    site = _text(feed.feed.get("title_detail"), feed.feed.get("title"))
    language = feed.feed.get("language") or None
    parsed = _records(layout, feed.entries, lambda e: _entry_record(e, site, language))
    # Malformed XML is common and feedparser reads past it, but a feed cut off inside
    # its last item lost that item's end (its body, usually): that item is rejected.
    if feed.bozo and _ends_inside_an_item(text, layout):
        last = len(parsed.records) - 1
        parsed.records[last] = {}
        parsed.rejects = [r for r in parsed.rejects if r[0] != last]
        parsed.rejects.append((last, "truncated_item", "the feed ends inside this item"))
    return parsed


def _ends_inside_an_item(text: str, layout: str) -> bool:
    tag = "entry" if layout == "atom" else "item"
    opened = max(text.rfind(f"<{tag}>"), text.rfind(f"<{tag} "))
    return opened > text.rfind(f"</{tag}>")


def _json_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unreadable("wrong_type", f"{name} is a {type(value).__name__}")
    try:  # a JSON "\\ud800" escape decodes to a lone surrogate no file can store
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unreadable("invalid_text", f"{name} has a lone surrogate at {exc.start}") from None
    return value if value.strip() else None


def _json_item(item: Any, site: str | None, language: str | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Unreadable("not_an_object", f"item is a {type(item).__name__}")
    html = _json_text(item.get("content_html"), "content_html")
    plain = _json_text(item.get("content_text"), "content_text")
    summary = _json_text(item.get("summary"), "summary")
    body = html_paragraphs(html) if html else field_paragraphs(plain) if plain else None
    people = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [_json_text(p.get("name"), "authors") or "" for p in people if isinstance(p, dict)]
    tags = [_json_text(t, "tags") for t in item.get("tags") or [] if isinstance(t, str)]
    title = _json_text(item.get("title"), "title")
    return {
        "title": " ".join(title.split()) if title else None,
        "date_raw": _json_text(item.get("date_published"), "date_published")
        or _json_text(item.get("date_modified"), "date_modified"),
        "url": _json_text(item.get("url"), "url") or _json_text(item.get("external_url"), "url"),
        "body": body or (field_paragraphs(summary) if summary else None),
        "site_name": site,
        "authors": author_names(names),
        "description": summary if body else None,
        "image_url": _json_text(item.get("image"), "image")
        or _json_text(item.get("banner_image"), "banner_image"),
        "source_language": _json_text(item.get("language"), "language") or language,
        "tags": _unique(tags),
    }


def parse_json_feed(text: str) -> Parsed | None:
    """A JSON Feed's items as records; None when the text is not a JSON Feed after all."""
    try:
        feed = json.loads(text)
    except (ValueError, RecursionError):
        return None  # JSON Lines, or broken JSON: the JSON path says which
    version = feed.get("version") if isinstance(feed, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        return None
    items = feed.get("items")
    if not isinstance(items, list):
        raise Unreadable("invalid_feed", f"items is a {type(items).__name__}, not a list")
    site = _json_text(feed.get("title"), "title") if isinstance(feed.get("title"), str) else None
    language = feed.get("language")
    language = _json_text(language, "language") if isinstance(language, str) else None
    return _records("jsonfeed", items, lambda item: _json_item(item, site, language))
