"""The contract fails loudly on drift; the lake writes atomically with metadata."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from newsflow.lake import Lake, LakeVersionError, write_parquet
from newsflow.schema import (
    CONTRACT_SINCE,
    DUPLICATES,
    INGESTED,
    SCHEMA_VERSION,
    STAGE_SCHEMAS,
    SchemaDriftError,
    conform,
    enriched_schema,
    rule_counts,
)


def ingested_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {name: "x" for name in INGESTED.names()}
    row["record_index"] = 0
    row.update(authors=["x"], tags=["x"], fetched_at=None)
    row.update(overrides)
    return row


def test_conform_orders_and_casts_columns() -> None:
    df = pl.DataFrame([ingested_row()]).select(reversed(INGESTED.names()))
    out = conform(df, INGESTED)
    assert out.columns == INGESTED.names()
    assert out.schema == INGESTED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop("url"), "missing columns \\['url'\\]"),
        (lambda df: df.with_columns(extra=pl.lit(1)), "unexpected columns \\['extra'\\]"),
        (lambda df: df.with_columns(record_index=pl.lit("seven")), "do not cast"),
    ],
)
def test_conform_refuses_drift(
    change: Callable[[pl.DataFrame], pl.DataFrame], message: str
) -> None:
    df = pl.DataFrame([ingested_row()])
    with pytest.raises(SchemaDriftError, match=message):
        conform(change(df), INGESTED)


def duplicate_rows(doc_ids: list[str], run_id: str = "r1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc_id": doc_ids,
            "kept_doc_id": "k",
            "matched_doc_id": "k",
            "similarity": 1.0,
            "method": "exact_body",
            "run_id": run_id,
            "batch_id": "b1",
        }
    )


def test_write_carries_metadata_and_leaves_only_the_file(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    df = duplicate_rows(["a"])
    [path] = lake.write(df, "duplicates", "b1", "r1")
    assert path == tmp_path / "_work" / "duplicates" / "b1.parquet"
    assert [p.name for p in path.parent.iterdir()] == ["b1.parquet"]  # no temp file left
    meta = pq.read_schema(path).metadata
    assert meta[b"newsflow.schema_version"] == SCHEMA_VERSION.encode()
    assert meta[b"newsflow.run_id"] == b"r1"
    assert pq.read_metadata(path).row_group(0).column(0).compression == "ZSTD"
    assert lake.scan("duplicates").collect().equals(conform(df, DUPLICATES))


class WriteFailed(RuntimeError):
    """Injected between two row groups of a write."""


def test_a_write_that_fails_midway_leaves_the_old_file_whole_and_no_partial_file(
    tmp_path: Path,
) -> None:
    """While a rewrite is under way readers see the old file only; when it dies between
    two row groups the old file is byte for byte what it was and nothing else is left."""
    lake = Lake(tmp_path)
    [path] = lake.write(duplicate_rows(["old-1", "old-2"]), "duplicates", "b1", "r1")
    before = path.read_bytes()
    seen_mid_write: list[list[str]] = []

    def chunks() -> Iterator[pl.DataFrame]:
        yield duplicate_rows(["new-1"], "r2")
        # One row group is on disk now: what a reader (or a crash) would find.
        seen_mid_write.append(sorted(p.name for p in path.parent.iterdir()))
        assert [p.name for p in lake.files("duplicates")] == ["b1.parquet"]
        assert sorted(tmp_path.glob("**/*.parquet")) == [path]
        assert path.read_bytes() == before
        assert set(lake.scan("duplicates").collect()["doc_id"]) == {"old-1", "old-2"}
        raise WriteFailed

    with pytest.raises(WriteFailed):
        lake.write_chunks(chunks(), "duplicates", "b1", "r2")
    [names] = seen_mid_write
    partial = [name for name in names if name != "b1.parquet"]
    assert len(partial) == 1  # the new rows went to a separate, hidden file
    assert partial[0].startswith(".")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["b1.parquet"]  # and it is gone


def test_enriched_is_partitioned_by_month_and_reads_back_whole(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    rows = []
    for i, month in enumerate([dt.date(2021, 12, 8), dt.date(2022, 1, 3), None]):
        row: dict[str, object] = {name: None for name in enriched_schema().names()}
        row.update(
            doc_id=f"d{i}",
            run_id="r",
            batch_id="b",
            body="text",
            published_date=month,
            published_month=month.strftime("%Y-%m") if month else None,
            source_files=["f"],
            layouts=["plain"],
            duplicate_count=1,
            removed_lines=[],
        )
        rows.append(row)
    paths = lake.write(pl.DataFrame(rows, schema=enriched_schema()), "enriched", "b", "r")
    assert sorted(p.parent.name for p in paths) == [
        "published_month=2021-12",
        "published_month=2022-01",
        "published_month=unknown",
    ]
    back = lake.scan("enriched").collect().sort("doc_id")
    assert back["published_month"].to_list() == ["2021-12", "2022-01", "unknown"]
    assert back.schema == enriched_schema()


def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    good = pl.DataFrame(
        [
            {
                "source_file": "f",
                "record_index": 1,
                "stage": "ingest",
                "rule": "r",
                "detail": "d",
                "doc_id": None,
                "run_id": "r",
                "batch_id": "b",
            }
        ]
    )
    [path] = lake.write(good, "quarantine", "q", "r")
    with pytest.raises(SchemaDriftError):
        lake.write(good.drop("rule"), "quarantine", "q", "r")
    assert pl.read_parquet(path)["rule"].to_list() == ["r"]
    assert rule_counts(lake.scan("quarantine").collect()) == {"r": 1}


def test_remove_except_drops_stale_files_and_empty_partitions(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    keep = lake.stage_dir("enriched") / "published_month=2021-12" / "a.parquet"
    stale = lake.stage_dir("enriched") / "published_month=1999-01" / "b.parquet"
    for path in (keep, stale):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
    assert lake.remove_except("enriched", [keep]) == 1
    assert keep.exists()
    assert not stale.parent.exists()


def test_schema_doc_is_generated_from_the_contract() -> None:
    from newsflow.schema import STAGE_SCHEMAS, descriptions
    from newsflow.schema_doc import DOC_PATH, render

    columns = {c for schema in STAGE_SCHEMAS.values() for c in schema.names()}
    assert columns == set(descriptions()), "every column needs a description, and no more"
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/SCHEMA.md is stale: run `python -m newsflow.schema_doc`"
    )


def test_parquet_is_written_in_slices_with_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newsflow.lake

    monkeypatch.setattr(newsflow.lake, "WRITE_ROWS", 3)
    frame = pl.DataFrame({"doc_id": [f"d{i}" for i in range(7)], "n": list(range(7))})
    for rows, groups in ((frame, 3), (frame.head(0), 0)):
        path = tmp_path / f"{rows.height}.parquet"
        newsflow.lake.write_parquet(rows, path, {"newsflow.run_id": "r1"})
        assert pl.read_parquet(path).equals(rows)
        meta = pq.read_metadata(path)
        assert (meta.num_row_groups, meta.metadata[b"newsflow.run_id"]) == (groups, b"r1")


def batch_lake(tmp_path: Path) -> Lake:
    """A lake with batch `done` committed and batch `left` written but not committed."""
    lake = Lake(tmp_path / "lake")
    quarantine = pl.DataFrame(schema=STAGE_SCHEMAS["quarantine"])
    for batch in ("done", "left"):
        lake.write(pl.DataFrame([ingested_row(doc_id=batch)]), "ingested", batch, "r1")
        lake.write(pl.DataFrame(schema=STAGE_SCHEMAS["cleaned"]), "cleaned", batch, "r1")
        lake.write(quarantine, "quarantine", f"clean-{batch}", "r1")
    lake.write(quarantine, "quarantine", "ingest-unbatched", "r1")
    manifest = {"content_hash": "h", "source_file": "a.json", "size_bytes": 1, "batch_id": "done"}
    manifest |= {"run_id": "r1", "status": "ingested", "records": 1}
    lake.add_to_manifest(pl.DataFrame([manifest], schema=STAGE_SCHEMAS["manifest"]), "r1")
    return lake


def test_batches_without_a_manifest_entry_are_uncommitted(tmp_path: Path) -> None:
    lake = batch_lake(tmp_path)
    assert lake.batches_written() == {"done", "left"}
    assert lake.uncommitted_batches() == {"left"}
    # Quarantine first, ingested/ last: it names the batch's documents until the end.
    names = [f"{p.parent.name}/{p.name}" for p in lake.batch_files(["left"])]
    assert names == [
        "quarantine/clean-left.parquet",
        "cleaned/left.parquet",
        "ingested/left.parquet",
    ]


def stamp_version(path: Path, version: str) -> None:
    """Rewrite a file's footer as if `version` of newsflow had written it."""
    table = pq.read_table(path)
    meta = {**table.schema.metadata, b"newsflow.schema_version": version.encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)


