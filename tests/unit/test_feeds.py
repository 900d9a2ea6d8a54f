"""Feeds (RSS, Atom, JSON Feed) and WARC files: the same articles as a JSON export or as
saved HTML pages give the same records, and each source field lands in its column."""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import random
import re
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.config import PipelineConfig
from tasks.clean import clean_frame
from tasks.decode import Unreadable
from tasks.feeds import html_paragraphs
from tasks.ingest import IngestResult
from tasks.layouts import detect_layout, parse
from tests.feed_files import (
    ARTICLES,
    SITE,
    Article,
    Capture,
    atom_feed,
    html_page,
    json_export,
    json_feed,
    rss_feed,
    warc_file,
)
from tests.unit.test_ingest import ingest_one, run, write

MAPPINGS = PipelineConfig().mappings()
RUN_DATE = dt.date(2025, 1, 1)
COMPARED = ["title", "body", "published_date", "url"]
FEEDS = {"rss": rss_feed, "atom": atom_feed, "jsonfeed": json_feed}


def cleaned(result: IngestResult) -> pl.DataFrame:
    rows, _, quarantined = clean_frame(result.ingested, RUN_DATE)
    assert quarantined.is_empty()
    return rows.sort("record_index")


def compared(result: IngestResult, columns: list[str] = COMPARED) -> list[dict[str, object]]:
    return cleaned(result).select(columns).sort("url").to_dicts()


# --- the same articles in every layout -------------------------------------------------------


@pytest.mark.parametrize("layout", FEEDS)
def test_a_feed_gives_the_records_of_the_json_export(tmp_path: Path, layout: str) -> None:
    reference = ingest_one(tmp_path / "json", "export.json", json_export(ARTICLES))
    feed = ingest_one(tmp_path / "feed", f"feed.{layout}", FEEDS[layout](ARTICLES))
    assert feed.quarantined.is_empty()
    assert feed.ingested["layout"].unique().to_list() == [layout]
    columns = [*COMPARED, "authors"]
    assert compared(feed, columns) == compared(reference, columns)
    assert cleaned(feed)["authors"].to_list() == [a.authors for a in ARTICLES]


@pytest.mark.parametrize("layout", FEEDS)
def test_a_gzipped_feed_is_read_like_the_plain_one(tmp_path: Path, layout: str) -> None:
    plain = ingest_one(tmp_path / "a", "feed", FEEDS[layout](ARTICLES))
    packed = ingest_one(tmp_path / "b", "feed", gzip.compress(FEEDS[layout](ARTICLES).encode()))
    assert compared(packed) == compared(plain)


def test_a_warc_gives_the_records_of_the_saved_pages(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    for i, article in enumerate(ARTICLES):
        write(pages, f"page{i}.html", html_page(article))
    reference, _ = run(pages)
    captures = [Capture(f"{a.url}?src=crawl", html_page(a).encode()) for a in ARTICLES]
    warc = ingest_one(tmp_path / "warc", "crawl.warc.gz", warc_file(captures))
    assert warc.quarantined.is_empty()
    columns = [*COMPARED, "authors"]
    assert compared(warc, columns) == compared(reference, columns)
    rows = cleaned(warc)
    assert rows["url_raw"].to_list() == [c.target_uri for c in captures]
    assert rows["fetched_at"].to_list() == [dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)] * 3
    assert set(rows["layout"]) == {"warc"}


def test_feed_items_carry_the_sources_fields(tmp_path: Path) -> None:
    ferry = ARTICLES[0]
    for layout, build in FEEDS.items():
        row = ingest_one(tmp_path / layout, "feed", build(ARTICLES)).ingested.row(0, named=True)
        assert row["site_name"] == SITE, layout
        assert row["tags"] == ferry.tags, layout
        assert row["description"] == ferry.summary, layout  # the body is the full content
        assert row["image_url"] == ferry.image, layout
        assert row["source_language"].lower() == "en-gb", layout
        assert row["date_raw"], layout
        assert "<" not in row["body"], layout


