"""Properties of canonical_url_v2 on generated URLs: idempotent, path as written, and a URL
urllib can parse keeps its meaning (host, path, non-tracking parameters)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from hypothesis import given
from hypothesis import strategies as st

from tasks.urls import canonical_url, html_decoded, is_tracking

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9\-]{0,8}[a-z0-9])?", fullmatch=True)
HOST = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "org", "co.uk", "example"]),
).filter(lambda h: not h.startswith(("consent.", "guce.")))
SEGMENT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="/?#%&\\"),
    max_size=12,
).map(lambda s: quote(s, safe="~!$'()*+,;=:@-._"))
PATH = st.lists(SEGMENT, max_size=4).map(lambda segments: "/" + "/".join(segments))
KEY = st.sampled_from(["id", "q", "page", "tag", "utm_source", "xtor", "fbclid", "amp", "ref"])
VALUE = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=10).map(
    lambda s: quote(s, safe="+")
)
PARAMETER = st.one_of(KEY, st.builds(lambda k, v: f"{k}={v}", KEY, VALUE))
QUERY = st.lists(PARAMETER, max_size=5).map("&".join)
URLS = st.builds(
    lambda scheme, host, path, query: urlunsplit((scheme, host, path, query, "")),
    st.sampled_from(["http", "https", "HTTPS"]),
    HOST,
    PATH,
    QUERY,
)
ANY_TEXT = st.text(max_size=60).map(lambda s: "https://example.com/" + s)


@given(url=URLS | ANY_TEXT)
def test_canonicalisation_is_idempotent(url: str) -> None:
    canonical, flag = canonical_url(url)
    if canonical is not None:
        assert canonical_url(canonical) == (canonical, None)
    else:
        assert flag


@given(url=URLS | ANY_TEXT)
def test_path_is_never_changed(url: str) -> None:
    canonical, _ = canonical_url(url)
    if canonical is not None:
        assert urlsplit(canonical).path == (urlsplit(html_decoded(url.strip())).path or "/")


@given(url=URLS)
def test_a_parseable_url_keeps_its_meaning(url: str) -> None:
    canonical, flag = canonical_url(url)
    assert flag is None
    assert canonical is not None
    before, after = urlsplit(url), urlsplit(canonical)
    assert after.hostname == before.hostname
    assert after.scheme == before.scheme.lower()
    kept = [p for p in before.query.split("&") if p and not is_tracking(p)]
    assert [p for p in after.query.split("&") if p] == kept
    expected = [(k, v) for k, v in parse_qsl(before.query, keep_blank_values=True)]
    expected = [(k, v) for k, v in expected if not is_tracking(k)]
    assert parse_qsl(after.query, keep_blank_values=True) == expected
