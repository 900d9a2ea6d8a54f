"""enrich: deduped records -> the same records with counts and their source's domain.

Enrichers never change the article columns; they only add columns. Host and
registered domain come from tldextract's bundled public-suffix snapshot, offline.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.lake import Lake
from newsflow.schema import ENRICHED
from tasks.urls import domain_of


def _source(url: str | None) -> dict[str, str | None]:
    if url is None:
        return {"host": None, "domain": None}
    domain = domain_of(url)
    return {"host": domain.host, "domain": domain.registered}


def counts() -> dict[str, pl.Expr]:
    body = pl.col("body")
    return {
        "char_count": body.str.len_chars().cast(pl.Int64),
        "word_count": body.str.count_matches(r"\w+").cast(pl.Int64),
        "paragraph_count": (body.str.count_matches("\n\n") + 1).cast(pl.Int64),
    }


def enrich_frame(deduped: pl.DataFrame) -> pl.DataFrame:
    """Add the enriched columns to deduped rows."""
    df = deduped.with_columns(
        published_month=pl.col("published_date").dt.strftime("%Y-%m"),
        source=pl.col("url").map_elements(
            _source,
            return_dtype=pl.Struct({"host": pl.String, "domain": pl.String}),
            skip_nulls=False,
        ),
        **counts(),
    ).unnest("source")
    return df.select(ENRICHED.names())


@task(
    name="enrich",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="enrich-{batch_id}",
)
def enrich(batch_id: str, lake_dir: str, run_id: str) -> dict[str, Any]:
    """Enrich `deduped/<batch_id>` into `enriched/published_month=…/<batch_id>`."""
    lake = Lake(lake_dir)
    deduped = pl.read_parquet(lake.stage_dir("deduped") / f"{batch_id}.parquet")
    enriched = enrich_frame(deduped)
    paths = lake.write(enriched, "enriched", batch_id, run_id)
    return {"batch_id": batch_id, "enriched": enriched.height, "paths": [str(p) for p in paths]}
