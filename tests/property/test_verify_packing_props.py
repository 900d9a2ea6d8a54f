"""`VerifyPacking` over any run of bucket sizes: every pair gets one verify partition, no
partition holds more than the limit, partitions are numbered from 0 without gaps, and a bucket
that fits stays whole."""

from __future__ import annotations

from collections import Counter

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.dedupe_rules import VerifyPacking


def bucket(number: int, size: int) -> pl.DataFrame:
    ids = [f"d{number}-{i // 3}" for i in range(size)]  # a few pairs per searched document
    others = [f"o{i}" for i in range(size)]
    return pl.DataFrame(
        {"doc_id": ids, "other_doc_id": others},
        schema={"doc_id": pl.String, "other_doc_id": pl.String},
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=12), st.integers(1, 15))
def test_partitions_hold_each_pair_once_and_at_most_the_limit(sizes: list[int], limit: int) -> None:
    packing = VerifyPacking(limit)
    # Buckets come in any doc_id order: reversed here, so a cut must sort.
    placed = [packing.place(bucket(n, size).reverse()) for n, size in enumerate(sizes)]
    rows = pl.concat([bucket(0, 0).with_columns(part=pl.lit(0, pl.Int64)), *placed])
    assert rows.height == sum(sizes)
    assert rows.select("doc_id", "other_doc_id").n_unique() == rows.height
    counts = dict(rows.group_by("part").len().iter_rows())
    assert all(n <= limit for n in counts.values())
    assert sorted(counts) == list(range(len(counts)))
    held: Counter[int] = Counter()  # pairs per partition, buckets so far
    cut: set[int] = set()  # partitions of cut buckets
    filling = 0  # pairs of the partition being filled (0 after a cut)
    for size, frame in zip(sizes, placed, strict=True):
        parts = set(frame["part"].to_list())
        if size > limit:  # cut in doc_id order over partitions of its own
            assert frame.sort("doc_id", "other_doc_id")["part"].is_sorted()
            assert not parts & held.keys()
            cut |= parts
            filling = 0
        elif size:
            (part,) = parts
            assert part not in cut
            # A fitting bucket opens a partition only when the open one cannot take it.
            if not held[part] and filling:
                assert filling + size > limit
            filling = held[part] + size
        held.update(dict(frame.group_by("part").len().iter_rows()))


def test_a_large_bucket_is_cut_in_doc_id_order_after_the_open_partition() -> None:
    packing = VerifyPacking(4)
    small = packing.place(bucket(0, 3))
    large = packing.place(bucket(1, 9).reverse()).sort("part", maintain_order=True)
    assert small["part"].to_list() == [0, 0, 0]
    assert large["part"].to_list() == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert large["doc_id"].is_sorted()
    assert packing.place(bucket(2, 1))["part"].to_list() == [4]
