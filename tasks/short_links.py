"""Links between short bodies: the same text is a copy only under an agreeing title and
close dates.

A body under `short_body_words` words (`short_body` in the index) is as often site
furniture as a story: the same author-bio teaser or consent wall sits under every
article of a site. Two documents sharing an exact or sentence-set key, one of them
short, are linked only when their titles agree after normalisation (or one has none)
and, with both dates known, they lie within `date_window_days` (issue 24, item 8).
Longer bodies sharing a key are linked by the key alone (tasks/clusters.py).

Pairs are never enumerated: a key shared by 10,000 teasers would make 50 million. Per
key and title, documents sorted by date are linked to the previous one when the gap is
within the window; an undated document is in the window of every date, so the first
undated one is linked to the first document of each dated run and the undated ones to
each other. A document without a title agrees with every title, so it joins each title's
sequence of its key. Those links are true matches and connect exactly the documents the
pairwise rule connects, so clusters are the same as with every pair. A key touched by a
new document is linked again over all its documents (old and new), so documents
arriving over several runs make the clusters of one.
"""

from __future__ import annotations

import polars as pl

from newsflow.config import DedupeConfig

KEYS = ("exact_key", "sentence_key")
COLUMNS = ["doc_id", *KEYS, "title_key", "short_body", "published_date"]
EDGES = pl.Schema({"doc_id": pl.String(), "other_doc_id": pl.String()})


def titles_agree(title: pl.Expr, other_title: pl.Expr) -> pl.Expr:
    """Same normalised title, or one of them has none."""
    return title.is_null() | other_title.is_null() | (title == other_title)


def sequence_links(rows: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """Links inside each sequence (`group`, `seq`) of `rows` (doc_id, published_date)."""
    by = ["group", "seq"]
    ordered = rows.sort([*by, "published_date", "doc_id"], nulls_last=True).with_columns(
        prev_doc=pl.col("doc_id").shift(1).over(by),
        prev_date=pl.col("published_date").shift(1).over(by),
    )
    dated = pl.col("published_date").is_not_null()
    gap = (pl.col("published_date") - pl.col("prev_date")).dt.total_days()
    close = pl.lit(True) if config.date_window_days is None else gap <= config.date_window_days
    # Consecutive dated documents within the window, and consecutive undated ones.
    chained = ordered.filter(
        pl.col("prev_doc").is_not_null()
        & (
            (dated & pl.col("prev_date").is_not_null() & close)
            | ~dated & pl.col("prev_date").is_null()
        )
    ).select("doc_id", other_doc_id="prev_doc")
    starts = ordered.filter(dated & (pl.col("prev_date").is_null() | ~close)).select(*by, "doc_id")
    first_undated = ordered.filter(~dated).group_by(by).agg(other_doc_id=pl.col("doc_id").first())
    bridged = starts.join(first_undated, on=by, nulls_equal=True).select("doc_id", "other_doc_id")
    return pl.concat([chained, bridged])


def short_links(new: pl.DataFrame, index: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """doc_id, other_doc_id: links of every key group that holds a short body and a new
    document (`new` and `index` have `COLUMNS`)."""
    pool = pl.concat([index.select(COLUMNS), new.select(COLUMNS)]).unique(
        "doc_id", keep="first", maintain_order=True
    )
    found = [pl.DataFrame(schema=EDGES)]
    for key in KEYS:
        groups = pool.join(new.select(key).unique(), on=key, how="semi").select(
            "doc_id", "title_key", "published_date", "short_body", group=key
        )
        groups = groups.filter(
            pl.col("short_body").any().over("group") & (pl.len().over("group") > 1)
        )
        if groups.is_empty():
            continue
        titled = groups.filter(pl.col("title_key").is_not_null()).with_columns(seq="title_key")
        titles = titled.select("group", "seq").unique()
        untitled = groups.filter(pl.col("title_key").is_null()).join(titles, on="group", how="left")
        rows = pl.concat([titled, untitled.select(titled.columns)])
        found.append(sequence_links(rows, config))
    return pl.concat(found).unique().sort("doc_id", "other_doc_id")
