"""source_v2: host, registered domain and publisher of the article's URL.

The registered domain comes from tldextract's bundled public-suffix snapshot (via
`tasks.urls.domain_of`, never the network), looked up once per distinct host.

The publisher is the name the source gave itself (`site_name`: HTML og:site_name, a
feed's title, NewsAPI's source.name) when any copy had one. Without it, a label of the
URL stands in, usually the registered domain's (`daijiworld` for www.daijiworld.com).
source_v1 used that label everywhere, which names the platform, not the publication,
where publications live on subdomains of a shared domain: 'go' for abcnews.go.com,
'indiatimes' for both timesofindia.indiatimes.com and economictimes.indiatimes.com,
'blogspot' for every Blogger blog. source_v2 takes the subdomain's label nearest the
registered domain there, on two kinds of shared domain only:

* hosting platforms the public-suffix list itself names in its private section
  (blogspot.com, github.io, wixsite.com, hatenablog.com ...);
* `PUBLICATION_DOMAINS`, media groups and blog platforms that are not in that list.

On any other domain a subdomain is a section or an edition of one publisher
(edition.cnn.com, uk.reuters.com, sports.yahoo.com, toronto.ctvnews.ca: 30 of the 35
registered domains with subdomains in the development corpora's 2,007 URLs), so the
registered label stays; `benchmarks/publisher_report.py` lists both kinds.
"""

from __future__ import annotations

from functools import cache

import polars as pl
import tldextract

from newsflow.schema import Column
from tasks.enrichers import Enricher
from tasks.urls import domain_of

NAME = "source_v2"

# Shared domains whose subdomains are separate publications and which the public-suffix
# list does not list as platforms: media groups (ABC's go.com, Times Internet's
# indiatimes.com) and blog or newsletter hosts.
PUBLICATION_DOMAINS = frozenset(
    {
        "go.com",
        "indiatimes.com",
        "wordpress.com",
        "substack.com",
        "medium.com",
        "tumblr.com",
        "typepad.com",
        "livejournal.com",
        "weebly.com",
        "over-blog.com",
        "ghost.io",
        "beehiiv.com",
        "fandom.com",
    }
)
# Subdomain labels that name a version of a site, not a publication (m.economictimes...,
# en.blog.wordpress.com).
GENERIC_LABELS = frozenset({"www", "m", "mobile", "amp", "en", "blog", "blogs", "news"})

# URLs are canonical by now (clean): lower-case host, no credentials, no default port.
_HOST = r"^[a-z][a-z0-9+.\-]*://([^/:?#]+)"


@cache
def _platforms() -> tldextract.TLDExtract:
    # The bundled snapshot with its private section (hosting platforms), never the network.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def publication_label(host: str) -> str:
    """The label naming the publication a host belongs to, "" when it has none."""
    _, registered, label = domain_of(f"http://{host}/")
    on_platform = _platforms()(host)
    if on_platform.domain and on_platform.top_domain_under_public_suffix != registered:
        return on_platform.domain.lower()  # myblog.blogspot.com: under a platform's suffix
    if registered in PUBLICATION_DOMAINS:
        subdomain = host.removesuffix(registered).rstrip(".")
        named = [part for part in reversed(subdomain.split(".")) if part not in GENERIC_LABELS]
        if named and named[0]:
            return named[0]
    return label


def _domains(hosts: pl.Series) -> pl.DataFrame:
    rows = [
        (h, domain_of(f"http://{h}/").registered, publication_label(h))
        for h in hosts.drop_nulls().unique().sort()
    ]
    schema = {"host": pl.String, "domain": pl.String, "label": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def source_v2(frame: pl.DataFrame) -> pl.DataFrame:
    site_name = (
        pl.col("site_name").str.strip_chars().replace("", None)
        if "site_name" in frame.columns
        else pl.lit(None, pl.String)
    )
    rows = frame.select(host=pl.col("url").str.extract(_HOST, 1), site_name=site_name)
    return rows.join(_domains(rows["host"]), on="host", how="left", maintain_order="left").select(
        "host",
        "domain",
        publisher=pl.coalesce("site_name", pl.col("label").replace("", None), "host"),
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "host",
            pl.String(),
            "Host name of url (source_v2)",
        ),
        Column(
            "domain",
            pl.String(),
            "Registered domain of url, public-suffix aware: daijiworld.com, bbc.co.uk (source_v2)",
        ),
        Column(
            "publisher",
            pl.String(),
            "Name the source gave itself (site_name) in any copy, else the registered domain's "
            "label (daijiworld), or the subdomain's on a domain shared by separate "
            "publications (abcnews for abcnews.go.com, a blog on blogspot.com), else the host "
            "(source_v2)",
        ),
    ),
    add=source_v2,
    position=20,
    packages=("tldextract",),
    body_chars=0,
    replaces=("source_v1",),
)
