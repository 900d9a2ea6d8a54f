"""enrich: deduped records -> the same records plus the columns of every enricher.

Enrichers have versioned names (`language_v2`), as dolma names its taggers: each is a
module of `tasks/enrichers/` declaring an `Enricher` (found there, registered nowhere
else): a function `frame -> new columns` that reads the article and never changes it,
the columns it adds, and how much of the body it reads (`body_chars`: enrich_frame
passes it only that). They run in `position` order on a growing frame, so a later
enricher can read an earlier one's columns (entities, keywords and quality read
`language`, or detect it themselves when language_v2 was not selected). A run may
select enrichers by name (`PipelineConfig.enrichers`; none: the default ones); the
columns of the others are null, so `enriched/` keeps one schema. Every file's Parquet
metadata names the enrichers that produced it (`newsflow.enrichers`) and the library or
model version behind each (`newsflow.enricher_models`), since an enricher's output can change when
the lock file moves a model, not only when its code changes.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow import progress
from newsflow.lake import DEDUPED_RUN_KEY, Lake
from newsflow.schema import SCHEMA_VERSION, enriched_schema
from tasks.authors import author_names
from tasks.enrichers import Enricher, registered, workers

# Every enricher of `tasks/enrichers/` (a module defining `ENRICHER`), in position order.
ENRICHERS: dict[str, Enricher] = {e.name: e for e in registered()}
# The enrichers a run without `enrichers` runs: all but the opt-in ones.
DEFAULT_ENRICHERS: tuple[str, ...] = tuple(n for n, e in ENRICHERS.items() if e.default)
# Enrichers a newer version replaced: a configuration naming one fails with the new name;
# batches they wrote are enriched again on the next run (`outdated_batches`).
REPLACED: dict[str, str] = {old: e.name for e in ENRICHERS.values() for old in e.replaces}


def select_enrichers(names: Sequence[str] | None = None) -> list[Enricher]:
    """The enrichers to run, in registry order; None selects the default ones. Unknown
    names fail."""
    if names is None:
        return [ENRICHERS[name] for name in DEFAULT_ENRICHERS]
    unknown = sorted(set(names) - set(ENRICHERS))
    if unknown:
        successors = [f"{n} -> {REPLACED[n]}" for n in unknown if n in REPLACED]
        replaced = f" (replaced: {', '.join(successors)})" if successors else ""
        raise ValueError(f"unknown enrichers {unknown}{replaced}; known: {', '.join(ENRICHERS)}")
    return [e for name, e in ENRICHERS.items() if name in names]


def warm_up(names: Sequence[str] | None = None) -> None:
    """Start the worker processes of the chosen enrichers and load their models in the
    background, for a run about to enrich enough documents to use them."""
    workers.warm([e.load_model for e in select_enrichers(names) if e.load_model])


def enrich_workers_held() -> AbstractContextManager[None]:
    """Hold the enrichers' worker processes for a run: they end when it ends."""
    return workers.held_by_run()


def per_document_steps(names: Sequence[str] | None = None) -> int:
    """How many of the chosen enrichers go through the documents chunk by chunk in
    worker processes (those with a model): the steps a document's enrich progress counts
    (at least 1, for a run of vectorised enrichers only, counted per batch)."""
    return max(1, sum(1 for e in select_enrichers(names) if e.load_model))


def enricher_metadata(enrichers: Sequence[Enricher]) -> dict[str, str]:
    """Parquet key-value metadata naming the enrichers and the versions behind them."""
    models = {
        e.name: " ".join(f"{p}=={importlib.metadata.version(p)}" for p in e.packages)
        for e in enrichers
        if e.packages
    }
    return {
        "newsflow.enrichers": ",".join(e.name for e in enrichers),
        "newsflow.enricher_models": json.dumps(models, sort_keys=True),
    }


