"""short_links connects exactly the documents the pairwise short-body rule connects, and
documents arriving over several runs give the links of one."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.config import DedupeConfig
from tasks.clusters import components
from tasks.short_links import COLUMNS, short_links

DAY = dt.date(2024, 1, 1)
DOCS = st.lists(
    st.tuples(
        st.sampled_from([1, 2]),  # exact key
        st.sampled_from([1, 2]),  # sentence key
        st.sampled_from([None, 1, 2]),  # title key
        st.sampled_from([None, 0, 20, 40, 45, 200]),  # days after DAY
        st.booleans(),  # short body
    ),
    min_size=1,
    max_size=10,
)
WINDOW = st.sampled_from([None, 0, 30])


# One generated document: exact key, sentence key, title key, days after DAY, short body.
Doc = tuple[int, int, int | None, int | None, bool]


def frame(docs: list[Doc]) -> pl.DataFrame:
    rows = [
        {
            "doc_id": f"d{i}",
            "exact_key": e,
            "sentence_key": s,
            "title_key": t,
            "short_body": short,
            "published_date": None if days is None else DAY + dt.timedelta(days=days),
        }
        for i, (e, s, t, days, short) in enumerate(docs)
    ]
    schema = {
        "doc_id": pl.String,
        "exact_key": pl.UInt64,
        "sentence_key": pl.UInt64,
        "title_key": pl.UInt64,
        "short_body": pl.Boolean,
        "published_date": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema).select(COLUMNS)


def partition(n: int, edges: list[tuple[int, int]]) -> list[int]:
    u = np.array([a for a, _ in edges], dtype=np.int64)
    v = np.array([b for _, b in edges], dtype=np.int64)
    groups: list[int] = components(n, u, v).tolist()
    return groups


def long_pairs(df: pl.DataFrame) -> list[tuple[int, int]]:
    """Pairs of longer bodies sharing a key: linked by the key alone (tasks/clusters.py)."""
    rows = df.rows(named=True)
    return [
        (i, j)
        for i, j in itertools.combinations(range(len(rows)), 2)
        if not (rows[i]["short_body"] or rows[j]["short_body"])
        and (
            rows[i]["exact_key"] == rows[j]["exact_key"]
            or rows[i]["sentence_key"] == rows[j]["sentence_key"]
        )
    ]


def pairwise(df: pl.DataFrame, window: int | None) -> list[tuple[int, int]]:
    """Every pair the rule links: a shared key and, when one is short, agreeing titles and
    close dates."""
    rows = df.rows(named=True)
    edges = long_pairs(df)
    for i, j in itertools.combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        if not (a["short_body"] or b["short_body"]):
            continue
        if a["exact_key"] != b["exact_key"] and a["sentence_key"] != b["sentence_key"]:
            continue
        if None not in (a["title_key"], b["title_key"]) and a["title_key"] != b["title_key"]:
            continue
        dates = (a["published_date"], b["published_date"])
        if window is not None and None not in dates and abs((dates[0] - dates[1]).days) > window:
            continue
        edges.append((i, j))
    return edges


def linked(df: pl.DataFrame, links: pl.DataFrame) -> list[tuple[int, int]]:
    row = {d: i for i, d in enumerate(df["doc_id"])}
    return [(row[a], row[b]) for a, b in links.rows()]


@settings(max_examples=200, deadline=None)
@given(DOCS, WINDOW)
def test_links_connect_what_the_pairwise_rule_connects(docs: list[Doc], window: int | None) -> None:
    df = frame(docs)
    config = DedupeConfig(date_window_days=window)
    links = linked(df, short_links(df, df.clear(), config)) + long_pairs(df)
    expected = pairwise(df, window)
    assert set(links) <= {(a, b) for a, b in expected} | {(b, a) for a, b in expected}
    assert partition(df.height, links) == partition(df.height, expected)


@settings(max_examples=200, deadline=None)
@given(DOCS, WINDOW, st.data())
def test_documents_over_several_runs_give_the_partition_of_one(
    docs: list[Doc], window: int | None, data: st.DataObject
) -> None:
    df = frame(docs)
    config = DedupeConfig(date_window_days=window)
    cut = data.draw(st.integers(0, df.height))
    order = data.draw(st.permutations(range(df.height)))
    shuffled = df[list(order)]
    first = short_links(shuffled.head(cut), df.clear(), config)
    second = short_links(shuffled.tail(df.height - cut), shuffled.head(cut), config)
    both = linked(df, pl.concat([first, second])) + long_pairs(df)
    assert partition(df.height, both) == partition(df.height, pairwise(df, window))