def test_a_lake_of_another_schema_version_is_refused_in_one_line(tmp_path: Path) -> None:
    lake = batch_lake(tmp_path)
    lake.check_schema_version()  # all current: no error
    stamp_version(lake.files("cleaned")[0], "3")
    with pytest.raises(LakeVersionError) as refused:
        lake.check_schema_version()
    message = str(refused.value)
    assert "\n" not in message
    assert "schema version 3 (in cleaned/ (3))" in message
    assert message.endswith("run again with --full-refresh to rebuild it from the input")
    lake.clear_outputs()
    lake.check_schema_version()


@pytest.mark.parametrize(
    ("stage", "version", "refused"),
    [
        ("cleaned", str(CONTRACT_SINCE["cleaned"]), False),  # same columns as today's
        ("cleaned", str(int(SCHEMA_VERSION) + 1), True),  # a newer newsflow's
        ("ingested", "", True),  # no version at all
        ("enriched", "3", False),  # the run re-enriches it from deduped/
    ],
)
def test_a_folder_is_refused_only_when_its_contract_differs(
    tmp_path: Path, stage: str, version: str, refused: bool
) -> None:
    lake = batch_lake(tmp_path)
    if stage == "enriched":
        path = lake.stage_dir("enriched") / "published_month=unknown" / "done.parquet"
        write_parquet(pl.DataFrame({"doc_id": ["done"]}), path, lake.file_metadata("r1"))
    stamp_version(lake.files(stage)[-1], version)
    if refused:
        with pytest.raises(LakeVersionError, match=f"in {stage}/"):
            lake.check_schema_version()
    else:
        lake.check_schema_version()
