"""HTML page -> one article record, extracted by trafilatura.

trafilatura finds the main text (without navigation, share buttons, cookie
banners, footers and comments) and the metadata: title, publication date
(htmldate), URL (canonical link / og:url) and site name. Here we only shape its
output into the record every layout yields, and turn any failure of it on a page
into `Unreadable`, so a hostile page is quarantined instead of crashing a batch.
"""

from __future__ import annotations

import re
from configparser import ConfigParser
from functools import cache

from lxml.html import HtmlElement
from trafilatura import bare_extraction, load_html
from trafilatura.settings import Document, use_config

from tasks.authors import author_names, tag_list
from tasks.decode import Unreadable
from tasks.parsed import Parsed, Record

# Title segments such as "Headline | Site" or "Site - Headline".
_TITLE_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014\u00b7\u00bb]\s+|\s+::\s+")
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
# A visible <h1> replaces the metadata title when it shares this share of words.
_SAME_HEADLINE = 0.6
_MIN_H1_WORDS = 3
_MIN_SITE_CHARS = 3


@cache
def _config() -> ConfigParser:
    """trafilatura's settings, but keep a page with no main text: its title is still data."""
    config = use_config()
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "0")
    config.set("DEFAULT", "MIN_OUTPUT_COMM_SIZE", "0")
    return config


def parse_html(text: str) -> Parsed:
    """One record (title, date_raw, url, body and the page's metadata) from an HTML page.

    A page with a title but no main text yields a record with body None (the clean
    stage quarantines it as `empty_body`); a page with neither, or one trafilatura
    cannot parse, raises `Unreadable`.
    """
    try:
        tree, document = _extracted(text)
    except Unreadable:
        raise
    # trafilatura is heuristic code over hostile input: whatever it trips on is a
    # property of this page, so the page is quarantined rather than the batch failed.
    except Exception as exc:
        raise Unreadable("html_unparseable", f"{type(exc).__name__}: {exc}"[:200]) from exc
    title = headline(document.title, document.sitename, _h1_texts(tree))
    body = "\n\n".join(body_paragraphs(document.text or "", title))
    if not body and not title:
        raise Unreadable("no_main_text", "trafilatura found neither main text nor a title")
    record: Record = {
        "title": title,
        "date_raw": document.date or None,
        "url": document.url or None,
        "body": body or None,
        "site_name": document.sitename or None,
        **page_metadata(tree, document),
    }
    return Parsed("html", [record])


def page_metadata(tree: HtmlElement, document: Document) -> Record:
    """What the page says about itself: authors (trafilatura joins several with "; "),
    description, lead image (og:image and the like), tags and categories, and language
    (the page's <html lang>, else the language its metadata declares)."""
    language = tree.get("lang") or document.language
    return {
        "authors": author_names(document.author),
        "description": document.description or None,
        "image_url": document.image or None,
        "tags": tag_list([*(document.categories or []), *(document.tags or [])]),
        "source_language": language.strip() or None if language else None,
    }


def body_paragraphs(text: str, title: str | None) -> list[str]:
    """trafilatura's text (one block per line) as paragraphs, without a repeated headline.

    Other layouts keep the headline out of the body; a body that opens with it would
    not match its copies in other layouts.
    """
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if paragraphs and title and _SPACES.sub(" ", paragraphs[0]).casefold() == title.casefold():
        paragraphs = paragraphs[1:]
    return paragraphs


def _extracted(text: str) -> tuple[HtmlElement, Document]:
    tree = load_html(text)
    if tree is None:
        raise Unreadable("html_unparseable", "no HTML document tree could be built")
    document = bare_extraction(
        tree,  # trafilatura works on a copy, so the <h1>s below are the page's own
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        config=_config(),
    )
    if not isinstance(document, Document):
        raise Unreadable("html_unparseable", "trafilatura discarded the page")
    return tree, document


def _h1_texts(tree: HtmlElement) -> list[str]:
    texts = (_SPACES.sub(" ", h1.text_content()).strip() for h1 in tree.iter("h1"))
    return [t for t in texts if t]


def headline(title: str | None, site_name: str | None, h1s: list[str]) -> str | None:
    """The article's headline from trafilatura's metadata title and the page's <h1>s.

    Metadata titles often carry the site name ("Headline | Site") or a shortened
    social-media variant; the visible <h1> is the headline as printed, unless it
    wraps the headline in furniture ("Local News | Headline").
    """
    if not title:
        return h1s[0] if len(h1s) == 1 else None
    title = without_site_name(title, site_name)
    folded = title.casefold()
    title_words = set(_WORD.findall(folded))
    for h1 in h1s:
        if h1.casefold() == folded:
            return title
        if folded in h1.casefold():
            continue
        h1_words = set(_WORD.findall(h1.casefold()))
        shared = len(h1_words & title_words)
        if len(h1_words) >= _MIN_H1_WORDS and shared >= _SAME_HEADLINE * min(
            len(h1_words), len(title_words)
        ):
            return h1
    return title


def without_site_name(title: str, site_name: str | None) -> str:
    """`title` without a trailing (or else leading) segment that names the site."""
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if not separators or not site_name:
        return title
    site = site_name.casefold()
    last, first = separators[-1], separators[0]
    if _names_site(title[last.end() :], site):
        return title[: last.start()].strip() or title
    if _names_site(title[: first.start()], site):
        return title[first.end() :].strip() or title
    return title


def _names_site(segment: str, site: str) -> bool:
    named = segment.strip().casefold()
    return len(named) >= _MIN_SITE_CHARS and (named in site or site in named)
