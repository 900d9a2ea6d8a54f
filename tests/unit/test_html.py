"""tasks.html: HTML pages -> one record, main text and metadata by trafilatura."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.decode import Unreadable
from tasks.html import headline, parse_html, without_site_name
from tasks.ingest import ingest_files, read_file
from tasks.layouts import FIELDS, detect_layout, parse
from tasks.parsed import Parsed, Record

CONFIG = PipelineConfig()
MAPPINGS = CONFIG.mappings()
URL = "https://www.ribbleton-gazette.example/news/2023/harbour-ferry-returns"
PARAGRAPHS = [
    "The little ferry that links the two halves of Ribbleton harbour went back into "
    "service on Friday morning after four months in dry dock.",
    "Engineers replaced the propeller shaft and rebuilt the wheelhouse, which had been "
    "damaged in a storm last November, the harbour trust said.",
    "The first crossing of the day carried eleven passengers and two bicycles, and the "
    "skipper, Morag Ellison, said regulars had been asking for weeks when it would return.",
    "Fares are unchanged at one pound fifty for adults, and children under twelve travel "
    "free until the end of the summer.",
]
# Page furniture that must not reach the body.
FURNITURE = [
    "cookies",
    "Share on Facebook",
    "Email this story",
    "Weather",
    "Great news, I missed this boat",
    "Harbourwatcher",
    "All rights reserved",
    "Privacy policy",
]

ARTICLE_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Harbour ferry returns after winter repairs | Ribbleton Gazette</title>
<link rel="canonical" href="{URL}">
<meta property="og:url" content="{URL}">
<meta property="og:site_name" content="Ribbleton Gazette">
<meta property="article:published_time" content="2023-04-14T08:30:00+01:00">
</head>
<body>
<div id="cookie-banner" class="cookie-consent">
  <p>We use cookies to improve your experience on our site.</p><button>Accept all cookies</button>
</div>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/news">News</a></li>
  <li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li>
</ul></nav></header>
<main>
<article>
<h1>Harbour ferry returns after winter repairs</h1>
<div class="share-buttons">
  <a href="/share/facebook">Share on Facebook</a> <a href="/share/twitter">Share on Twitter</a>
  <a href="/share/email">Email this story</a>
</div>
<p>{PARAGRAPHS[0]}</p>
<p>{PARAGRAPHS[1]}</p>
<p>{PARAGRAPHS[2]}</p>
<p>{PARAGRAPHS[3]}</p>
</article>
<section id="comments" class="comments">
<h3>3 comments</h3>
<div class="comment"><p class="comment-author">Harbourwatcher</p>
<p>Great news, I missed this boat all winter long and the bus round the bay takes forever.</p>
</div>
</section>
</main>
<footer><p>Copyright 2023 Ribbleton Gazette Ltd. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/contact">Contact us</a></footer>
</body>
</html>
"""

NO_TEXT_PAGE = """<!DOCTYPE html>
<html><head><title>Photo gallery: spring at the allotments</title></head>
<body><div class="gallery"><img src="a.jpg" alt=""><img src="b.jpg" alt=""></div>
<script>loadGallery();</script></body></html>
"""


def only_record(parsed: Parsed) -> Record:
    assert parsed.layout == "html"
    assert parsed.rejects == []
    [record] = parsed.records
    return record


def assert_well_formed_body(body: str | None) -> None:
    """None, or paragraphs one blank line apart with no empty or padded paragraph."""
    if body is None:
        return
    for paragraph in body.split("\n\n"):
        assert paragraph
        assert paragraph == paragraph.strip()
        assert "\n" not in paragraph


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        ARTICLE_PAGE,
        "<!-- saved by a crawler -->\n<!-- 2023-04-14 -->\n" + ARTICLE_PAGE,
        '<meta property="og:title" content="A"><div><p>Article text.</p></div>',
        "<style>body { color: red; }</style>\n<div class='story'><p>Text</p></div>",
        "<DIV class=story><P>Shouting page</P></DIV>",
        "\n\n  <title>Page</title><p>Text</p>",
    ],
    ids=["doctype", "leading-comments", "meta-first", "style-first", "upper-case", "title-first"],
)
def test_html_is_detected_from_content(text: str) -> None:
    assert detect_layout(text) == "html"


@pytest.mark.parametrize(
    "text",
    [
        "<3 from the harbour\n\nThe ferry is back and the town is pleased.\n",
        "<div> is a tag, a reader writes\n\nHe is right, and the tag never closes here.\n",
    ],
    ids=["heart", "tag-without-document"],
)
def test_text_that_merely_starts_with_a_bracket_is_not_html(text: str) -> None:
    assert detect_layout(text) == "plain"


def test_the_file_name_does_not_decide_the_layout(tmp_path: Path) -> None:
    page = tmp_path / "notes.txt"
    page.write_text(ARTICLE_PAGE)
    text_file = tmp_path / "page.html"
    text_file.write_text("Ferry back in service\n\nThe harbour ferry sailed again today.\n")
    assert read_file(page, CONFIG.max_file_bytes, MAPPINGS)[0].layout == "html"
    assert read_file(text_file, CONFIG.max_file_bytes, MAPPINGS)[0].layout == "plain"


