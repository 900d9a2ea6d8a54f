"""The dedupe stage on a lake (tasks/dedupe_stage.py, its phases run in-process):
partitions of any size change no output, a later run continues from the index, and a
run with few new documents touches only their partitions."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import tasks.dedupe_index
import tasks.dedupe_lake
import tasks.dedupe_phases
import tasks.dedupe_rules
from newsflow.lake import SCRATCH_DIR, Lake, Scratch
from tasks.dedupe_index import (
    BANDS,
    CLUSTERS,
    DOCS,
    KEYS,
    PARTITIONED,
    SINGLE_FILE_REASON,
    IndexIO,
    id_partition,
)
from tasks.dedupe_stage import run_dedupe
from tests.articles import FERRY, FERRY_OTHER_WRITER, MARKET, SCATTERED_COPIES, body, cleaned
from tests.dedupe_on_lake import DedupeLake, dedupe_frame, recorded_packing

ROWS: list[dict[str, object]] = [
    *SCATTERED_COPIES,
    {"doc_id": "z", "body": body(MARKET[2:]) + "\n\nA paragraph of its own.", "batch_id": "b3"},
]


def outputs(root: Path) -> dict[str, pl.DataFrame]:
    """The output files, and the index as one frame (its partitions depend on the
    partition count)."""
    files = {
        f"{stage}/{p.name}": pl.read_parquet(p)
        for stage in ("deduped", "duplicates")
        for p in sorted(Lake(root).stage_dir(stage).glob("*.parquet"))
    }
    return {**files, "dedupe_index": Lake(root).scan("dedupe_index").collect().sort("doc_id")}


def test_partitions_of_one_give_the_files_of_one_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = cleaned(*ROWS)
    DedupeLake(tmp_path / "one").add(rows)
    DedupeLake(tmp_path / "many").add(rows)
    run_dedupe(str(tmp_path / "one"), "r1", submit=False)
    assert len(Lake(tmp_path / "one").files("dedupe_index")) == 1
    monkeypatch.setattr(tasks.dedupe_index, "INDEX_DOCS", 1)  # a partition per document
    monkeypatch.setattr(tasks.dedupe_phases, "BUCKET_DOCS", 1)
    monkeypatch.setattr(tasks.dedupe_phases, "VERIFY_PAIRS", 2)  # cuts a 3-pair bucket
    monkeypatch.setattr(tasks.dedupe_rules, "JUDGED_SHINGLES", 1)
    placed = recorded_packing(monkeypatch)
    monkeypatch.setattr(tasks.dedupe_rules, "MERGE_CHUNK", 1)
    monkeypatch.setattr(tasks.dedupe_lake, "OUTPUT_BATCHES", 1)
    monkeypatch.setattr(tasks.dedupe_phases, "ROUTE_BATCHES", 1)
    result = run_dedupe(str(tmp_path / "many"), "r1", submit=False)
    assert result["clusters_rewritten"] >= 2  # one merge partition each
    assert any(bucket["part"].n_unique() > 1 for bucket in placed)  # a bucket was cut
    assert len(Lake(tmp_path / "many").files("dedupe_index")) > 3
    one, many = outputs(tmp_path / "one"), outputs(tmp_path / "many")
    assert one.keys() == many.keys()
    assert {"deduped/b0.parquet", "duplicates/b1.parquet"} <= one.keys()
    assert sum(f.height for n, f in one.items() if n.startswith("duplicates/")) >= 3
    for name, frame in one.items():
        assert many[name].equals(frame), name


def test_a_later_run_shingles_indexed_documents_from_cleaned(tmp_path: Path) -> None:
    rows = cleaned(*ROWS)
    lake = DedupeLake(tmp_path / "lake")
    lake.add(rows.filter(pl.col("batch_id") != "b3"))
    lake.run("r1")
    lake.add(rows.filter(pl.col("batch_id") == "b3"))
    result = lake.run("r1")
    assert result["new"] == 1
    assert result["rebuilt"] is None
    # z is a copy of x, indexed by the first run: verifying the pair needed x's shingles.
    records, duplicates = dedupe_frame(rows, "r1")
    assert lake.stage("deduped").equals(records)
    assert lake.stage("duplicates").equals(duplicates)
    assert "z" in duplicates["doc_id"]


def test_the_scratch_area_is_gone_after_a_run_and_a_killed_runs_is_cleared(
    tmp_path: Path,
) -> None:
    lake = DedupeLake(tmp_path)
    lake.add(cleaned(*ROWS))
    left = Lake(tmp_path).scratch("dedupe/killed-run")
    left.write(pl.DataFrame({"doc_id": ["a"]}), "new", "b0")
    lake.run("r1")
    assert not (tmp_path / SCRATCH_DIR).exists()


def test_scratch_reads_a_partition_as_every_file_in_it(tmp_path: Path) -> None:
    scratch = Lake(tmp_path).scratch("area")
    schema = pl.Schema({"v": pl.String(), "n": pl.Int64()})
    scratch.write(pl.DataFrame({"v": ["c"], "n": [3]}), "parts", "2", "b")
    scratch.write(pl.DataFrame({"v": ["a", "b"], "n": [1, 2]}), "parts", "2", "a")
    scratch.write(pl.DataFrame({"v": ["x"], "n": [9]}), "parts", "10", "a")
    assert scratch.folders("parts") == ["10", "2"]
    assert scratch.read(schema, "parts", "2")["v"].to_list() == ["a", "b", "c"]
    assert scratch.read(schema, "parts", "2", "b")["v"].to_list() == ["c"]
    missing = scratch.read(schema, "parts", "3")
    assert missing.is_empty()
    assert missing.schema == schema


def run_counting(lake: DedupeLake, run_id: str) -> dict[tuple[str, str], int]:
    Scratch.io.clear()
    IndexIO.clear()
    lake.run(run_id)
    return {**Scratch.io, **IndexIO.counts}


def test_a_run_with_one_new_document_touches_only_its_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = 64
    monkeypatch.setattr(tasks.dedupe_phases, "partition_count", lambda _rows: parts)
    # A routing task per batch, so that files written count batches.
    monkeypatch.setattr(tasks.dedupe_phases, "ROUTE_BATCHES", 1)
    other = {"doc_id": "w", "body": body(FERRY_OTHER_WRITER), "batch_id": "b5"}
    rows = cleaned(*ROWS, other)
    lake = DedupeLake(tmp_path)
    lake.add(rows)
    full = run_counting(lake, "r1")
    # A new edited copy of the ferry story, in a batch of its own.
    copy = cleaned({"doc_id": "n", "body": body(FERRY[2:11]), "batch_id": "b9"})
    lake.add(copy)
    nightly = run_counting(lake, "r2")
    written = {(table, part) for op, table, part in IndexIO.parts if op == "write"}
    index = lake.stage("dedupe_index")
    new = index.filter(pl.col("doc_id") == "n").row(0, named=True)
    cluster = index.filter(pl.col("kept_doc_id") == new["kept_doc_id"])
    assert cluster.height >= 2
    assert "n" in lake.stage("duplicates")["doc_id"]
    # Index partitions written: the new document's band keys, its two keys, the
    # documents of the cluster it joined and that cluster's members.
    expected = (
        {(BANDS, key % parts) for key in new["band_keys"]}
        | {(KEYS, new[key] % parts) for key in ("exact_key", "sentence_key")}
        | {
            (DOCS, part)
            for part in cluster.select(id_partition(pl.col("doc_id"), parts)).to_series()
        }
        | {
            (CLUSTERS, part)
            for part in cluster.select(id_partition(pl.col("kept_doc_id"), parts)).to_series()
        }
    )
    # The cluster's old kept copy's partition too, when the kept copy changed.
    assert expected <= written
    assert len(written - expected) <= 1
    assert len(written) < len(PARTITIONED) * parts / 2
    # Partitions read: the same ones (and the old kept copy's cluster partition).
    read = {(table, part) for op, table, part in IndexIO.parts if op == "read"}
    assert len(read - expected) <= 1
    assert full[("write", DOCS)] > len({p for t, p in written if t == DOCS})
    # One batch fingerprinted; rows routed to merge only from the batches of the cluster.
    assert nightly[("write", "fingerprints")] == 1
    assert full[("write", "fingerprints")] == rows["batch_id"].n_unique()
    assert nightly[("write", "merge_in")] == cluster["batch_id"].n_unique()
    assert nightly[("write", "merge_in")] < full[("write", "merge_in")]


def test_batches_routed_in_groups_write_fewer_files_and_the_same_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = cleaned(*ROWS)
    assert rows["batch_id"].n_unique() >= 3
    written = {}
    for name, group in (("per-batch", 1), ("grouped", 3)):
        monkeypatch.setattr(tasks.dedupe_phases, "ROUTE_BATCHES", group)
        lake = DedupeLake(tmp_path / name)
        lake.add(rows)
        written[name] = run_counting(lake, "r1")
    for folder in ("heavy", "bands_in", "keys_in", "verify_in", "merge_in"):
        files = written["grouped"][("write", folder)]
        assert 0 < files < written["per-batch"][("write", folder)], folder
    per_batch, grouped = outputs(tmp_path / "per-batch"), outputs(tmp_path / "grouped")
    assert per_batch.keys() == grouped.keys()
    for name, frame in per_batch.items():
        assert grouped[name].equals(frame), name


def test_an_index_in_one_file_is_rebuilt_partitioned(tmp_path: Path) -> None:
    lake = DedupeLake(tmp_path)
    lake.add(cleaned(*ROWS))
    lake.run("r1")
    before = lake.stage("dedupe_index")
    store = Lake(tmp_path)
    for table in PARTITIONED:
        shutil.rmtree(store.stage_dir(table), ignore_errors=True)
    # As an older dedupe wrote it: one file, without the short-body columns.
    store.stage_dir(DOCS).mkdir(parents=True)
    before.drop("title_key", "short_body").write_parquet(
        store.stage_dir(DOCS) / "documents.parquet"
    )
    result = lake.run("r2")
    assert result["rebuilt"] == SINGLE_FILE_REASON
    assert [p.stem for p in store.files(DOCS)] == ["00000"]
    assert lake.stage("dedupe_index").drop("run_id").equals(before.drop("run_id"))
    again = lake.run("r3")
    assert again["rebuilt"] is None
    assert again["new"] == 0


def test_a_run_killed_before_its_batch_list_is_taken_in_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.dedupe_index, "INDEX_DOCS", 2)
    rows = cleaned(*ROWS)
    first, later = rows.filter(pl.col("batch_id") != "b3"), rows.filter(pl.col("batch_id") == "b3")
    once = DedupeLake(tmp_path / "once")
    once.add(first)
    once.run("r1")
    once.add(later)
    once.run("r2")
    killed = DedupeLake(tmp_path / "killed")
    killed.add(first)
    killed.run("r1")
    killed.add(later)

    def die(*_args: object) -> None:
        raise RuntimeError("killed after the index partitions, before the batch list")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.dedupe_phases, "write_batch_list", die)
        with pytest.raises(RuntimeError):
            killed.run("r2")
    assert "z" in killed.stage("dedupe_index")["doc_id"]  # partitions written, not listed
    # Its outputs hold the new document and its index does not: the index is rebuilt,
    # as after a kill before any partition was written.
    result = killed.run("r2")
    assert result["rebuilt"] == "index has 6 documents, deduped + duplicates 7"
    # (A rebuild links z to x as x's near duplicate, two runs x to z: the same clusters.)
    # (A rebuild chose its partition count from 7 documents, the first run from 6.)
    for table in ("deduped", "duplicates", "dedupe_clusters", "dedupe_batches"):
        got, want = killed.stage_rows(table), once.stage_rows(table)
        ignored = ["run_id", "partitions"]
        assert got.drop(ignored, strict=False).equals(want.drop(ignored, strict=False)), table
    kept = [killed.stage(DOCS).select("doc_id", "kept_doc_id"), once.stage(DOCS)]
    assert kept[0].equals(kept[1].select("doc_id", "kept_doc_id"))
