"""The Delta tables readers read: committed from the working copy, once, as a diff."""

from __future__ import annotations

import glob
import os
import time
import uuid
from pathlib import Path

import duckdb
import fsspec
import polars as pl
import pytest
from deltalake import DeltaTable

from newsflow.lake import Lake
from newsflow.schema import DUPLICATES, enriched_schema
from newsflow.tables import (
    TABLES,
    OldLayoutError,
    check_layout,
    commit_table,
    commit_tables,
    snapshot,
    table_uri,
    table_versions,
    vacuum,
)


def duplicates(*doc_ids: str) -> pl.DataFrame:
    rows = [
        {"doc_id": d, "kept_doc_id": "k", "similarity": 1.0, "method": "exact_body"}
        for d in doc_ids
    ]
    return pl.DataFrame(rows).with_columns(
        pl.lit(None, t).alias(c) for c, t in DUPLICATES.items() if c not in rows[0]
    )


def ids(lake: Path, stage: str, version: int | None = None) -> list[str]:
    frame = pl.scan_delta(table_uri(lake, stage), version=version).collect()
    return sorted(frame["doc_id"])


def test_a_commit_adds_new_files_replaces_rewritten_ones_and_keeps_old_versions(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path)
    lake.write(duplicates("a", "b"), "duplicates", "b1", "r1")
    first = commit_table(lake, "duplicates", "r1")
    assert ids(tmp_path, "duplicates") == ["a", "b"]
    time.sleep(0.01)  # a rewrite has a later mtime on any clock
    lake.write(duplicates("a", "c"), "duplicates", "b1", "r2")
    lake.write(duplicates("d"), "duplicates", "b2", "r2")
    second = commit_table(lake, "duplicates", "r2")
    assert second == first + 1
    assert ids(tmp_path, "duplicates") == ["a", "c", "d"]
    assert ids(tmp_path, "duplicates", first) == ["a", "b"]  # time travel
    lake.remove_except("duplicates", [], names=["b2"])
    assert commit_table(lake, "duplicates", "r3") == second + 1
    assert ids(tmp_path, "duplicates") == ["a", "c"]


def test_nothing_changed_commits_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write(duplicates("a"), "duplicates", "b1", "r1")
    versions = commit_tables(lake, "r1")
    assert set(versions) == set(TABLES)
    assert commit_tables(lake, "r2") == versions
    assert table_versions(tmp_path) == versions


