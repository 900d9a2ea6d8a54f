"""LSH candidate pairs: documents sharing a band key, never a document with itself,
the same pairs however many partitions the key space is cut into; MinHash estimates
keep every pair verification could accept."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.minhash
from newsflow.config import DedupeConfig
from tasks.dedupe_rules import band_partition, partition_candidates
from tasks.minhash import plausible, signatures


def docs(rows: dict[str, list[int]], first_key: int) -> pl.DataFrame:
    """Documents with these band keys, no key or date in common (keys from `first_key`)."""
    n = len(rows)
    return pl.DataFrame(
        {
            "doc_id": list(rows),
            "batch_id": ["b"] * n,
            "exact_key": range(first_key, first_key + n),
            "sentence_key": range(first_key, first_key + n),
            "title_key": [None] * n,
            "short_body": [False] * n,
            "published_date": [None] * n,
            "band_keys": list(rows.values()),
        },
        schema={
            "doc_id": pl.String,
            "batch_id": pl.String,
            "exact_key": pl.UInt64,
            "sentence_key": pl.UInt64,
            "title_key": pl.UInt64,
            "short_body": pl.Boolean,
            "published_date": pl.Date,
            "band_keys": pl.List(pl.UInt64),
        },
    )


OLD = docs({"a": [1, 2, 3], "b": [4, 2, 9], "c": [7, 8, 9], "d": [10, 11, 12], "e": []}, 0)
NEW = docs({"n": [3, 11, 99], "m": [], "o": [8, 40, 41, 99]}, 100)


def pairs(parts: int) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for part in range(parts):
        query = band_partition(NEW, part, parts)
        old = band_partition(OLD, part, parts)
        hits = partition_candidates(query, old, DedupeConfig())
        found |= set(hits.select("doc_id", "other_doc_id").iter_rows())
    return found


def test_pairs_share_a_key_and_two_new_documents_pair_once() -> None:
    assert pairs(1) == {("n", "a"), ("n", "d"), ("o", "c"), ("n", "o")}


@pytest.mark.parametrize("parts", [2, 3, 7, 64])
def test_cutting_the_key_space_into_partitions_changes_no_pair(parts: int) -> None:
    assert pairs(parts) == pairs(1)


def test_copies_by_key_and_dates_out_of_the_window_are_not_candidates() -> None:
    config = DedupeConfig()
    same = NEW.filter(pl.col("doc_id") == "n").with_columns(exact_key=pl.lit(0, pl.UInt64))
    far = OLD.filter(pl.col("doc_id") == "d").with_columns(published_date=dt.date(2020, 1, 1))
    query = band_partition(same.with_columns(published_date=dt.date(2024, 1, 1)), 0, 1)
    old = band_partition(pl.concat([OLD.filter(pl.col("doc_id") == "a"), far]), 0, 1)
    assert partition_candidates(query, old, config).is_empty()  # a: same key; d: a year off


def test_estimates_keep_copies_and_drop_pairs_sharing_a_paragraph() -> None:
    config = DedupeConfig()
    base = list(range(1, 301))
    sets = {
        "a": base,
        "edited": base[:270] + list(range(1001, 1031)),  # Jaccard 0.82
        "inside": base[:100],  # Jaccard 0.33, containment 1.0: a story inside a page
        "shares": base[:60] + list(range(2001, 2241)),  # Jaccard 0.11, containment 0.2
        "other": list(range(3001, 3301)),
    }
    shingles = pl.Series(list(sets.values()), dtype=pl.List(pl.UInt64))
    sig = signatures(shingles, config)
    counts = np.array([len(v) for v in sets.values()])
    mask = plausible(np.zeros(4, int), np.arange(1, 5), sig, counts, config)
    assert [name for name, kept in zip(list(sets)[1:], mask, strict=True) if kept] == [
        "edited",
        "inside",
    ]


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(20, 400),
    other_size=st.integers(20, 400),
    shared=st.floats(0.0, 1.0),
    offset=st.integers(0, 10**9),
)
def test_no_pair_verification_would_accept_is_dropped(
    size: int, other_size: int, shared: float, offset: int
) -> None:
    config = DedupeConfig()
    common = int(shared * min(size, other_size))
    a = list(range(offset, offset + size))
    b = a[:common] + list(range(offset + 10**6, offset + 10**6 + other_size - common))
    jaccard = common / (size + other_size - common)
    containment = common / min(size, other_size)
    sig = signatures(pl.Series([a, b], dtype=pl.List(pl.UInt64)), config)
    kept = plausible(np.array([0]), np.array([1]), sig, np.array([size, other_size]), config)
    if jaccard >= config.jaccard_threshold or containment >= config.containment_threshold:
        assert kept[0]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 2**63), min_size=1, max_size=40, unique=True), max_size=12),
    st.integers(1, 5),
)
def test_signatures_made_a_few_sets_at_a_time_are_the_signatures_of_all_at_once(
    sets: list[list[int]], at_once: int
) -> None:
    shingles = pl.Series(sets, dtype=pl.List(pl.UInt64))
    whole = signatures(shingles, DedupeConfig())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.minhash, "SIGNATURE_SETS", at_once)
        assert np.array_equal(signatures(shingles, DedupeConfig()), whole)
    assert whole.shape == (len(sets), DedupeConfig().num_perm)
