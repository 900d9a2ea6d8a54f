"""The gate validates groups of batches in one GX call on narrow columns: the same
findings as one call per batch, and what GX is handed holds no article bodies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import expectations.gate
from expectations.gate import (
    gate_groups,
    merge_validations,
    quality_check,
    report_parts,
    stage_checked_frames,
)
from expectations.validate import checked_frames, validate_checked, validate_stage
from newsflow.lake import Lake
from newsflow.quality_config import QualityConfig
from tests.expectations.stage_fixtures import RUN_DATE, cleaned, ingested


def test_gate_groups_keep_order_and_respect_the_row_limit() -> None:
    rows = {"a": 6, "b": 5, "c": 9, "d": 30, "e": 1, "f": 0}
    groups = gate_groups(rows, limit=12)
    assert groups == [["a", "b"], ["c"], ["d"], ["e", "f"]]
    assert [b for g in groups for b in g] == list(rows)
    assert gate_groups({}, limit=12) == []


def test_one_call_over_batches_finds_what_one_call_per_batch_finds() -> None:
    config = QualityConfig()
    first = cleaned(ingested({"doc_id": "json-1", "body": "Too short."}))
    second = cleaned(
        ingested(
            {"doc_id": "headed-1", "url": "javascript:alert(1)"},
            {"doc_id": "dated-1", "date_raw": "2099-01-01"},
        )
    ).with_columns(doc_id=pl.col("doc_id") + "-b")
    per_batch = merge_validations(
        "cleaned", [validate_stage("cleaned", f, config, RUN_DATE) for f in (first, second)]
    )
    cut = [checked_frames("cleaned", f, config, RUN_DATE) for f in (first, second)]
    together = validate_checked(
        "cleaned", cut[0][0], pl.concat([rows for _, rows in cut]), config, RUN_DATE
    )
    assert per_batch is not None
    assert together.rows == per_batch.rows == 8
    assert together.failing == per_batch.failing
    assert together.failing["body_min_words"] == ["json-1"]
    assert together.failing["url_not_script"] == ["headed-1-b"]
    assert together.quarantine.sort("doc_id").equals(per_batch.quarantine.sort("doc_id"))
    for mine, theirs in zip(together.summary, per_batch.summary, strict=True):
        keys: tuple[str, ...] = ("expectation", "success", "unexpected_count", "quarantined")
        # Dataset rules count columns, which merging per-batch results adds up.
        keys += ("element_count",) if mine["level"] == "row" else ()
        assert {k: mine[k] for k in keys} == {k: theirs[k] for k in keys}


def test_row_checks_get_narrow_columns_without_bodies() -> None:
    frame = cleaned(ingested())
    schema, rows = checked_frames("cleaned", frame, QualityConfig(), RUN_DATE)
    assert schema.height == 0
    assert set(frame.columns) < set(schema.columns)
    assert "body" not in rows.columns
    assert "removed_lines" not in rows.columns
    assert rows["qc_body"].dtype == pl.Int64
    longest = frame["body"].str.strip_chars().str.len_chars().max()
    assert rows["qc_body"].max() == longest


def test_report_check_in_parts_counts_every_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = ingested({"doc_id": "json-1", "body": "Too short."}, {"doc_id": "plain-1", "title": ""})
    lake = Lake(tmp_path)
    lake.write(rows.head(2), "ingested", "one", "r")
    lake.write(rows.tail(2), "ingested", "two", "r")
    whole = quality_check.fn("ingested", ["one", "two"], str(tmp_path), RUN_DATE, QualityConfig())
    monkeypatch.setattr(expectations.gate, "REPORT_ROWS", 1)
    monkeypatch.setattr(expectations.gate, "CUT_ROWS", 1)  # parts are made of whole cuts
    parts = quality_check.fn("ingested", ["one", "two"], str(tmp_path), RUN_DATE, QualityConfig())
    assert parts.gx_result["meta"]["batches"] == 2  # two parts were validated and merged
    assert whole.rows == parts.rows == 4
    assert whole.failing == parts.failing
    assert set(whole.failing) >= {"body_min_words", "title_present"}
    row_rules = [
        (r["expectation"], r["unexpected_count"]) for r in whole.summary if r["level"] == "row"
    ]
    assert row_rules == [
        (r["expectation"], r["unexpected_count"]) for r in parts.summary if r["level"] == "row"
    ]


@pytest.mark.parametrize("cut_rows", [1, 3, 10_000])
def test_report_cuts_rows_of_many_files_at_once_and_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut_rows: int
) -> None:
    rows = ingested({"doc_id": "json-1", "body": "Too short."}, {"doc_id": "plain-1", "title": ""})
    lake = Lake(tmp_path)
    for i, name in enumerate(("one", "two", "three")):
        lake.write(rows.with_columns(doc_id=pl.col("doc_id") + f"-{i}"), "ingested", name, "r")
    cuts: list[int] = []

    def counted(
        stage: str, frame: pl.DataFrame, config: QualityConfig, run_date: dt.date
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        cuts.append(frame.height)
        return checked_frames(stage, frame, config, run_date)

    monkeypatch.setattr(expectations.gate, "CUT_ROWS", cut_rows)
    monkeypatch.setattr(expectations.gate, "checked_frames", counted)
    parts = list(
        stage_checked_frames(lake, "ingested", ["one", "three"], QualityConfig(), RUN_DATE)
    )
    per_file = [rows.height] * 2
    # The first call cuts the empty contract frame; then one cut per CUT_ROWS read rows.
    assert cuts[1:] == (per_file if cut_rows <= rows.height else [sum(per_file)])
    checked = pl.concat([part for _, part in parts])
    assert sorted(checked["doc_id"]) == sorted(
        f"{d}-{i}" for i in (0, 2) for d in rows["doc_id"].to_list()
    )


def test_report_parts_hold_about_report_rows_each_in_name_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(expectations.gate, "REPORT_ROWS", 100)
    rows = {"a": 60, "b": 50, "c": 40, "d": 250, "e": 10}
    names = ["a", "b", "c", "unknown", "d", "e"]
    assert report_parts(names, rows) == [["a"], ["b", "c", "unknown"], ["d"], ["e"]]
    assert report_parts([], rows) == []