def test_table_files_are_links_to_the_working_files_not_copies(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    [work] = lake.write(duplicates("a"), "duplicates", "b1", "r1")
    commit_table(lake, "duplicates", "r1")
    [path] = DeltaTable(table_uri(tmp_path, "duplicates")).file_uris()
    assert os.stat(path).st_ino == os.stat(work).st_ino


def test_a_partitioned_stage_keeps_its_partition_column(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    given = {"doc_id": ["a", "b"], "published_month": ["2024-05", None]}
    rows = pl.DataFrame(given).select(
        pl.col(c) if c in given else pl.lit(None, t).alias(c) for c, t in enriched_schema().items()
    )
    lake.write(rows, "enriched", "b1", "r1")
    commit_table(lake, "enriched", "r1")
    read = snapshot(tmp_path).scan("enriched").collect().sort("doc_id")
    assert read["published_month"].to_list() == ["2024-05", "unknown"]
    assert read.schema == enriched_schema()


def test_the_readers_of_the_documentation_read_a_table(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write(duplicates("a", "b", "c"), "duplicates", "b1", "r1")
    commit_tables(lake, "r1")
    uri = table_uri(tmp_path, "duplicates")
    assert pl.scan_delta(uri).select(pl.len()).collect().item() == 3
    assert sorted(snapshot(tmp_path).scan("duplicates").collect()["doc_id"]) == ["a", "b", "c"]
    assert sorted(DeltaTable(uri).to_pandas()["doc_id"]) == ["a", "b", "c"]
    con = duckdb.connect()
    con.register("duplicates", DeltaTable(uri).to_pyarrow_dataset())
    assert con.sql("select count(distinct doc_id) from duplicates").fetchall() == [(3,)]


def test_an_old_glob_finds_nothing_and_an_old_layout_is_refused(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write(duplicates("a"), "duplicates", "b1", "r1")
    commit_tables(lake, "r1")
    assert glob.glob(str(tmp_path / "duplicates" / "**" / "*.parquet"), recursive=True) == []
    check_layout(tmp_path)
    (tmp_path / "enriched").mkdir()
    with pytest.raises(OldLayoutError, match="newsflow migrate --lake"):
        check_layout(tmp_path)


def test_an_old_layout_on_object_storage_is_refused_naming_a_local_migration() -> None:
    # migrate converts local lakes only (app/cli.py): an old lake that was uploaded is
    # migrated from a local copy.
    remote = f"memory://old-{uuid.uuid4().hex[:8]}/lake"
    Lake(remote).write(duplicates("a"), "duplicates", "b1", "r1")
    check_layout(remote)  # the working copy is not the old layout
    fsspec.filesystem("memory").pipe(f"{remote}/enriched/b1.parquet", b"old")
    with pytest.raises(OldLayoutError, match=r"\(enriched/\): migrate a local copy"):
        check_layout(remote)


def test_vacuum_expires_versions_but_keeps_the_newest(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write(duplicates("a"), "duplicates", "b1", "r1")
    first = commit_table(lake, "duplicates", "r1")
    time.sleep(0.01)
    lake.write(duplicates("b"), "duplicates", "b1", "r2")
    commit_table(lake, "duplicates", "r2")
    table = tmp_path / "tables" / "duplicates"
    [newest] = DeltaTable(str(table)).file_uris()
    # A run killed after linking a file into the table, before committing it.
    os.link(newest, table / "b9.never-committed.parquet")
    assert vacuum(tmp_path, 0, "r3")["duplicates"] == 2
    assert sorted(p.name for p in table.glob("*.parquet")) == [Path(newest).name]
    assert ids(tmp_path, "duplicates") == ["b"]
    with pytest.raises(Exception, match="(?i)not found|no such file|does not exist"):
        ids(tmp_path, "duplicates", first)
    assert lake.scan("duplicates").collect()["doc_id"].to_list() == ["b"]  # the work stays


def test_a_new_enrichers_columns_join_an_existing_table_null_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newsflow.schema
    from newsflow.tables import Snapshot

    every = newsflow.schema.enricher_columns()
    newest = every[-1].name

    def rows(doc_id: str) -> pl.DataFrame:
        given = {"doc_id": [doc_id], "published_month": ["2024-05"]}
        return pl.DataFrame(given).select(
            pl.col(c) if c in given else pl.lit(None, t).alias(c)
            for c, t in enriched_schema().items()
        )

    lake = Lake(tmp_path)
    with monkeypatch.context() as before:  # the contract before its newest enricher
        before.setattr(newsflow.schema, "enricher_columns", lambda: every[:-1])
        lake.write(rows("a"), "enriched", "b1", "r1")
        first = commit_table(lake, "enriched", "r1")
        assert newest not in pl.scan_delta(table_uri(tmp_path, "enriched")).collect_schema()
    lake.write(rows("b"), "enriched", "b2", "r2")
    commit_table(lake, "enriched", "r2")

    working = lake.scan("enriched").collect().sort("doc_id")
    assert working.schema == enriched_schema()
    assert working[newest].to_list() == [None, None]
    assert newest in pl.scan_delta(table_uri(tmp_path, "enriched")).collect_schema()
    assert snapshot(tmp_path).scan("enriched").collect().height == 2
    pinned = Snapshot(str(tmp_path), {"enriched": first}).scan("enriched").collect()
    assert pinned.schema == enriched_schema()
    assert pinned["doc_id"].to_list() == ["a"]
