"""Links between short bodies: the same text is a copy only under an agreeing title and
close dates.

A body under `short_body_words` words (`short_body` in the index) is as often site
furniture as a story: the same author-bio teaser or consent wall sits under every
article of a site. Two documents sharing an exact or sentence-set key, one of them
short, are linked only when their titles agree after normalisation (or one has none)
and, with both dates known, they lie within `date_window_days` (issue 24, item 8).
Longer bodies sharing a key are linked by the key alone (tasks/clusters.py).

Pairs are never enumerated: a key shared by 10,000 teasers would make 50 million.
Inside a key, documents with one title (and, apart, those without a title) form a
sequence sorted by date: each is linked to the previous one when the gap is within the
window, and an undated one (in the window of every date) to the first document of each
dated run. Across sequences, a dated titled document is linked to the nearest dated
untitled one before and after it within the window; the first undated untitled document
to the first document of each run of every titled sequence; the first undated titled
one to each run of the untitled sequence, and every other title's first undated one to
that sequence's first. Each link is a true match, and together they connect exactly the
documents the pairwise rule connects (the property tests check it against every pair).
A key touched by a new document is linked again over all its documents, old and new,
so documents arriving over several runs make the clusters of one.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from newsflow.config import DedupeConfig

KEYS = ("exact_key", "sentence_key")
COLUMNS = ["doc_id", *KEYS, "title_key", "short_body", "published_date"]
EDGES = pl.Schema({"doc_id": pl.String(), "other_doc_id": pl.String()})


def titles_agree(title: pl.Expr, other_title: pl.Expr) -> pl.Expr:
    """Same normalised title, or one of them has none."""
    return title.is_null() | other_title.is_null() | (title == other_title)


def sequence_links(rows: pl.DataFrame, config: DedupeConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Links inside each sequence (`group`, `seq`) of `rows` (doc_id, published_date), and
    its representatives (group, seq, doc_id): the first document of each dated run and
    the first undated one. A document linked to all of them is linked to the sequence."""
    by = ["group", "seq"]
    ordered = rows.sort([*by, "published_date", "doc_id"], nulls_last=True).with_columns(
        prev_doc=pl.col("doc_id").shift(1).over(by),
        prev_date=pl.col("published_date").shift(1).over(by),
    )
    dated = pl.col("published_date").is_not_null()
    gap = (pl.col("published_date") - pl.col("prev_date")).dt.total_days()
    close = pl.lit(True) if config.date_window_days is None else gap <= config.date_window_days
    # Consecutive dated documents within the window, and consecutive undated ones.
    both_dated = dated & pl.col("prev_date").is_not_null() & close
    both_undated = ~dated & pl.col("prev_doc").is_not_null() & pl.col("prev_date").is_null()
    chained = ordered.filter(both_dated | both_undated).select("doc_id", other_doc_id="prev_doc")
    starts = ordered.filter(dated & (pl.col("prev_date").is_null() | ~close)).select(*by, "doc_id")
    first_undated = ordered.filter(~dated).group_by(by).agg(other_doc_id=pl.col("doc_id").first())
    bridged = starts.join(first_undated, on=by, nulls_equal=True).select("doc_id", "other_doc_id")
    reps = pl.concat([starts, first_undated.rename({"other_doc_id": "doc_id"})])
    return pl.concat([chained, bridged]), reps


def nearest_untitled(
    titled: pl.DataFrame, untitled: pl.DataFrame, config: DedupeConfig
) -> pl.DataFrame:
    """Each dated titled document linked to the nearest dated untitled one of its group on
    either side, within the window."""
    window = config.date_window_days
    tolerance = None if window is None else dt.timedelta(days=window)
    left = titled.filter(pl.col("published_date").is_not_null()).sort("published_date")
    right = (
        untitled.filter(pl.col("published_date").is_not_null())
        .select("group", "published_date", other_doc_id="doc_id")
        .sort("published_date")
    )
    if left.is_empty() or right.is_empty():
        return pl.DataFrame(schema=EDGES)
    found = [
        left.join_asof(
            right,
            on="published_date",
            by="group",
            strategy=strategy,
            tolerance=tolerance,
            check_sortedness=False,  # both sorted by date above; groups need no order
        ).select("doc_id", "other_doc_id")
        for strategy in ("backward", "forward")
    ]
    return pl.concat(found).drop_nulls()


def key_links(groups: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """Links among the documents of key groups (doc_id, group, title_key, published_date):
    inside each title's sequence and the untitled one, and across them."""
    links, reps = sequence_links(groups.with_columns(seq="title_key"), config)
    titled = groups.filter(pl.col("title_key").is_not_null())
    untitled = groups.filter(pl.col("title_key").is_null())
    undated = pl.col("published_date").is_null()
    first_of = pl.col("doc_id").sort().first()
    titled_reps = reps.filter(pl.col("seq").is_not_null()).select("group", "doc_id")
    untitled_reps = reps.filter(pl.col("seq").is_null()).select("group", "doc_id")
    # The first undated untitled document is in the window of, and agrees with, all.
    undated_untitled = untitled.filter(undated).group_by("group").agg(other_doc_id=first_of)
    # The first undated titled one joins every run of the untitled sequence; every
    # title's first undated one joins that sequence's first document.
    undated_titled = titled.filter(undated).group_by("group", "title_key").agg(first=first_of)
    first_titled = undated_titled.group_by("group").agg(other_doc_id=pl.col("first").min())
    untitled_first = untitled_reps.group_by("group").agg(other_doc_id=first_of)
    return pl.concat(
        [
            links,
            nearest_untitled(titled, untitled, config),
            titled_reps.join(undated_untitled, on="group").select("doc_id", "other_doc_id"),
            untitled_reps.join(first_titled, on="group").select("doc_id", "other_doc_id"),
            undated_titled.join(untitled_first, on="group").select(
                pl.col("first").alias("doc_id"), "other_doc_id"
            ),
        ]
    ).filter(pl.col("doc_id") != pl.col("other_doc_id"))


def short_links(new: pl.DataFrame, index: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """doc_id, other_doc_id: links of every key group that holds a short body and a new
    document (`new` and `index` have `COLUMNS`)."""
    found = [pl.DataFrame(schema=EDGES)]
    for key in KEYS:
        # Keys of a short body and a new document (`new` holds documents the index does
        # not: dedupe_update, the dedupe task); short bodies are few, so this set is small.
        short = pl.concat([part.filter("short_body").select(key) for part in (index, new)])
        keys = new.select(key).join(short, on=key, how="semi").unique()
        groups = pl.concat(
            [part.select(COLUMNS).join(keys, on=key, how="semi") for part in (index, new)]
        ).select("doc_id", "title_key", "published_date", group=key)
        groups = groups.filter(pl.len().over("group") > 1)
        if not groups.is_empty():
            found.append(key_links(groups, config))
    return pl.concat(found).unique().sort("doc_id", "other_doc_id")
