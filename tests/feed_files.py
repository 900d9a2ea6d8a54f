"""Feeds, JSON exports, HTML pages and WARC files written at test time from invented
articles, so one story can be ingested in every layout and the records compared."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import html
import io
import json
from dataclasses import dataclass, field

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.articles import FERRY, LIBRARY, MARKET

SITE = "Harbour Gazette"


@dataclass(frozen=True)
class Article:
    title: str
    published: dt.datetime
    url: str
    paragraphs: list[str]
    authors: list[str]
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    image: str | None = None
    # Shown as a bulleted list after the paragraphs; each item is a paragraph of the body.
    list_items: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join([*self.paragraphs, *self.list_items])

    def body_html(self) -> str:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        items = "".join(f"<li>{html.escape(i)}</li>" for i in self.list_items)
        return paragraphs + (f"<ul>{items}</ul>" if items else "")


def _paragraphs(sentences: list[str]) -> list[str]:
    return [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]


ARTICLES = [
    Article(
        title="Gullhaven ferry to stop running & islanders fight back",
        published=dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC),
        url="https://gazette.example/news/2024/ferry-closure",
        paragraphs=_paragraphs(FERRY[:10]),
        authors=["Ada Quill", "Ben Marrow"],
        tags=["Transport", "Islands"],
        summary="The crossing to Marrow Point ends in March.",
        image="https://gazette.example/img/ferry.jpg",
        list_items=[FERRY[10], FERRY[11], FERRY[12]],
    ),
    Article(
        title="Northgate library opens its new reading room",
        published=dt.datetime(2024, 3, 7, 18, 0, tzinfo=dt.UTC),
        url="https://gazette.example/news/2024/library-room",
        paragraphs=_paragraphs(LIBRARY),
        authors=["Cora Penn"],
        tags=["Libraries"],
        summary="Forty desks and a children's corner.",
    ),
    Article(
        title="Ashby Vale market to open on Sunday mornings",
        published=dt.datetime(2024, 3, 9, 7, 15, tzinfo=dt.UTC),
        url="https://gazette.example/news/2024/market-sundays",
        paragraphs=_paragraphs(MARKET),
        authors=["Dev Okafor"],
    ),
]


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def json_export(articles: list[Article]) -> str:
    """A JSON array in the generic mapping's field names."""
    objects = [
        {
            "title": a.title,
            "date": _iso(a.published),
            "url": a.url,
            "body": a.body,
            "authors": ", ".join(a.authors),
        }
        for a in articles
    ]
    return json.dumps(objects, indent=2)


def rss_feed(articles: list[Article]) -> str:
    """RSS 2.0 with content:encoded bodies, dc:creator authors and media images."""
    items = []
    for a in articles:
        creators = "".join(f"<dc:creator>{html.escape(n)}</dc:creator>" for n in a.authors)
        categories = "".join(f"<category>{html.escape(t)}</category>" for t in a.tags)
        image = f'<media:content url="{a.image}" medium="image"/>' if a.image else ""
        items.append(
            f"<item><title>{html.escape(a.title)}</title><link>{a.url}</link>"
            f"<guid>{a.url}</guid>"
            f"<pubDate>{email.utils.format_datetime(a.published)}</pubDate>{creators}{categories}"
            f"<description>{html.escape(a.summary or '')}</description>"
            f"<content:encoded><![CDATA[{a.body_html()}]]></content:encoded>{image}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>{SITE}</title><link>https://gazette.example/</link>"
        f"<description>News</description><language>en-gb</language>{''.join(items)}"
        "</channel></rss>\n"
    )


def atom_feed(articles: list[Article]) -> str:
    """Atom 1.0 with escaped HTML content, one <author> per name, category terms."""
    entries = []
    for a in articles:
        authors = "".join(f"<author><name>{html.escape(n)}</name></author>" for n in a.authors)
        categories = "".join(f'<category term="{html.escape(t)}"/>' for t in a.tags)
        image = f'<link rel="enclosure" type="image/jpeg" href="{a.image}"/>' if a.image else ""
        summary = f"<summary>{html.escape(a.summary)}</summary>" if a.summary else ""
        entries.append(
            f"<entry><id>{a.url}</id><title>{html.escape(a.title)}</title>"
            f'<link rel="alternate" href="{a.url}"/>{image}'
            f"<published>{_iso(a.published)}</published><updated>{_iso(a.published)}</updated>"
            f'{authors}{categories}{summary}<content type="html">{html.escape(a.body_html())}'
            "</content></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-gb">'
        f"<title>{SITE}</title><id>https://gazette.example/</id>"
        f"<updated>{_iso(articles[0].published)}</updated>{''.join(entries)}</feed>\n"
    )


def json_feed(articles: list[Article]) -> str:
    """JSON Feed 1.1."""
    items = [
        {
            "id": a.url,
            "url": a.url,
            "title": a.title,
            "content_html": a.body_html(),
            "summary": a.summary,
            "date_published": _iso(a.published),
            "authors": [{"name": n} for n in a.authors],
            "tags": a.tags,
            "image": a.image,
        }
        for a in articles
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": SITE,
        "language": "en-GB",
        "items": items,
    }
    return json.dumps(feed, indent=2)


def html_page(article: Article, canonical: bool = True) -> str:
    """An article page with its metadata in the head, as news sites serve them."""
    link = f'<link rel="canonical" href="{article.url}">' if canonical else ""
    authors = "".join(f'<meta name="author" content="{html.escape(n)}">' for n in article.authors)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(article.title)} | {SITE}</title>{link}"
        f'<meta property="og:site_name" content="{SITE}">{authors}'
        f'<meta property="article:published_time" content="{_iso(article.published)}">'
        f"</head><body><nav><a href='/'>Home</a></nav><article>"
        f"<h1>{html.escape(article.title)}</h1>{paragraphs}</article>"
        "<footer>Copyright Harbour Gazette</footer></body></html>\n"
    )


@dataclass(frozen=True)
class Capture:
    """One fetched page: what a crawler asked for and what it got back."""

    target_uri: str
    payload: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    fetched: str = "2024-03-10T12:00:00Z"


def warc_file(captures: list[Capture], compress: bool = True) -> bytes:
    """A WARC (gzip per record, as CC-NEWS) with a warcinfo, then a request and a
    response per capture."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compress)
    writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "tests"}))
    for capture in captures:
        request = writer.create_warc_record(
            capture.target_uri,
            "request",
            payload=io.BytesIO(b"GET / HTTP/1.1\r\nHost: gazette.example\r\n\r\n"),
            warc_headers_dict={"WARC-Date": capture.fetched},
        )
        writer.write_record(request)
        headers = StatusAndHeaders(
            capture.status, [("Content-Type", capture.content_type)], protocol="HTTP/1.1"
        )
        response = writer.create_warc_record(
            capture.target_uri,
            "response",
            payload=io.BytesIO(capture.payload),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": capture.fetched},
        )
        writer.write_record(response)
    return out.getvalue()


def gunzipped(data: bytes) -> bytes:
    return gzip.decompress(data)
