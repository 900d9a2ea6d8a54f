"""`flows.bare.run_without_prefect`, the baseline Prefect's share is measured against
(`flows/bare.py`), does the flow's whole work: same counts, same records, and
no Prefect run on the way."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect.context import FlowRunContext, TaskRunContext

import flows.pipeline as pipeline
import tasks.clean
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


@pytest.mark.slow
def test_the_bare_run_does_the_flows_work_without_a_prefect_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    # Whether stage code runs inside a Prefect flow or task run, by Prefect's public
    # run contexts, seen from the stage code itself.
    real_clean_frame = tasks.clean.clean_frame
    in_prefect_run: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        in_prefect_run.append(bool(FlowRunContext.get() or TaskRunContext.get()))
        return real_clean_frame(*args, **kwargs)

    monkeypatch.setattr(tasks.clean, "clean_frame", watched)
    with_prefect = newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=tmp_path / "a"))
    assert set(in_prefect_run) == {True}  # the watch sees a Prefect run …
    in_prefect_run.clear()
    bare = run_without_prefect(PipelineConfig(input_dir=raw, lake_dir=tmp_path / "b"))
    assert set(in_prefect_run) == {False}  # … and the bare run has none

    assert bare["status"] == with_prefect["status"] == "completed"
    assert bare["counts"] == with_prefect["counts"]
    assert bare["counts"]["enriched"] > 0
    for stage in STAGES:
        assert rows(tmp_path / "b", stage).equals(rows(tmp_path / "a", stage)), stage
    # The flow module is left as it was found.
    assert type(vars(pipeline)["ingest"]).__name__ == "Task"