def test_rss_description_is_the_body_when_there_is_no_content() -> None:
    feed = (
        '<rss version="2.0"><channel><title>Gazette</title><item><title>Pier plan</title>'
        "<link>https://x.example/p</link><author>desk@x.example (Ada Quill)</author>"
        "<description>&lt;p&gt;The pier will be rebuilt.&lt;/p&gt;&lt;p&gt;Work starts soon."
        "&lt;/p&gt;</description></item></channel></rss>"
    )
    [record] = parse(feed, MAPPINGS).records
    assert record["body"] == "The pier will be rebuilt.\n\nWork starts soon."
    assert record["description"] is None
    assert record["authors"] == ["Ada Quill"]


@pytest.mark.parametrize("layout", ["rss", "atom"])
def test_content_without_a_summary_gives_no_description(layout: str) -> None:
    feed = FEEDS[layout]([replace(ARTICLES[1], summary=None)])
    feed = re.sub(r"<description>.*?</description>", "", feed)
    [record] = parse(feed, MAPPINGS).records
    assert record["body"] == ARTICLES[1].body
    assert record["description"] is None


def test_rss_1_0_with_dublin_core_fields() -> None:
    feed = (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="https://x.example/"><title>Gazette</title>'
        "<link>https://x.example/</link><description>d</description>"
        "<dc:language>cy</dc:language></channel>"
        '<item rdf:about="https://x.example/a"><title>Pier plan</title>'
        "<link>https://x.example/a</link><description>The pier will be rebuilt.</description>"
        "<dc:creator>Ada Quill</dc:creator><dc:date>2024-03-05T09:30:00Z</dc:date>"
        "<dc:subject>Harbour</dc:subject></item></rdf:RDF>"
    )
    parsed = parse(feed, MAPPINGS)
    assert parsed.layout == "rss"
    [record] = parsed.records
    assert (record["date_raw"], record["authors"], record["tags"]) == (
        "2024-03-05T09:30:00Z",
        ["Ada Quill"],
        ["Harbour"],
    )
    assert (record["site_name"], record["source_language"]) == ("Gazette", "cy")


def test_atom_xhtml_content_and_updated_date() -> None:
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>G</title><entry><title>A</title>'
        '<link href="https://x.example/b"/><updated>2024-03-06T00:00:00Z</updated>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One.</p>'
        "<ul><li>Two</li></ul></div></content></entry></feed>"
    )
    [record] = parse(feed, MAPPINGS).records
    assert (record["body"], record["date_raw"]) == ("One.\n\nTwo", "2024-03-06T00:00:00Z")


def test_json_feed_1_0_author_text_content_and_item_language() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Gazette",
        "language": "en",
        "items": [
            {
                "id": "1",
                "title": "Pier plan",
                "content_text": "First paragraph.\n\nSecond paragraph.",
                "author": {"name": "Ada Quill & Ben Marrow"},
                "date_modified": "2024-03-05T10:00:00Z",
                "external_url": "https://x.example/p",
                "language": "cy",
            }
        ],
    }
    [record] = parse(json.dumps(feed), MAPPINGS).records
    assert record["body"] == "First paragraph.\n\nSecond paragraph."
    assert record["authors"] == ["Ada Quill", "Ben Marrow"]
    assert (record["date_raw"], record["url"]) == ("2024-03-05T10:00:00Z", "https://x.example/p")
    assert record["source_language"] == "cy"


def test_feed_item_without_title_or_content_is_a_record_reject() -> None:
    feed = (
        '<rss version="2.0"><channel><title>G</title><item><link>https://x.example/a</link>'
        "</item><item><title>Kept</title></item></channel></rss>"
    )
    parsed = parse(feed, MAPPINGS)
    assert parsed.rejects == [(0, "no_text", "the item has neither title nor content")]
    assert parsed.records[1]["title"] == "Kept"