# --- the article page ------------------------------------------------------------------------


def test_article_page_yields_the_article_and_its_metadata() -> None:
    record = only_record(parse(ARTICLE_PAGE, MAPPINGS))
    assert record == {
        "title": "Harbour ferry returns after winter repairs",
        "date_raw": "2023-04-14",
        "url": URL,
        "body": "\n\n".join(PARAGRAPHS),
        "site_name": "Ribbleton Gazette",
        "authors": [],
        "description": None,
        "image_url": None,
        "tags": [],
        "source_language": "en",
    }


def test_the_page_metadata_fills_the_source_fields() -> None:
    page = ARTICLE_PAGE.replace('<html lang="en">', '<html lang="en-GB">').replace(
        "</head>",
        '<meta name="author" content="By Morag Ellison and Tam Reid">\n'
        '<meta name="description" content="The ferry is back after four months.">\n'
        '<meta property="og:image" content="https://img.ribbleton-gazette.example/f.jpg">\n'
        '<meta property="article:section" content="Local news">\n'
        '<meta property="article:tag" content="Transport">\n'
        '<meta property="article:tag" content="Harbour">\n</head>',
    )
    record = only_record(parse(page, MAPPINGS))
    assert record["authors"] == ["Morag Ellison", "Tam Reid"]
    assert record["description"] == "The ferry is back after four months."
    assert record["image_url"] == "https://img.ribbleton-gazette.example/f.jpg"
    assert record["tags"] == ["Local news", "Transport", "Harbour"]
    assert record["source_language"] == "en-GB"


def test_article_page_body_holds_none_of_the_furniture() -> None:
    body = only_record(parse_html(ARTICLE_PAGE))["body"]
    assert body is not None
    assert [f for f in FURNITURE if f in body] == []


def test_url_comes_from_the_canonical_link_without_og_url() -> None:
    page = ARTICLE_PAGE.replace(f'<meta property="og:url" content="{URL}">', "")
    canonical = "https://www.ribbleton-gazette.example/news/ferry"
    page = page.replace(
        f'<link rel="canonical" href="{URL}">', f'<link rel="canonical" href="{canonical}">'
    )
    assert only_record(parse_html(page))["url"] == canonical


def test_url_comes_from_og_url_without_a_canonical_link() -> None:
    og_url = "https://www.ribbleton-gazette.example/news/ferry-og"
    page = ARTICLE_PAGE.replace(f'<link rel="canonical" href="{URL}">', "")
    page = page.replace(
        f'<meta property="og:url" content="{URL}">', f'<meta property="og:url" content="{og_url}">'
    )
    assert only_record(parse_html(page))["url"] == og_url


def test_gzipped_page_is_read_through_read_file(tmp_path: Path) -> None:
    path = tmp_path / "article.bin"
    path.write_bytes(gzip.compress(ARTICLE_PAGE.encode("utf-8"), mtime=0))
    parsed, encoding = read_file(path, CONFIG.max_file_bytes, MAPPINGS)
    assert encoding == "utf-8"
    record = only_record(parsed)
    assert record["title"] == "Harbour ferry returns after winter repairs"
    assert record["body"] == "\n\n".join(PARAGRAPHS)


