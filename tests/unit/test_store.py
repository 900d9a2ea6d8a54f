"""The lake's file operations on a local folder and on an fsspec store (`memory://`, the
in-process store fsspec ships; S3 itself is tested against SeaweedFS in tests/s3)."""

from __future__ import annotations

import uuid
from pathlib import Path

import polars as pl
import pytest

from newsflow.lake import Lake
from newsflow.store import LakePath, Store, atomic_write
from newsflow.task_cache import lake_generation


@pytest.fixture(params=["local", "memory"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "local":
        return tmp_path / "lake"
    return f"memory://lake-{uuid.uuid4().hex[:8]}"


def test_a_failed_write_leaves_the_old_file_and_no_other(location: Path | str) -> None:
    store = Store(location)
    target = store.root / "quality" / "latest.json"
    store.write_json(target, {"run": 1})

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text('{"run": 2', encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write(target, half_then_fail)
    assert store.read_json(target) == {"run": 1}
    assert [p.name for p in store.files(target.parent, suffix="")] == ["latest.json"]


def test_only_the_first_of_two_create_only_writes_wins(location: Path | str) -> None:
    store = Store(location)
    path = store.root / ".generation"
    assert store.write_new_text(path, "first") is True
    assert store.write_new_text(path, "second") is False
    assert store.read_text(path) == "first"


def test_a_lake_reads_back_what_it_wrote_typed_by_the_contract(location: Path | str) -> None:
    lake = Lake(location)
    rows = pl.DataFrame(
        {"doc_id": ["a", "b"], "kept_doc_id": ["a", "a"], "matched_doc_id": ["a", "a"]}
    ).with_columns(
        similarity=pl.lit(1.0), method=pl.lit("exact"), run_id=pl.lit("r1"), batch_id=pl.lit("b")
    )
    lake.write(rows, "duplicates", "batch-1", "r1")
    assert lake.exists("duplicates", "batch-1")
    assert not lake.exists("duplicates", "batch-2")
    back = lake.read("duplicates", "batch-1")
    assert back["doc_id"].to_list() == ["a", "b"]
    assert lake.count("duplicates") == 2
    assert lake.run_of(lake.file_path("duplicates", "batch-1")) == "r1"
    assert [c.height for c in lake.read_chunks("duplicates", "batch-1", rows=1)] == [1, 1]
    lake.remove_except("duplicates", keep=[])
    assert lake.files("duplicates") == []

    lake.write_run({"run_id": "r2", "started_at": "2"})
    lake.write_run({"run_id": "r1", "started_at": "1"})
    assert [r["run_id"] for r in lake.runs()] == ["r1", "r2"]
    assert lake.last_run() == {"run_id": "r2", "started_at": "2"}
    token = lake_generation(lake)
    assert lake_generation(location) == token != lake_generation(lake, renew=True)


def test_scratch_partitions_are_the_folders_holding_files(location: Path | str) -> None:
    scratch = Lake(location).scratch("dedupe/run-1")
    schema = pl.Schema({"n": pl.Int64})
    for part, task in (("p0", "t1"), ("p0", "t2"), ("p1", "t1")):
        scratch.write(pl.DataFrame({"n": [int(task[1])]}), "bands", part, task)
    assert scratch.folders("bands") == ["p0", "p1"]
    assert scratch.read(schema, "bands", "p0")["n"].to_list() == [1, 2]
    assert scratch.read(schema, "bands", "p1", "t1")["n"].to_list() == [1]
    scratch.clear()
    assert scratch.folders("bands") == []
    assert scratch.read(schema, "bands", "p0").is_empty()


def test_scratch_reads_files_of_narrower_wider_and_null_types_as_the_schema(
    location: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A local partition is read in one scan; file by file on object storage, or when a
    # file is wider than the schema.
    one_by_one: list[object] = []
    read_parquet = Store.read_parquet

    def counted(store: Store, path: LakePath, columns: list[str] | None = None) -> pl.DataFrame:
        one_by_one.append(path)
        return read_parquet(store, path, columns)

    monkeypatch.setattr(Store, "read_parquet", counted)
    local = isinstance(location, Path)
    scratch = Lake(location).scratch("dedupe/run-1")
    schema = pl.Schema([("n", pl.Int32()), ("ids", pl.List(pl.UInt64()))])
    files = {
        "a": pl.DataFrame(
            {"n": [1], "ids": [[7]]}, schema={"n": pl.Int8, "ids": pl.List(pl.UInt64)}
        ),
        "b": pl.DataFrame({"n": [None], "ids": [None], "extra": ["x"]}),
        "c": pl.DataFrame({"n": [3], "ids": [[]]}, schema={"n": pl.Int32, "ids": pl.List(pl.Null)}),
    }
    for name, frame in files.items():
        scratch.write(frame, "bands", "0", name)
    narrow = scratch.read(schema, "bands", "0")
    assert len(one_by_one) == (0 if local else 3)
    assert narrow.schema == schema
    assert narrow.to_dicts() == [
        {"n": 1, "ids": [7]},
        {"n": None, "ids": None},
        {"n": 3, "ids": []},
    ]
    scratch.write(
        pl.DataFrame({"n": [4], "ids": [[8]]}, schema={"n": pl.Int64, "ids": pl.List(pl.UInt64)}),
        "bands",
        "0",
        "d",
    )
    wide = scratch.read(schema, "bands", "0")
    assert len(one_by_one) == (4 if local else 7)
    assert wide.schema == schema
    assert wide["n"].to_list() == [1, None, 3, 4]


def test_the_local_atomic_write_sweeps_temp_files_a_killed_writer_left(tmp_path: Path) -> None:
    target = tmp_path / "cleaned" / "b.parquet"
    target.parent.mkdir()
    orphan = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    orphan.write_bytes(b"half")
    atomic_write(target, lambda tmp: tmp.write_bytes(b"whole"))
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.parquet"]
