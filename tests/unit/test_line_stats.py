"""Line statistics in partitions by domain: the same counts as one table derived from
every document, a run rewrites only the partitions its documents' domains reach, and
a lake of the single-file tables is split without losing a count. Texts are invented.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.line_stats as line_stats
from newsflow.lake import Lake
from newsflow.schema import LINE_DOCS
from tasks.line_stats import (
    LineStatsError,
    document_lines,
    domain_lines,
    domain_partition,
    forget_documents,
    merged_documents,
    part_name,
    update_line_stats,
)
from tests.articles import ingested_rows

PARAGRAPHS = [
    "Share your views on the harbour plan with the newsroom.",
    "The council meets again on Thursday evening.",
    "Ferry times change from the first of the month.",
    "Subscribers read every story without a limit.",
    "The weather turns colder over the weekend.",
]
# A document: (site, paragraphs by index into PARAGRAPHS, and one line of its own).
Doc = tuple[int, Sequence[int]]


def ingested_batch(docs: Sequence[Doc], first: int, prefix: str = "d") -> pl.DataFrame:
    """Ingested rows; a doc_id names one record of one file, so one URL."""
    rows = []
    for n, (site, shared) in enumerate(docs, start=first):
        body = "\n\n".join([f"Story {n} about the quay.", *(PARAGRAPHS[i] for i in shared)])
        url = f"https://www.site{site}.example/news/{n}" if site >= 0 else None
        rows.append(
            {"doc_id": f"{prefix}{n}", "source_file": f"{prefix}{n}.json", "url": url, "body": body}
        )
    return ingested_rows(*rows)


def write_batches(lake: Lake, batches: Sequence[Sequence[Doc]], prefix: str) -> list[str]:
    names, first = [], 0
    for i, docs in enumerate(batches):
        name = f"{prefix}{i:03d}"
        lake.write(ingested_batch(docs, first, prefix), "ingested", name, "r")
        names.append(name)
        first += len(docs)
    return names


def one_table(lake: Lake, batch_ids: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`line_docs` and `line_stats` as one table derived from every batch at once."""
    new = [document_lines(lake.read("ingested", b), "r") for b in batch_ids]
    documents = merged_documents(pl.DataFrame(schema=LINE_DOCS), pl.concat(new))
    return documents, domain_lines(documents)


def tables(lake: Lake) -> tuple[pl.DataFrame, pl.DataFrame]:
    docs = lake.scan("line_docs").collect().sort("doc_id")
    return docs, lake.scan("line_stats").collect().sort("domain", "line_hash")


def same(lake: Lake, batch_ids: Sequence[str]) -> None:
    docs, stats = one_table(lake, batch_ids)
    got_docs, got_stats = tables(lake)
    assert got_docs.drop("run_id").equals(docs.sort("doc_id").drop("run_id"))
    assert got_stats.equals(stats.sort("domain", "line_hash"))


@contextmanager
def per_part(docs: int) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(line_stats, "LINE_DOCS_PER_PART", docs)
        patch.setattr(line_stats, "BATCHES_PER_TASK", 2)
        yield


doc = st.tuples(st.integers(-1, 6), st.lists(st.integers(0, len(PARAGRAPHS) - 1), max_size=4))
batches = st.lists(st.lists(doc, min_size=1, max_size=6), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(first=batches, second=batches, docs_per_part=st.integers(1, 8))
def test_partitions_count_what_one_table_over_every_document_counts(
    first: list[list[Doc]], second: list[list[Doc]], docs_per_part: int
) -> None:
    with tempfile.TemporaryDirectory() as folder, per_part(docs_per_part):
        lake = Lake(folder)
        ids = write_batches(lake, first, "a")
        update_line_stats(folder, "r1", ids)
        same(lake, ids)
        more = write_batches(lake, second, "b")
        # The first run's batches again (a rerun after a crash) count nothing twice.
        update_line_stats(folder, "r2", [*more, *ids])
        same(lake, [*ids, *more])


def test_a_run_rewrites_only_the_partitions_its_domains_reach(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    with per_part(2):
        ids = write_batches(lake, [[(s, [0, 1]) for s in range(7)] * 2], "a")
        first = update_line_stats(str(tmp_path), "r1", ids)
        parts = int(lake.files("line_docs")[0].stem.split("-of-")[1])
        assert parts == 7  # 14 documents, 2 per partition
        lake.write(ingested_batch([(3, [0, 1, 2])], 100), "ingested", "b", "r")
        second = update_line_stats(str(tmp_path), "r2", ["b"])
    part = pl.select(domain_partition(pl.lit("www.site3.example"), parts)).item()
    for table in ("line_docs", "line_stats"):
        rewritten = {p.stem for p in lake.files(table) if lake.run_of(p) == "r2"}
        assert rewritten == {part_name(part, parts)}, table
    assert (first.newly_counted, second.newly_counted, second.counted) == (14, 1, 15)
    assert second.domains == 7
    same(lake, [*ids, "b"])


def test_the_single_file_tables_are_split_into_partitions(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    ids = write_batches(lake, [[(s % 4, [0, s % 3]) for s in range(12)]], "a")
    documents, stats = one_table(lake, ids)
    lake.write(documents, "line_docs", "documents", "r0")
    lake.write(stats, "line_stats", "domain_lines", "r0")
    lake.write(ingested_batch([(1, [0, 4])], 100), "ingested", "b", "r")
    with per_part(3):
        update_line_stats(str(tmp_path), "r1", ["b"])
    for table in ("line_docs", "line_stats"):
        assert {p.stem.split("-of-")[1] for p in lake.files(table)} == {"00005"}, table
    same(lake, [*ids, "b"])  # 13 documents: 5 partitions of 3


def test_forgetting_a_batch_rederives_the_partitions_that_held_it(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    with per_part(2):
        ids = write_batches(lake, [[(s, [0, 1]) for s in range(5)], [(1, [0, 1]), (2, [1])]], "a")
        update_line_stats(str(tmp_path), "r1", ids)
    gone = lake.read("ingested", ids[1])["doc_id"]
    assert forget_documents(lake, gone, "r2") == 2
    same(lake, ids[:1])


def test_partitions_of_two_counts_are_refused_in_one_line(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    ids = write_batches(lake, [[(0, [0]), (1, [0])]], "a")
    documents, _ = one_table(lake, ids)
    lake.write(documents.head(1), "line_docs", part_name(0, 2), "r0")
    lake.write(documents.tail(1), "line_docs", part_name(0, 3), "r0")
    with pytest.raises(LineStatsError, match="mixes partition counts") as refused:
        update_line_stats(str(tmp_path), "r1", ids)
    assert "\n" not in str(refused.value)
