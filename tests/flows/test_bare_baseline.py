"""`flows.bare.run_without_prefect`, the baseline Prefect's share is measured against
(`benchmarks/bare_run.py`), does the flow's whole work: same counts, same records, and
no Prefect run on the way."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import flows.pipeline as pipeline
from flows.bare import run_without_prefect
from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

REPO = Path(__file__).resolve().parents[2]
STAGES = ("ingested", "cleaned", "deduped", "duplicates", "enriched", "quarantine")


def rows(lake: Path, stage: str) -> pl.DataFrame:
    df = Lake(lake).scan(stage).collect().drop("run_id", strict=False)
    return df.select(sorted(df.columns)).sort(pl.all())


def test_the_bare_run_does_the_flows_work_without_a_prefect_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    with_prefect = newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=tmp_path / "a"))

    def no_prefect_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the bare run reached Prefect's engine")

    monkeypatch.setattr("prefect.task_engine.run_task_sync", no_prefect_run)
    monkeypatch.setattr("prefect.flow_engine.run_flow_sync", no_prefect_run)
    bare = run_without_prefect(PipelineConfig(input_dir=raw, lake_dir=tmp_path / "b"))

    assert bare["status"] == with_prefect["status"] == "completed"
    assert bare["counts"] == with_prefect["counts"]
    assert bare["counts"]["enriched"] > 0
    for stage in STAGES:
        assert rows(tmp_path / "b", stage).equals(rows(tmp_path / "a", stage)), stage
    # The flow module is left as it was found.
    assert type(pipeline.ingest).__name__ == "Task"
