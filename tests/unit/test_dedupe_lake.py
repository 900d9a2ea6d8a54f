"""The dedupe task on a lake: shuffling rows to parts of any size changes no output,
and the lake's records are those of the in-memory dedupe."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import polars as pl
import psutil
import pytest

import tasks.dedupe
import tasks.dedupe_lake
from newsflow.lake import Lake
from newsflow.schema import DEDUPED
from tasks.dedupe import dedupe_frame
from tasks.dedupe_lake import dedupe
from tasks.shuffle import Shuffle
from tests.articles import MARKET, SCATTERED_COPIES, body, cleaned

ROWS: list[dict[str, object]] = [
    *SCATTERED_COPIES,
    {"doc_id": "z", "body": body(MARKET[2:]) + "\n\nA paragraph of its own.", "batch_id": "b3"},
]


def lake_with_cleaned(root: Path, rows: pl.DataFrame) -> Lake:
    lake = Lake(root)
    for (batch,), part in rows.group_by("batch_id", maintain_order=True):
        lake.write(part, "cleaned", str(batch), "r0")
    return lake


def outputs(root: Path) -> dict[str, pl.DataFrame]:
    return {
        f"{stage}/{p.name}": pl.read_parquet(p)
        for stage in ("deduped", "duplicates", "dedupe_index")
        for p in sorted((root / stage).glob("*.parquet"))
    }


def test_parts_of_one_row_give_the_files_of_one_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = cleaned(*ROWS)
    lake_with_cleaned(tmp_path / "one", rows)
    lake_with_cleaned(tmp_path / "many", rows)
    dedupe.fn(str(tmp_path / "one"), "r1")
    monkeypatch.setattr(tasks.dedupe, "VERIFY_CHUNK", 1)
    monkeypatch.setattr(tasks.dedupe, "MERGE_CHUNK", 1)
    monkeypatch.setattr(tasks.dedupe_lake, "OUTPUT_BATCHES", 1)
    dedupe.fn(str(tmp_path / "many"), "r1")
    one, many = outputs(tmp_path / "one"), outputs(tmp_path / "many")
    assert one.keys() == many.keys()
    assert {"deduped/b0.parquet", "duplicates/b1.parquet"} <= one.keys()
    for name, frame in one.items():
        assert many[name].equals(frame), name
    records, duplicates = dedupe_frame(rows, "r1")
    assert duplicates.height >= 3  # copies were found, so parts had something to split
    lake_records = pl.concat(f for n, f in one.items() if n.startswith("deduped/"))
    assert lake_records.sort("doc_id").equals(records.select(DEDUPED.names()).sort("doc_id"))


def test_a_later_run_shingles_indexed_documents_from_cleaned(tmp_path: Path) -> None:
    rows = cleaned(*ROWS)
    lake = lake_with_cleaned(tmp_path / "lake", rows.filter(pl.col("batch_id") != "b3"))
    dedupe.fn(str(tmp_path / "lake"), "r1")
    lake.write(rows.filter(pl.col("batch_id") == "b3"), "cleaned", "b3", "r0")
    result = dedupe.fn(str(tmp_path / "lake"), "r2")
    assert result["new"] == 1
    assert result["rebuilt"] is None
    # z is a copy of x, indexed by the first run: verifying the pair needed x's shingles.
    records, _ = dedupe_frame(rows, "r2")
    lake_records = pl.read_parquet(tmp_path / "lake" / "deduped" / "*.parquet")
    assert sorted(lake_records["doc_id"]) == sorted(records["doc_id"])
    assert "z" not in lake_records["doc_id"] or "x" not in lake_records["doc_id"]


def test_shuffle_returns_each_part_in_the_order_added(tmp_path: Path) -> None:
    schema = pl.Schema([("v", pl.String()), ("part", pl.Int64())])
    with Shuffle(tmp_path, schema) as shuffle:
        shuffle.add(pl.DataFrame({"v": ["a", "b", "c"], "part": [2, 0, 2]}), "part")
        shuffle.add(pl.DataFrame({"v": ["d"], "part": [2]}), "part")
    assert shuffle.parts() == [0, 2]
    assert shuffle.read(2)["v"].to_list() == ["a", "c", "d"]
    assert shuffle.read(0)["v"].to_list() == ["b"]
    assert shuffle.read(1).is_empty()


def test_a_column_kept_from_a_part_does_not_hold_the_rest_of_it(tmp_path: Path) -> None:
    # Dedupe keeps each merged part's (cluster, kept id) until the end: if that column
    # held the part's bodies, memory would grow with the corpus (4.4 GB at 1M).
    schema = pl.Schema([("doc_id", pl.String()), ("body", pl.String()), ("part", pl.Int64())])
    rows = 2_000
    with Shuffle(tmp_path, schema) as shuffle:
        shuffle.add(
            pl.DataFrame(
                {
                    "doc_id": [f"doc-{i:028d}" for i in range(rows)],
                    "body": [f"{i} " + "word " * 2_000 for i in range(rows)],
                    "part": [0] * rows,
                }
            ),
            "part",
        )
    process = psutil.Process()
    before = process.memory_info().rss
    kept = [shuffle.read(0).select("doc_id") for _ in range(10)]  # bodies: 10 x 20 MB
    grown = process.memory_info().rss - before
    assert sum(frame.height for frame in kept) == 10 * rows
    assert grown < 60 * 2**20, f"{grown / 2**20:.0f} MB held by {len(kept)} id columns"


def test_dedupe_logs_each_phase_with_its_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = cleaned(*ROWS)
    lake_with_cleaned(tmp_path / "lake", rows)
    with caplog.at_level(logging.INFO, logger="newsflow"):
        result = dedupe.fn(str(tmp_path / "lake"), "r1")
    lines = [r.getMessage() for r in caplog.records if r.name == "newsflow"]
    phases = [line.split(": ", 1)[1].rsplit(" in ", 1)[0] for line in lines]
    members = result["deduped"] + result["duplicates"]
    assert phases[0] == f"{rows.height} cleaned documents, 0 indexed, {rows.height} new"
    assert phases[1] == f"fingerprinted {rows.height} new documents"
    assert re.fullmatch(r"proposed [1-9][0-9]* candidate pairs", phases[2])
    assert phases[3] == (
        f"verified and linked: {result['clusters_rewritten']} clusters changed,"
        f" {members} documents in them"
    )
    assert phases[4] == f"merged {result['clusters_rewritten']} clusters"
    batches = rows["batch_id"].n_unique()  # a fresh lake: every batch is written
    assert phases[5] == f"rewrote deduped/ and duplicates/ of {batches} batches"
    assert phases[6] == f"wrote the index of {members} documents"
    assert len(phases) == 7
    assert all(line.startswith("dedupe: ") for line in lines)


def test_an_index_without_the_short_body_columns_is_rebuilt(tmp_path: Path) -> None:
    rows = cleaned(*ROWS)
    lake = lake_with_cleaned(tmp_path, rows)
    dedupe.fn(str(tmp_path), "r1")
    [path] = (tmp_path / "dedupe_index").glob("*.parquet")
    before = pl.read_parquet(path)
    before.drop("title_key", "short_body").write_parquet(path)  # as an older dedupe wrote it
    result = dedupe.fn(str(tmp_path), "r2")
    assert result["rebuilt"] is not None
    assert "lacks a column" in result["rebuilt"]
    assert lake.scan("dedupe_index").collect().drop("run_id").equals(before.drop("run_id"))
