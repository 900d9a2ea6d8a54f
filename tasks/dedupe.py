"""dedupe: every cleaned row -> one record per article, plus a trace of what was merged.

Two keys find copies of one article: the normalised body (exact copies) and the
set of its normalised sentences, which ignores sentence order and punctuation, so
a headed copy with shuffled sentences meets its dated twin. Copies sharing either
key form one cluster (connected components); the most complete copy gives the
body and title, and every copy gives its metadata.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.lake import Lake
from newsflow.schema import DEDUPED, DUPLICATES

# Layouts whose body keeps the source's paragraph order; a headed body is a bag of
# (possibly shuffled) sentences, so any other copy's body is preferred to it.
SHUFFLED_LAYOUTS = ["headed"]
_MAX_PROPAGATION_ROUNDS = 100


def normalised(text: pl.Expr) -> pl.Expr:
    """Lower case, letters and digits only, single spaces: what copies share."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def sentence_set_key(body: pl.Expr) -> pl.Expr:
    """A hash of the sorted, de-duplicated set of normalised sentences of a body."""
    sentences = (
        body.str.replace_all(r"([.!?][\"'”’)\]]*)\s+", "$1\n")
        .str.split("\n")
        .list.eval(normalised(pl.element()))
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    return sentences.list.unique().list.sort().list.join("\x1f").hash(seed=0)


def cluster_ids(keys: pl.DataFrame, key_columns: list[str]) -> pl.Series:
    """Connected components over rows that share any key: the smallest row number wins."""
    df = keys.select(key_columns).with_row_index("component")
    for _ in range(_MAX_PROPAGATION_ROUNDS):
        before = df["component"]
        for key in key_columns:
            df = df.with_columns(pl.col("component").min().over(key))
        if df["component"].equals(before):
            break
    return df["component"]


def completeness_order() -> list[pl.Expr]:
    """The most complete copy first: ordered paragraphs, a date, a URL, a longer body,
    a punctuated title; the doc_id breaks ties so the choice is deterministic."""
    return [
        pl.col("layout").is_in(SHUFFLED_LAYOUTS),
        pl.col("published_date").is_null(),
        pl.col("url").is_null(),
        -pl.col("body").str.len_chars().cast(pl.Int64),
        -pl.col("title").fill_null("").str.count_matches(r"[^\w\s]").cast(pl.Int64),
        pl.col("doc_id"),
    ]


def dedupe_frame(cleaned: pl.DataFrame, run_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse copies into one record each. Returns (deduped rows, duplicates mapping)."""
    df = cleaned.with_columns(
        exact_key=normalised(pl.col("body")).hash(seed=0),
        sentence_key=sentence_set_key(pl.col("body")),
    )
    df = df.with_columns(cluster=cluster_ids(df, ["exact_key", "sentence_key"]))
    df = df.sort(["cluster", *completeness_order()])
    first = pl.col("doc_id").first()
    deduped = df.group_by("cluster", maintain_order=True).agg(
        doc_id=first,
        run_id=pl.lit(run_id),
        batch_id=pl.col("batch_id").first(),
        title=pl.col("title").first(),
        published_date=pl.col("published_date").min(),
        url=pl.col("url").drop_nulls().first(),
        body=pl.col("body").first(),
        source_files=pl.col("source_file").unique().sort(),
        layouts=pl.col("layout").unique().sort(),
        duplicate_count=pl.len().cast(pl.Int64),
        removed_lines=pl.col("removed_lines").list.explode(keep_nulls=False, empty_as_null=False),
    )
    kept = df.group_by("cluster", maintain_order=True).agg(
        kept_doc_id=first,
        kept_exact_key=pl.col("exact_key").first(),
        kept_batch_id=pl.col("batch_id").first(),
    )
    duplicates = (
        df.join(kept, on="cluster")
        .filter(pl.col("doc_id") != pl.col("kept_doc_id"))
        .select(
            "doc_id",
            "kept_doc_id",
            similarity=pl.lit(1.0),
            method=pl.when(pl.col("exact_key") == pl.col("kept_exact_key"))
            .then(pl.lit("exact_body"))
            .otherwise(pl.lit("sentence_set")),
            run_id=pl.lit(run_id),
            batch_id="kept_batch_id",
        )
    )
    return deduped.select(DEDUPED.names()), duplicates.select(DUPLICATES.names())


@task(name="dedupe", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def dedupe(lake_dir: str, run_id: str) -> dict[str, Any]:
    """Rewrite `deduped/` and `duplicates/` from every cleaned row in the lake."""
    lake = Lake(lake_dir)
    cleaned = lake.scan("cleaned").collect()
    deduped, duplicates = dedupe_frame(cleaned, run_id)
    written: dict[str, list] = {"deduped": [], "duplicates": []}
    for stage, frame in (("deduped", deduped), ("duplicates", duplicates)):
        for (batch_id,), part in frame.group_by("batch_id", maintain_order=True):
            written[stage] += lake.write(part, stage, str(batch_id), run_id)
        lake.remove_except(stage, written[stage])
    return {
        "cleaned": cleaned.height,
        "deduped": deduped.height,
        "duplicates": duplicates.height,
        "batches": sorted(deduped["batch_id"].unique().to_list()),
    }
