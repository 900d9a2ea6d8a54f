"""Dedupe properties over generated articles and the copies sources make of them.

Clusters do not depend on sentence order, on how documents are split across runs, and
every input row ends up either kept or mapped to a kept record.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.schema import DEDUPED
from tests.articles import body, cleaned, flattened
from tests.dedupe_on_lake import DedupeLake, dedupe_frame

WORDS = [
    *("harbour", "ferry", "council", "petition", "island", "trader", "bridge", "winter"),
    *("summer", "boat", "pier", "vote", "market", "stall", "fish", "school", "meeting"),
    *("village", "county", "officer", "route", "crossing", "minibus", "storm", "wall"),
    *("quay", "fleet", "tide", "morning", "evening", "signature", "closure", "notice"),
]
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=3, max_size=14).map(
    lambda words: " ".join(words).capitalize() + "."
)
ARTICLE = st.lists(SENTENCE, min_size=1, max_size=12, unique=True)
# How a source copies an article: as is, shuffled, cut, edited, flattened, padded.
COPY = st.sampled_from(["same", "shuffled", "cut", "edited", "flattened", "padded"])
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def copy_of(sentences: list[str], how: str, rnd: random.Random) -> str:
    s = list(sentences)
    if how == "shuffled":
        rnd.shuffle(s)
    elif how == "cut" and len(s) > 1:
        s.pop(rnd.randrange(len(s)))
    elif how == "edited":
        i = rnd.randrange(len(s))
        s[i] = s[i].replace(" ", " storm ", 1)
    elif how == "flattened":
        return flattened("Title", body(s))
    elif how == "padded":
        s.append("Listen to this article")
    return body(s, per_paragraph=rnd.choice([1, 2, 3]))


@st.composite
def corpora(draw: st.DrawFn) -> pl.DataFrame:
    """A few articles, each with a few copies, in one cleaned frame."""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    rows: list[dict[str, object]] = []
    for article in draw(st.lists(ARTICLE, min_size=1, max_size=4)):
        for how in draw(st.lists(COPY, min_size=1, max_size=4)):
            n = len(rows)
            rows.append(
                {
                    "doc_id": f"d{n:02d}",
                    "batch_id": f"b{n % 3}",
                    "body": copy_of(article, how, rnd),
                    "layout": "csv" if how == "flattened" else rnd.choice(["dated", "headed"]),
                    "title": rnd.choice(["Title", "Other title", None]),
                    "published_date": rnd.choice([None, dt.date(2024, 1, 1), dt.date(2024, 9, 1)]),
                    "url": rnd.choice([None, f"https://example.com/{n}"]),
                }
            )
    return cleaned(*rows)


def partition(deduped: pl.DataFrame, duplicates: pl.DataFrame) -> set[frozenset[str]]:
    clusters: dict[str, set[str]] = {d: {d} for d in deduped["doc_id"]}
    for doc_id, kept in duplicates.select("doc_id", "kept_doc_id").iter_rows():
        clusters[kept].add(doc_id)
    return {frozenset(c) for c in clusters.values()}


@pytest.mark.slow
@PROPS
@given(corpora(), st.data())
def test_shuffling_a_documents_sentences_keeps_its_cluster(
    df: pl.DataFrame, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, df.height - 1))
    seed = data.draw(st.integers(0, 1000))
    sentences = df["body"][i].replace("\n\n", " ").replace(". ", ".\n").split("\n")
    random.Random(seed).shuffle(sentences)
    shuffled = df.with_columns(
        body=pl.when(pl.int_range(pl.len()) == i)
        .then(pl.lit("\n\n".join(sentences)))
        .otherwise("body")
    )
    assert partition(*dedupe_frame(shuffled, "r")) == partition(*dedupe_frame(df, "r"))


@pytest.mark.slow
@PROPS
@given(corpora())
def test_every_row_is_kept_or_mapped_to_a_kept_record(df: pl.DataFrame) -> None:
    deduped, duplicates = dedupe_frame(df, "r")
    assert deduped.schema == DEDUPED
    assert deduped.height <= df.height
    assert deduped.height + duplicates.height == df.height
    kept, merged = set(deduped["doc_id"]), set(duplicates["doc_id"])
    assert kept.isdisjoint(merged)
    assert kept | merged == set(df["doc_id"])
    assert set(duplicates["kept_doc_id"]) <= kept
    assert deduped["duplicate_count"].sum() == df.height
    cluster_of = {d: k for d, k in duplicates.select("doc_id", "kept_doc_id").iter_rows()}
    cluster_of |= {k: k for k in kept}
    for doc_id, matched in duplicates.select("doc_id", "matched_doc_id").iter_rows():
        assert cluster_of[matched] == cluster_of[doc_id]  # matched inside its own cluster
    methods = {"exact_body", "sentence_set", "near_jaccard", "near_containment"}
    assert set(duplicates["method"]) <= methods
    assert duplicates["similarity"].is_between(0.0, 1.0).all()


@pytest.mark.slow
@PROPS
@given(corpora(), st.data())
def test_documents_split_over_two_runs_give_the_records_of_one(
    df: pl.DataFrame, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(df.height)))
    cut = data.draw(st.integers(0, df.height))
    shuffled = df[list(order)]
    with DedupeLake() as once, DedupeLake() as split:
        once.add(df)
        once.run()
        split.add(shuffled.head(cut))
        split.run()
        split.add(shuffled.tail(df.height - cut))
        split.run()
        for stage in ("deduped", "duplicates"):
            assert split.stage(stage).equals(once.stage(stage)), stage


def rank(row: dict[str, object]) -> tuple[bool, bool]:
    """The completeness criteria before truncation: flattened text, shuffled layout."""
    text = str(row["body"])
    flat = not (re.search(r"[A-Z]", text) and re.search(r"[.!?]", text))
    return flat, row["layout"] == "headed"


NAMES = st.lists(st.sampled_from(["Ann Roe", "Ben Ito", "Cai Wu"]), max_size=3, unique=True)


@pytest.mark.slow
@PROPS
@given(corpora(), st.data())
def test_a_record_holds_what_its_copies_say(df: pl.DataFrame, data: st.DataObject) -> None:
    n = df.height
    draw = data.draw
    df = df.with_columns(
        authors=pl.Series([draw(NAMES) for _ in range(n)], dtype=pl.List(pl.String)),
        tags=pl.Series([draw(NAMES) for _ in range(n)], dtype=pl.List(pl.String)),
        description=pl.Series(
            [draw(st.sampled_from([None, "a", "b"])) for _ in range(n)], dtype=pl.String
        ),
        body_truncated=pl.Series([draw(st.booleans()) for _ in range(n)], dtype=pl.Boolean),
        url_flag=pl.when(pl.col("url").is_null()).then(pl.lit("missing")),
        date_flag=pl.when(pl.col("published_date").is_null()).then(pl.lit("missing")),
    )
    deduped, duplicates = dedupe_frame(df, "r")
    members: dict[str, list[str]] = {d: [d] for d in deduped["doc_id"]}
    for doc_id, kept in duplicates.select("doc_id", "kept_doc_id").iter_rows():
        members[kept].append(doc_id)
    copies = {row["doc_id"]: row for row in df.iter_rows(named=True)}
    for record in deduped.iter_rows(named=True):
        rows = [copies[d] for d in members[record["doc_id"]]]
        kept = copies[record["doc_id"]]
        for column in ("authors", "tags"):
            union = {name for row in rows for name in row[column]}
            assert set(record[column]) == union
            assert len(record[column]) == len(union)
            assert record[column][: len(kept[column])] == kept[column]  # the kept copy's first
        descriptions = {row["description"] for row in rows} - {None}
        assert record["description"] in (descriptions or {None})
        if kept["description"] is not None:
            assert record["description"] == kept["description"]
        assert record["body_truncated"] == kept["body_truncated"]
        # A whole copy wins over a truncated one that is no better on the two criteria
        # before it (case and punctuation kept, paragraphs in order).
        peers = [row for row in rows if rank(row) == rank(kept)]
        if any(not row["body_truncated"] for row in peers):
            assert not record["body_truncated"]
        assert (record["url_flag"] is None) == (record["url"] is not None)
        assert (record["date_flag"] is None) == (record["published_date"] is not None)