def test_json_feed_item_of_the_wrong_type_is_a_record_reject() -> None:
    items = [{"title": 5, "content_text": "x"}, "not an item", {"title": "Kept"}]
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    parsed = parse(feed, MAPPINGS)
    assert [(i, rule) for i, rule, _ in parsed.rejects] == [(0, "wrong_type"), (1, "not_an_object")]
    assert parsed.records[2]["title"] == "Kept"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('<rss version="2.0"><channel><title>Empty</title></channel></rss>', "no_records"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Empty</title></feed>', "no_records"),
        ('{"version": "https://jsonfeed.org/version/1.1", "items": []}', "no_records"),
        ('<rss version="2.0"><channel><title>x</title><<<>>>', "invalid_feed"),
        ('{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "invalid_feed"),
    ],
)
def test_a_feed_with_no_items_or_broken_is_quarantined_whole(
    tmp_path: Path, text: str, rule: str
) -> None:
    result = ingest_one(tmp_path, "feed.xml", text)
    assert result.ingested.is_empty()
    assert result.quarantined.select("record_index", "rule").to_dicts() == [
        {"record_index": None, "rule": rule}
    ]


def test_a_feed_cut_inside_its_last_item_rejects_that_item_only() -> None:
    feed = rss_feed(ARTICLES)
    cut = feed[: feed.rindex("<content:encoded>") + 40]
    parsed = parse(cut, MAPPINGS)
    assert parsed.rejects == [(2, "truncated_item", "the feed ends inside this item")]
    assert [r["title"] for r in parsed.records[:2]] == [a.title for a in ARTICLES[:2]]


def test_json_that_names_json_feed_but_is_an_array_of_articles_stays_json() -> None:
    text = json.dumps([{"title": "T", "body": "B", "version": "https://jsonfeed.org/version/1.1"}])
    parsed = parse(text, MAPPINGS)
    assert (parsed.layout, parsed.records[0]["title"]) == ("json", "T")


# --- detection -------------------------------------------------------------------------------

SITEMAP = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    "<url><loc>https://x.example/a</loc></url></urlset>"
)
XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Pier plan</title></head>'
    "<body><p>The pier will be rebuilt next year.</p></body></html>"
)


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        ('<rss version="2.0"><channel></channel></rss>', "rss"),
        ('<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<!-- c -->\n<rss>', "rss"),
        ('<rdf:RDF xmlns:rdf="x" xmlns="http://purl.org/rss/1.0/"><item/></rdf:RDF>', "rss"),
        ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>', "atom"),
        ('<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"></atom:feed>', "atom"),
        ('{"version": "https://jsonfeed.org/version/1", "items": []}', "jsonfeed"),
        (
            '{"title": "Pier", "body": "see \\"version\\": \\"https://jsonfeed.org/version/1\\""}',
            "json",
        ),
        (XHTML, "html"),
        ('<?xml version="1.0"?>\n<html><body><p>x</p></body></html>', "html"),
    ],
)
def test_detect_feeds(text: str, layout: str) -> None:
    assert detect_layout(text) == layout


@pytest.mark.parametrize(
    "text",
    [
        SITEMAP,
        '<?xml version="1.0"?><catalog><book id="1"><title>Pier</title></book></catalog>',
        '<?xml version="1.0"?><feed><title>Not Atom: no namespace</title></feed>',
    ],
)
def test_xml_that_is_neither_a_feed_nor_a_page_is_an_unknown_layout(text: str) -> None:
    with pytest.raises(Unreadable) as excinfo:
        detect_layout(text)
    assert excinfo.value.rule == "unknown_layout"
    assert re.search(r"<(urlset|catalog|feed)>", excinfo.value.detail)


def test_xhtml_page_is_parsed_as_html() -> None:
    parsed = parse(XHTML, MAPPINGS)
    assert parsed.layout == "html"
    assert parsed.records[0]["body"] == "The pier will be rebuilt next year."


# --- HTML bodies to text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One.</p><ul><li>Two</li><li>Three</li></ul>", "One.\n\nTwo\n\nThree"),
        ("Line one<br>line two<br/><br>Next", "Line one\nline two\n\nNext"),
        ("<p>Fish &amp; chips &lt;3 &#8220;here&#8221;</p>", "Fish & chips <3 \u201chere\u201d"),
        ("<p>Kept</p><script>var x = 1;</script><style>p{}</style><!-- note -->", "Kept"),
        (
            "<div><h2>Head</h2>Text <b>bold</b> and\n  <i>wrapped</i> words</div>",
            "Head\n\nText bold and wrapped words",
        ),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"),
        ("Plain text, no markup.\nSecond line.", "Plain text, no markup.\n\nSecond line."),
        ("", ""),
    ],
)
def test_html_paragraphs(markup: str, text: str) -> None:
    assert html_paragraphs(markup) == text


