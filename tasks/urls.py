"""URL canonicalisation: one spelling per page, and no non-web schemes.

Kept as plain functions over one string (urllib does the parsing); the clean stage
maps them over a column.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tldextract

WEB_SCHEMES = {"http", "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that say how a reader arrived, not which page it is.
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src)$",
    re.IGNORECASE,
)
_HOST = re.compile(r"^[\w\-]+(\.[\w\-]+)+$")


def canonical_url(raw: str | None) -> tuple[str | None, str | None]:
    """Return (canonical URL, None), or (None, flag) when the URL is missing or unusable.

    Lower-cases scheme and host, drops default ports, credentials, fragments and
    tracking parameters; keeps the path and the remaining query in order.
    """
    if raw is None or not raw.strip():
        return None, "missing"
    raw = raw.strip()
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
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), "")), None


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
