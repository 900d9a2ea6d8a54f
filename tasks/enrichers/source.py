"""source_v1: host, registered domain and publisher of the article's URL.

The registered domain comes from tldextract's bundled public-suffix snapshot (via
`tasks.urls.domain_of`, never the network), looked up once per distinct host. The
publisher is the name the page gave itself (HTML `site_name`) when a copy had one,
else the registered domain's label (`daijiworld` for www.daijiworld.com).
"""

from __future__ import annotations

import polars as pl

from tasks.urls import domain_of

NAME = "source_v1"
COLUMNS = ("host", "domain", "publisher")

# URLs are canonical by now (clean): lower-case host, no credentials, no default port.
_HOST = r"^[a-z][a-z0-9+.\-]*://([^/:?#]+)"


def _domains(hosts: pl.Series) -> pl.DataFrame:
    rows = [(h, *domain_of(f"http://{h}/")[1:]) for h in hosts.drop_nulls().unique().sort()]
    schema = {"host": pl.String, "domain": pl.String, "label": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def source_v1(frame: pl.DataFrame) -> pl.DataFrame:
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