_WORDS = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1)


@given(st.lists(_WORDS.filter(lambda w: w.strip()), min_size=1, max_size=5))
def test_html_paragraphs_gives_back_escaped_paragraphs(paragraphs: list[str]) -> None:
    expected = [" ".join(p.split()) for p in paragraphs]
    markup = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    assert html_paragraphs(markup) == "\n\n".join(p for p in expected if p)


_TAGS = ["p", "div", "li", "ul", "span", "b", "i", "a", "h2", "td", "blockquote"]
_TEXT = st.text(st.sampled_from("abc xyz.,\u00e9\u201c&<>\n"), max_size=12)


@st.composite
def _fragments(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """(markup, the text nodes it holds in order) of a random fragment."""
    parts = draw(
        st.lists(
            st.one_of(_TEXT, st.just("<br>"))
            if depth > 2
            else st.one_of(_TEXT, st.just("<br>"), st.sampled_from(_TAGS)),
            max_size=4,
        )
    )
    markup, text = [], []
    for part in parts:
        if part == "<br>":
            markup.append(part)
        elif part in _TAGS:
            inner, inner_text = draw(_fragments(depth + 1))
            markup.append(f"<{part}>{inner}</{part}>")
            text.append(inner_text)
        else:
            markup.append(html.escape(part))
            text.append(part)
    return "".join(markup), "".join(text)


@given(_fragments())
def test_html_paragraphs_keeps_every_character_of_the_text_and_no_markup(
    fragment: tuple[str, str],
) -> None:
    markup, text = fragment
    out = html_paragraphs(markup)
    assert "".join(out.split()) == "".join(text.split())  # nothing lost, added or moved


# --- WARC ------------------------------------------------------------------------------------


def test_warc_skips_what_is_not_an_article_and_counts_it(tmp_path: Path) -> None:
    page = html_page(ARTICLES[1]).encode()
    captures = [
        Capture("https://gazette.example/a.css", b"p { color: red }", "text/css"),
        Capture("https://gazette.example/old", b"<html>Moved</html>", status="301 Moved"),
        Capture("https://gazette.example/lib", page),
    ]
    result = ingest_one(tmp_path, "crawl.warc", warc_file(captures, compress=False))
    assert result.ingested["title"].to_list() == [ARTICLES[1].title]
    assert result.ingested["record_index"].to_list() == [6]  # warcinfo, then request/response
    assert result.skipped == {
        "warc_warcinfo": 1,
        "warc_request": 3,
        "warc_not_html": 1,
        "warc_http_not_ok": 1,
    }
    assert result.records_in == 1


def test_warc_page_without_canonical_link_takes_the_target_uri(tmp_path: Path) -> None:
    target = "https://gazette.example/market?id=7"
    page = html_page(ARTICLES[2], canonical=False).encode()
    result = ingest_one(tmp_path, "crawl.warc.gz", warc_file([Capture(target, page)]))
    row = result.ingested.row(0, named=True)
    assert (row["url"], row["url_raw"]) == (target, target)


def test_warc_html_response_with_nothing_in_it_is_a_record_reject(tmp_path: Path) -> None:
    captures = [
        Capture("https://gazette.example/blank", b"<html><body></body></html>"),
        Capture("https://gazette.example/empty", b""),
        Capture("https://gazette.example/lib", html_page(ARTICLES[1]).encode()),
    ]
    result = ingest_one(tmp_path, "crawl.warc.gz", warc_file(captures))
    assert result.quarantined.select("record_index", "rule").to_dicts() == [
        {"record_index": 2, "rule": "no_main_text"},
        {"record_index": 4, "rule": "empty_response"},
    ]
    assert result.ingested["record_index"].to_list() == [6]
    assert result.records_in == 3


def test_warc_page_in_a_declared_legacy_charset_is_decoded_with_it(tmp_path: Path) -> None:
    article = ARTICLES[1]
    page = html_page(article).replace("forty study desks", "forty \u00a3 study \u201cdesks\u201d")
    capture = Capture(
        "https://gazette.example/lib", page.encode("cp1252"), "text/html; charset=ISO-8859-1"
    )
    [row] = ingest_one(tmp_path, "crawl.warc", warc_file([capture])).ingested.to_dicts()
    assert row["encoding"] == "cp1252"
    assert "forty \u00a3 study \u201cdesks\u201d" in row["body"]


def _padded_page(article: Article, seed: int) -> bytes:
    """A page with a comment of random hex: its gzip member outgrows warcio's read-ahead."""
    noise = random.Random(seed).randbytes(30_000).hex()
    return html_page(article).replace("</body>", f"<!-- {noise} --></body>").encode()


def test_gzipped_warc_cut_off_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    captures = [Capture(f"{a.url}?n={i}", _padded_page(a, i)) for i, a in enumerate(ARTICLES)]
    data = warc_file(captures)
    result = ingest_one(tmp_path, "crawl.warc.gz", data[: len(data) - 200])
    assert result.ingested["title"].to_list() == [a.title for a in ARTICLES[:2]]
    [row] = result.quarantined.to_dicts()
    assert (row["record_index"], row["rule"]) == (None, "corrupt_compression")
    assert "after 2 records" in row["detail"]
    assert result.manifest.select("status", "records").to_dicts() == [
        {"status": "ingested", "records": 2}
    ]


def test_uncompressed_warc_cut_inside_a_record_rejects_that_record(tmp_path: Path) -> None:
    captures = [Capture(f"{a.url}?n={i}", html_page(a).encode()) for i, a in enumerate(ARTICLES)]
    data = warc_file(captures, compress=False)
    result = ingest_one(tmp_path, "crawl.warc", data[: len(data) - 300])
    assert result.ingested["title"].to_list() == [a.title for a in ARTICLES[:2]]
    assert result.quarantined.select("record_index", "rule").to_dicts() == [
        {"record_index": 6, "rule": "truncated_record"}
    ]


def test_warc_compressed_as_one_gzip_stream_is_read(tmp_path: Path) -> None:
    captures = [Capture(a.url, html_page(a).encode()) for a in ARTICLES]
    whole = gzip.compress(warc_file(captures, compress=False))
    result = ingest_one(tmp_path, "crawl.warc.gz", whole)
    assert result.ingested["title"].to_list() == [a.title for a in ARTICLES]


def test_warc_detected_from_content_not_name(tmp_path: Path) -> None:
    page = html_page(ARTICLES[0]).encode()
    result = ingest_one(tmp_path, "download.bin", warc_file([Capture(ARTICLES[0].url, page)]))
    assert result.ingested["layout"].to_list() == ["warc"]


def test_warc_without_any_html_page_is_quarantined_naming_what_it_held(tmp_path: Path) -> None:
    captures = [Capture("https://gazette.example/logo.png", b"\x89PNG....", "image/png")]
    result = ingest_one(tmp_path, "images.warc.gz", warc_file(captures))
    [row] = result.quarantined.to_dicts()
    assert (row["record_index"], row["rule"]) == (None, "no_records")
    assert "warc_not_html 1" in row["detail"]
    assert result.manifest["status"].to_list() == ["quarantined"]


@pytest.mark.parametrize(
    "data",
    [
        b"WARC/1.0\r\n\x00\x01garbage\r\n\r\n",
        b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: abc\r\n\r\nxxx",
        b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nHTTP/1.1 200 OK\r\n",
    ],
)
def test_hostile_warc_is_quarantined_not_crashing(tmp_path: Path, data: bytes) -> None:
    result = ingest_one(tmp_path, "bad.warc", data)
    assert result.ingested.is_empty()
    assert result.quarantined["rule"].to_list()[-1] in ("no_records", "invalid_warc")
    assert result.manifest["status"].to_list() == ["quarantined"]
