"""URL canonicalisation: one spelling per page, and no non-web schemes.

Kept as plain functions over one string (urllib does the parsing); the clean stage
maps them over a column.

`canonical_url_v2` (this module's rule; v1 re-encoded the query through
parse_qsl/urlencode, which turned `&amp;pd=` into `&amp%3Bpd=` and rewrote `%20`,
`+`, bare keys and repeated keys): HTML entities are decoded first, the path and query
stay as written apart from tracking parameters, and consent or interstitial pages are
flagged. Changing the canonical URL changes which cleaned rows share a URL, so the URL
uniqueness check after dedupe and the URL a merged record keeps; dedupe's keys read
bodies and titles only, so its clusters do not change.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import NamedTuple
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import tldextract

WEB_SCHEMES = {"http", "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that say how a reader arrived, not which page it is: only keys that
# analytics and mailing tools document as tracking, never a generic word (`ref`,
# `source`, `id`) a site may use to pick a page. Matched case-insensitively on the
# percent-decoded key.
TRACKING_PARAMETERS = (
    # Google Analytics / Ads, Microsoft, Facebook, Instagram, Yandex, TikTok, Twitter
    r"utm_\w+|_ga|_gl|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|fbclid|igshid|yclid|ttclid|"
    r"twclid|"
    # Mailchimp, HubSpot, Marketo, Vero, Omeda/Olytics
    r"mc_cid|mc_eid|_hsenc|_hsmi|__hstc|__hssc|__hsfp|mkt_tok|vero_id|vero_conv|"
    r"oly_anon_id|oly_enc_id|"
    # AT Internet (BBC's xtor), Webtrends, comScore, Adobe, Alibaba, Microsoft (MSN)
    r"xtor|at_medium|at_campaign|wt_mc|wt\.mc_id|ns_mchannel|ns_source|ns_campaign|"
    r"ns_linkname|ns_fee|s_cid|cmpid|ito|ocid|spm|"
    # Twitter's share source; Yahoo/Oath's consent round trip
    r"ref_src|guccounter|guce_referrer\w*"
)
_TRACKING = re.compile(rf"^(?:{TRACKING_PARAMETERS})$", re.IGNORECASE)
_HOST = re.compile(r"^[\w\-]+(\.[\w\-]+)+$")
# An HTML character reference closed by ";" ("&amp;", "&#38;", "&#x26;"). One without
# the ";" ("&copy=1") is left alone: in a query it is a parameter, not an entity.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Pages a reader is sent through before the article (cookie walls, GDPR consent): the
# URL names the interstitial, not the page, and every reader gets another session id.
# A first host label naming consent (consent.yahoo.com, consent.google.com,
# consent.youtube.com) or Yahoo/AOL's `guce.` hosts, and DPG Media's cookie wall.
_CONSENT_HOST = re.compile(
    r"^(?:consent|guce|cookiewall|cookie-consent|gdpr-consent)\.|^myprivacy\.dpgmedia\.",
    re.IGNORECASE,
)
CONSENT_FLAG = "consent_interstitial"


def html_decoded(url: str) -> str:
    """`url` with HTML character references (closed by ";") decoded, as a browser reads
    an href: copies taken from page source or feeds carry `&amp;` between parameters.

    Repeated until nothing changes (a doubly escaped `&amp;amp;`), so the canonical form
    of a canonical URL is itself; every pass shortens the text, so the loop ends."""
    while (decoded := _ENTITY.sub(lambda m: html.unescape(m.group(0)), url)) != url:
        url = decoded
    return url


def is_tracking(parameter: str) -> bool:
    """Whether a query piece (`key=value` or a bare `key`) is a tracking parameter."""
    key = unquote_plus(parameter.partition("=")[0])
    return bool(_TRACKING.match(key))


def without_tracking(query: str) -> str:
    """The query as written, minus its tracking parameters (and the empty pieces
    between them)."""
    pieces = query.split("&")
    kept = [p for p in pieces if not is_tracking(p)]
    if len(kept) == len(pieces):
        return query
    return "&".join(p for p in kept if p)


def canonical_url(raw: str | None) -> tuple[str | None, str | None]:
    """Return (canonical URL, None), or (None, flag) when the URL is missing or unusable.

    Decodes HTML entities, lower-cases scheme and host, drops default ports,
    credentials, fragments and tracking parameters; keeps the path and the rest of
    the query exactly as written. A consent or interstitial page is not the article's
    URL: (None, "consent_interstitial"), the original stays in `url_raw`.
    """
    if raw is None or not raw.strip():
        return None, "missing"
    raw = html_decoded(raw.strip())
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None, "malformed"
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        return None, f"scheme_{scheme or 'none'}" if scheme.isalnum() or not scheme else "malformed"
    host = (parts.hostname or "").rstrip(".")
    if not _HOST.match(host):
        return None, "bad_host"
    if _CONSENT_HOST.match(host):
        return None, CONSENT_FLAG
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = without_tracking(parts.query)
    return urlunsplit((scheme, netloc, parts.path or "/", query, "")), None


class Domain(NamedTuple):
    host: str | None
    registered: str | None  # "daijiworld.com", "bbc.co.uk": public-suffix aware
    label: str  # the registered name without its suffix: "daijiworld", "bbc"


@cache
def _suffixes() -> tldextract.TLDExtract:
    # No suffix-list URLs and no cache dir: the bundled snapshot, never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def domain_of(url: str) -> Domain:
    """Host, registered domain and its label of a (canonical) URL."""
    host = urlsplit(url).hostname
    if not host:
        return Domain(None, None, "")
    parts = _suffixes()(url)
    registered = parts.top_domain_under_public_suffix
    return Domain(host, registered or host, parts.domain.lower() if registered else "")
