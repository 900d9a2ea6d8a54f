"""canonical_url_v2: entities decoded, path and query as written, trackers and consent
pages out."""

from __future__ import annotations

import pytest

from tasks.urls import CONSENT_FLAG, canonical_url, html_decoded, is_tracking, without_tracking


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # An href copied from page source: "&amp;" is the separator, not "&amp%3B".
        ("https://news.example.com/a?id=7&amp;pd=2", "https://news.example.com/a?id=7&pd=2"),
        ("https://news.example.com/a?id=7&amp;amp;pd=2", "https://news.example.com/a?id=7&pd=2"),
        ("https://news.example.com/caf&#233;", "https://news.example.com/café"),
        # Without its ";" it is a parameter named "copy", not "©".
        ("https://news.example.com/a?x=1&copy=2", "https://news.example.com/a?x=1&copy=2"),
    ],
)
def test_html_entities_are_decoded_first(raw: str, expected: str) -> None:
    assert canonical_url(raw) == (expected, None)


@pytest.mark.parametrize(
    "query",
    [
        "q=new%20york+city",  # %20 and + stay as written
        "tag=b&tag=a&tag=c",  # repeated keys keep their order
        "amp&print",  # bare keys stay bare
        "k=&z=%41%2F",  # empty values and escapes stay
        "b=2&a=1",  # no sorting
        "x=caf%C3%A9;y=1",  # ";" is not a separator here
    ],
)
def test_query_is_kept_as_written(query: str) -> None:
    url = f"https://www.example.org/p/%7Euser/a%2Fb?{query}"
    assert canonical_url(url) == (url, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://www.examplebroadcaster.co.uk/news/world-1?xtor=AL-72-%5Bpartner%5D",
            "https://www.examplebroadcaster.co.uk/news/world-1",
        ),
        (
            "https://example.com/s?id=3&utm_source=rss&at_medium=RSS&at_campaign=feed&page=2",
            "https://example.com/s?id=3&page=2",
        ),
        (
            "https://example.com/s?_hsenc=p2&_hsmi=1&mkt_tok=x&id=3&oly_enc_id=q&vero_id=v",
            "https://example.com/s?id=3",
        ),
        (
            "https://example.com/s?guccounter=1&guce_referrer=aHR0&guce_referrer_sig=AQ&id=3",
            "https://example.com/s?id=3",
        ),
        ("https://example.com/s?UTM_Medium=x&FBCLID=y", "https://example.com/s"),
        ("https://example.com/s?utm%5Fsource=x&id=1", "https://example.com/s?id=1"),
        ("https://example.com/s?ocid=msn&spm=a.b&cmpid=c&ito=d&wt_mc=e", "https://example.com/s"),
        # Generic words a site may use to choose the page stay.
        (
            "https://example.com/s?ref=home&source=x&id=1",
            "https://example.com/s?ref=home&source=x&id=1",
        ),
    ],
)
def test_tracking_parameters_are_dropped(raw: str, expected: str) -> None:
    assert canonical_url(raw) == (expected, None)


def test_without_tracking_keeps_a_query_without_trackers_untouched() -> None:
    assert without_tracking("a=1&&b=2") == "a=1&&b=2"
    assert without_tracking("a=1&utm_source=x&&b=2") == "a=1&b=2"
    assert is_tracking("xtor")
    assert is_tracking("ns_source=x")
    assert not is_tracking("id=xtor")


@pytest.mark.parametrize(
    "raw",
    [
        "https://consent.yahoo.com/v2/collectConsent?sessionId=3_cc-session_0a1b",
        "https://consent.google.com/ml?continue=https://news.google.com/x&gl=GB",
        "https://guce.yahoo.com/consent?brandType=nonEu&done=https%3A%2F%2Fnews.yahoo.com",
        "https://guce.aol.com/consent",
        "https://myprivacy.dpgmedia.nl/consent?siteKey=abc",
        "https://CONSENT.YouTube.com/m?continue=x",
    ],
)
def test_consent_interstitials_are_flagged_and_nulled(raw: str) -> None:
    assert canonical_url(raw) == (None, CONSENT_FLAG)


@pytest.mark.parametrize(
    "raw",
    ["https://www.example.com/consent-decree-ruling", "https://news.example.com/privacy/consent"],
)
def test_articles_about_consent_are_not_interstitials(raw: str) -> None:
    assert canonical_url(raw) == (raw, None)


def test_html_decoded_leaves_text_without_entities_alone() -> None:
    assert html_decoded("https://a.example/x?a=1&b=2") == "https://a.example/x?a=1&b=2"
    assert html_decoded("a&amp;amp;amp;b") == "a&b"