def read_by(enricher: Enricher, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as `enricher` reads it: the body cut to its `body_chars`."""
    if enricher.body_chars is None:
        return frame
    return frame.with_columns(pl.col("body").str.slice(0, enricher.body_chars))


def authors_or_byline(authors: pl.Expr, byline: pl.Expr) -> pl.Expr:
    """The source's authors; when it gave none, the names of the byline the dateline
    enricher found, split as ingest splits an author field (`tasks.authors`: "Jane Doe
    and John Roe" -> two names); `byline` stays as written."""
    missing = authors.is_null() | (authors.list.len() == 0)
    # Nulled first so names are split only where the source gave none (map_elements
    # skips nulls).
    names = (
        pl.when(missing)
        .then(byline)
        .map_elements(author_names, return_dtype=pl.List(pl.String), skip_nulls=True)
    )
    return pl.when(missing & byline.is_not_null()).then(names).otherwise(authors)


def outdated_batches(lake: Lake) -> set[str]:
    """Batches with an enriched/ file written under an older schema or by an enricher
    no longer registered (entities_v1, replaced by entities_v3): enriching them again
    keeps enriched/ one schema, readable as one table. A file made by a chosen subset
    of today's enrichers is current."""
    outdated = set()
    for path in lake.files("enriched"):
        meta = pq.ParquetFile(path).metadata.metadata or {}
        version = meta.get(b"newsflow.schema_version", b"").decode()
        names = meta.get(b"newsflow.enrichers", b"").decode().split(",")
        if version != SCHEMA_VERSION or any(n and n not in ENRICHERS for n in names):
            outdated.add(path.stem)
    return outdated


def enrich_frame(
    deduped: pl.DataFrame,
    enrichers: Sequence[Enricher] | None = None,
    seconds: dict[str, float] | None = None,
) -> pl.DataFrame:
    """Add the enriched columns to deduped rows (all enrichers unless told otherwise).

    Extra input columns are dropped from the output. `seconds`, when given, receives
    each enricher's wall time. When an enricher found the byline (dateline), a record
    whose source named no author takes the byline's names as `authors`.
    """
    frame = deduped.with_columns(published_month=pl.col("published_date").dt.strftime("%Y-%m"))
    chosen = select_enrichers() if enrichers is None else enrichers
    for enricher in chosen:
        started = time.perf_counter()
        added = enricher.add(read_by(enricher, frame))
        if tuple(added.columns) != enricher.columns or added.height != frame.height:
            raise RuntimeError(
                f"{enricher.name} returned {added.columns} x {added.height} rows, "
                f"expected {list(enricher.columns)} x {frame.height}"
            )
        frame = frame.with_columns(added)
        if seconds is not None:
            seconds[enricher.name] = time.perf_counter() - started
    if any("byline" in enricher.columns for enricher in chosen):
        frame = frame.with_columns(authors=authors_or_byline(pl.col("authors"), pl.col("byline")))
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in enriched_schema().items()
    )


def with_site_names(deduped: pl.DataFrame, lake: Lake) -> pl.DataFrame:
    """Add `site_name` (the name a page gave itself) from any copy of each record.

    deduped/ carries it since issue #10; a file written before that has no such column,
    so it is looked up in cleaned/ for the kept document and every duplicate merged
    into it (duplicates/), scanning the whole lake once per batch.
    """
    if "site_name" in deduped.columns:
        return deduped
    copies = lake.scan("cleaned").select("doc_id", "site_name").drop_nulls("site_name")
    merged = lake.scan("duplicates").select("doc_id", "kept_doc_id")
    names = (
        copies.join(merged, on="doc_id", how="left")
        .select(doc_id=pl.coalesce("kept_doc_id", "doc_id"), site_name="site_name")
        .filter(pl.col("doc_id").is_in(deduped["doc_id"].implode()))
        .group_by("doc_id")
        .agg(pl.col("site_name").sort().first())
        .collect()
    )
    return deduped.join(names, on="doc_id", how="left", maintain_order="left")


@task(
    name="enrich",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="enrich-{batch_id}",
)
def enrich(
    batch_id: str, lake_dir: str, run_id: str, enrichers: list[str] | None = None
) -> dict[str, Any]:
    """Enrich `deduped/<batch_id>` into `enriched/published_month=…/<batch_id>`."""
    chosen = select_enrichers(enrichers)
    lake = Lake(lake_dir)
    source = lake.stage_dir("deduped") / f"{batch_id}.parquet"
    deduped = pl.read_parquet(source)
    seconds: dict[str, float] = {}
    # Each chunk of documents an enricher's workers return counts to the run's progress.
    reporting = workers.ON_CHUNK.set(progress.reporter(run_id, "enrich", batch_id))
    try:
        enriched = enrich_frame(with_site_names(deduped, lake), chosen, seconds)
    finally:
        workers.ON_CHUNK.reset(reporting)
    # Which deduped/ file this was made from: a later run (stop_after, re_enrich) may
    # enrich a file an earlier run deduped, and the lake must still see them as a pair.
    metadata = {**enricher_metadata(chosen), DEDUPED_RUN_KEY: lake.run_of(source)}
    paths = lake.write(enriched, "enriched", batch_id, run_id, metadata=metadata)
    return {
        "batch_id": batch_id,
        "enriched": enriched.height,
        "paths": [str(p) for p in paths],
        "seconds": seconds,
    }
