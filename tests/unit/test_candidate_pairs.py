"""LSH candidate pairs: documents sharing a band key, never a document with itself,
the same pairs however many parts the key space is cut into; MinHash estimates keep
every pair verification could accept."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.minhash
from newsflow.config import DedupeConfig
from tasks.minhash import candidate_pairs, plausible, signatures


def frame(rows: dict[str, list[int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": list(rows), "band_keys": list(rows.values())},
        schema={"doc_id": pl.String, "band_keys": pl.List(pl.UInt64)},
    )


POOL = frame({"a": [1, 2, 3], "b": [4, 2, 9], "c": [7, 8, 9], "d": [10, 11, 12], "e": []})
QUERY = frame({"c": [7, 8, 9], "n": [3, 11, 99], "m": [], "o": [8, 40, 41]})


def pairs(query: pl.DataFrame, pool: pl.DataFrame) -> set[tuple[str, str]]:
    return set(candidate_pairs(query, pool).iter_rows())


def test_pairs_share_a_key_and_never_pair_a_document_with_itself() -> None:
    assert pairs(QUERY, POOL) == {("c", "b"), ("n", "a"), ("n", "d"), ("o", "c")}


@pytest.mark.parametrize("part_keys", [1, 2, 5])
def test_cutting_the_key_space_changes_no_pair(
    monkeypatch: pytest.MonkeyPatch, part_keys: int
) -> None:
    whole = pairs(QUERY, POOL)
    monkeypatch.setattr(tasks.minhash, "PAIR_PART_KEYS", part_keys)
    assert pairs(QUERY, POOL) == whole


@pytest.mark.parametrize("part_keys", [1, 2, 5, 4_000_000])
def test_the_filter_sees_row_numbers_in_every_part(
    monkeypatch: pytest.MonkeyPatch, part_keys: int
) -> None:
    monkeypatch.setattr(tasks.minhash, "PAIR_PART_KEYS", part_keys)
    seen: list[tuple[int, int]] = []

    def not_pool_a(hits: pl.DataFrame) -> pl.DataFrame:
        seen.extend(hits.iter_rows())
        return hits.filter(pl.col("p") != 0)  # pool row 0 is "a"

    kept = set(candidate_pairs(QUERY, POOL, not_pool_a).iter_rows())
    assert kept == {("c", "b"), ("n", "d"), ("o", "c")}
    assert (1, 0) in seen  # query row 1 ("n") met pool row 0 ("a")


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
