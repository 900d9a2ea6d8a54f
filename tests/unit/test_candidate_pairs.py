"""LSH candidate pairs: documents sharing a band key, never a document with itself,
the same pairs however many parts the key space is cut into."""

from __future__ import annotations

import polars as pl
import pytest

import tasks.minhash
from tasks.minhash import candidate_pairs


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