def test_ingest_puts_the_site_name_in_its_column(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    (root / "page.html.gz").write_bytes(gzip.compress(ARTICLE_PAGE.encode(), mtime=0))
    (root / "plain.txt").write_text("Ferry back\n\nThe harbour ferry sailed again today.\n")
    files, _ = list_inputs(root)
    [batch] = plan_batches(files, batch_size=10, max_bytes=1 << 30)
    result = ingest_files(batch, root, CONFIG, "run-html")
    rows = result.ingested.sort("source_file").select("source_file", "layout", "site_name")
    assert rows.rows() == [
        ("page.html.gz", "html", "Ribbleton Gazette"),
        ("plain.txt", "plain", None),
    ]
    assert result.quarantined.height == 0


# --- pages without an article ----------------------------------------------------------------


def test_page_with_a_title_but_no_text_has_no_body() -> None:
    record = only_record(parse_html(NO_TEXT_PAGE))
    assert record["title"] == "Photo gallery: spring at the allotments"
    assert record["body"] is None


def test_page_with_a_title_but_no_text_is_metadata_only_at_clean(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    (root / "gallery.html").write_text(NO_TEXT_PAGE)
    files, _ = list_inputs(root)
    [batch] = plan_batches(files, batch_size=10, max_bytes=1 << 30)
    ingested = ingest_files(batch, root, CONFIG, "run-html").ingested
    assert ingested.height == 1
    cleaned, metadata_only, quarantined = clean_frame(ingested, dt.date(2024, 1, 1))
    assert (cleaned.height, quarantined.height) == (0, 0)
    assert metadata_only.select("source_file", "title", "body").rows() == [
        ("gallery.html", "Photo gallery: spring at the allotments", None)
    ]


def test_script_only_page_is_unreadable_as_no_main_text() -> None:
    page = (
        "<!DOCTYPE html><html><head><script>var tracking = {id: 42};</script></head>"
        "<body><script>document.write('<p>Loading article</p>');</script></body></html>"
    )
    with pytest.raises(Unreadable) as excinfo:
        parse_html(page)
    assert excinfo.value.rule == "no_main_text"


def test_page_with_neither_text_nor_title_is_quarantined_at_ingest(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    (root / "tracker.html").write_text("<html><head><script>track();</script></head></html>")
    files, _ = list_inputs(root)
    [batch] = plan_batches(files, batch_size=10, max_bytes=1 << 30)
    result = ingest_files(batch, root, CONFIG, "run-html")
    assert result.ingested.height == 0
    assert result.quarantined.select("source_file", "rule").rows() == [
        ("tracker.html", "no_main_text")
    ]


# --- hostile pages ---------------------------------------------------------------------------

HOSTILE = {
    "unclosed-tags": "<html><body><div><p>Ferry news <b>bold <i>italic <div><p>more <table><tr>x",
    "binary-junk": "<html><body><p>Start "
    + bytes(range(256)).decode("latin-1") * 4
    + " end</p></body></html>",
    "huge-single-line": "<html><body>"
    + "<p>The ferry crossed the harbour again today. </p>" * 8_000
    + "</body></html>",
    "deep-nesting": "<html><body>" + "<div>" * 20_000 + "deep text" + "</div>" * 20_000,
    "script-only": "<html><script>" + "x = 1;" * 10_000 + "</script></html>",
    "bare-html": "<html>",
    "empty-body": "<!doctype html><html><head></head><body></body></html>",
    "rss": "<?xml version='1.0'?><rss><channel><item><title>x</title></item></channel></rss>",
    "comment-never-closed": "<!-- " + "a" * 10_000,
    "attribute-junk": '<html><body><p class="' + '"' * 5000 + ">text</p></body></html>",
    "bad-entities": "<html><body><p>&#xD800; &#0; &#x110000; entity junk</p></body></html>",
}


@pytest.mark.parametrize("page", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_html_never_raises_anything_but_unreadable(page: str) -> None:
    rule = None
    try:
        record = only_record(parse_html(page))
    except Unreadable as exc:
        rule = exc.rule
    if rule is not None:
        assert rule in {"no_main_text", "html_unparseable"}
    else:
        assert set(record) == {
            *FIELDS,
            "site_name",
            "authors",
            "description",
            "image_url",
            "tags",
            "source_language",
        }
        assert record["title"] or record["body"]
        assert_well_formed_body(record["body"])


def test_huge_single_line_page_keeps_its_text() -> None:
    body = only_record(parse_html(HOSTILE["huge-single-line"]))["body"]
    assert body is not None
    assert body.count("The ferry crossed the harbour again today.") >= 1_000
    assert_well_formed_body(body)


# --- headline --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Ferry returns | Ribbleton Gazette", "Ribbleton Gazette", "Ferry returns"),
        ("Ribbleton Gazette - Ferry returns", "Ribbleton Gazette", "Ferry returns"),
        ("Ferry returns - Gazette", "Ribbleton Gazette", "Ferry returns"),
        ("Ferry returns - after repairs", "Ribbleton Gazette", "Ferry returns - after repairs"),
        ("Ribbleton Gazette", "Ribbleton Gazette", "Ribbleton Gazette"),
        ("Ferry returns | Ribbleton Gazette", None, "Ferry returns | Ribbleton Gazette"),
        ("Ferry: the return", "Ribbleton Gazette", "Ferry: the return"),
    ],
)
def test_without_site_name(title: str, site: str | None, expected: str) -> None:
    assert without_site_name(title, site) == expected


@pytest.mark.parametrize(
    ("title", "h1s", "expected"),
    [
        # The printed headline beats a shortened social-media title.
        (
            "Ferry back after repairs",
            ["Harbour ferry back in service after winter repairs"],
            "Harbour ferry back in service after winter repairs",
        ),
        # An <h1> that wraps the headline in a section label is furniture.
        (
            "Ferry back after repairs",
            ["Local News | Ferry back after repairs"],
            "Ferry back after repairs",
        ),
        # An <h1> that is only the site's logo text says nothing about the article.
        ("Ferry back after repairs", ["Ribbleton Gazette"], "Ferry back after repairs"),
        # The metadata title loses the site name it carries.
        ("Ferry back after repairs | Ribbleton Gazette", [], "Ferry back after repairs"),
        (None, ["Ferry back after repairs"], "Ferry back after repairs"),
        (None, ["Ferry back", "Weather"], None),
        (None, [], None),
    ],
)
def test_headline(title: str | None, h1s: list[str], expected: str | None) -> None:
    assert headline(title, "Ribbleton Gazette", h1s) == expected
