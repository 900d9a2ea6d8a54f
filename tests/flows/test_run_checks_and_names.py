"""The flow itself refuses bad parameters (a deployment run has no CLI in front of it)
before reading or writing anything, and a run is findable in the Prefect UI: named by
its lake and run id, batch tasks by short labels, artifacts per lake, a summary in its log."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)

from flows.pipeline import newsflow_pipeline
from flows.validation import ALLOWED_ROOTS_ENV
from newsflow.config import PipelineConfig, lake_slug
from newsflow.summary import format_run

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

CHEAP = ["counts_v2", "source_v2"]  # enrichers that need no model


def failed_line(config: PipelineConfig) -> str:
    state = newsflow_pipeline(config, return_state=True)
    assert state.is_failed()
    return str(state.message)


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"input_dir": "gone"}, "input_dir: {tmp}/gone does not exist"),
        ({"input_dir": "a-file"}, "input_dir: {tmp}/a-file is a file, not a folder"),
        ({"enrichers": ["bogus_v9"]}, "enrichers: unknown enrichers ['bogus_v9']"),
        ({"re_enrich": True, "stop_after": "clean"}, "re_enrich: enriching every batch again"),
    ],
)
def test_a_run_with_bad_parameters_fails_with_the_cli_s_line_and_writes_nothing(
    sample_raw: Path, tmp_path: Path, fields: dict[str, Any], line: str
) -> None:
    (tmp_path / "a-file").write_text("x")
    if "input_dir" in fields:
        fields["input_dir"] = tmp_path / fields["input_dir"]
    config = PipelineConfig(**{"input_dir": sample_raw, "lake_dir": tmp_path / "lake", **fields})
    assert line.format(tmp=tmp_path) in failed_line(config)
    assert not (tmp_path / "lake").exists()


def test_a_run_outside_the_allowed_roots_fails_before_reading_anything(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    monkeypatch.setenv(ALLOWED_ROOTS_ENV, str(allowed))
    # The input exists and is readable: the roots alone refuse it.
    config = PipelineConfig(input_dir=sample_raw, lake_dir=allowed / "lake")
    assert f"input_dir: {sample_raw} is outside the allowed roots ({allowed})" in failed_line(
        config
    )
    assert not (allowed / "lake").exists()
    config = PipelineConfig(input_dir=sample_raw, lake_dir=tmp_path / "lake")
    monkeypatch.setenv(ALLOWED_ROOTS_ENV, str(sample_raw))
    assert "lake_dir: " in failed_line(config)
    assert not (tmp_path / "lake").exists()


def test_a_lake_that_is_a_file_fails_the_run_in_one_line(sample_raw: Path, tmp_path: Path) -> None:
    (tmp_path / "lake").write_text("x")
    config = PipelineConfig(input_dir=sample_raw, lake_dir=tmp_path / "lake")
    assert f"lake_dir: {tmp_path / 'lake'} is a file, not a folder" in failed_line(config)


def logged_summary(flow_run_id: Any) -> list[str]:
    """The flow run's "Summary of the run" log lines, once the log worker sent them."""
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    deadline = time.monotonic() + 30
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
        found = [log.message for log in logs if log.message.startswith("Summary of the run:")]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.fixture(scope="module")
def named_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], PipelineConfig]:
    import shutil

    from tests.conftest import SAMPLE_RAW

    root = tmp_path_factory.mktemp("named")
    shutil.copytree(SAMPLE_RAW, root / "raw")
    config = PipelineConfig(
        input_dir=root / "raw", lake_dir=root / "lake", batch_size=3, enrichers=CHEAP
    )
    return newsflow_pipeline(config), config


def test_the_flow_run_is_named_by_its_lake_and_run_id(
    named_run: tuple[dict[str, Any], PipelineConfig],
) -> None:
    run, config = named_run
    with get_client(sync_client=True) as client:
        [flow_run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name={"any_": [f"{lake_slug(config.lake_dir)} {run['run_id']}"]}
            )
        )
        task_names = [
            t.name
            for t in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
            )
        ]
    assert (Path(config.lake_dir) / "runs" / f"{run['run_id']}.json").exists()
    batch_tasks = [n for n in task_names if n.startswith(("ingest-", "clean-", "enrich-"))]
    assert len(batch_tasks) == 3 * 3  # 7 files in batches of 3: ingest, clean, enrich each
    assert not [n for n in task_names if re.search(r"[0-9a-f]{32}", n)]
    assert all(re.fullmatch(r"(ingest|clean|enrich)-.+-[0-9a-f]{6}", n) for n in batch_tasks)


def test_artifacts_are_per_lake_in_stage_order_and_the_summary_is_logged(
    named_run: tuple[dict[str, Any], PipelineConfig],
) -> None:
    run, config = named_run
    slug = lake_slug(config.lake_dir)
    with get_client(sync_client=True) as client:
        [counts] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"newsflow-run-counts-{slug}"])
            ),
            limit=1,
        )
        [quality] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"newsflow-quality-{slug}"])
            ),
            limit=1,
        )
    summary = logged_summary(counts.flow_run_id)
    assert isinstance(counts.data, list | str), counts.data  # a table artifact's rows
    rows = counts.data if isinstance(counts.data, list) else json.loads(counts.data)
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    order = ["plan", "ingest", "clean", "quality_gate", "dedupe", "enrich", "quality_report"]
    assert [s for s in stages if s in order] == [s for s in order if s in stages]
    assert {"ingest", "dedupe", "enrich"} <= set(stages)
    assert next(r for r in rows if r["stage"] == "dedupe")["seconds"] is not None
    assert run["run_id"] in str(counts.description)
    assert "report.html" in str(quality.description)
    assert len(summary) == 1
    assert f"run {run['run_id']}  completed" in summary[0]


def test_a_wait_for_the_lake_is_shown_apart_from_the_run_s_time(
    sample_raw: Path, tmp_path: Path
) -> None:
    import logging
    import threading

    from newsflow.lock import lake_lock

    lake = tmp_path / "lake"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer (flock conflicts across open files, threads too)
        with lake_lock(lake, "other-run", 0):
            held.set()
            release.wait(30)

    class ReleaseWhenWaiting(logging.Handler):
        """Let the other writer finish 2 s after the run says it waits for the lake."""

        def emit(self, record: logging.LogRecord) -> None:
            if "is being written by" in record.getMessage():
                threading.Timer(2.0, release.set).start()

    watcher = ReleaseWhenWaiting()
    logging.getLogger("prefect.flow_runs").addHandler(watcher)
    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        config = PipelineConfig(
            input_dir=sample_raw, lake_dir=lake, stop_after="clean", lock_wait_seconds=60
        )
        run = newsflow_pipeline(config)
    finally:
        logging.getLogger("prefect.flow_runs").removeHandler(watcher)
        release.set()
        holder.join()
    waited, total = run["timings"]["lock_wait_s"], run["timings"]["total_s"]
    assert waited >= 1.5
    assert f"waited {waited:.1f} s for the lake first" in format_run(run).splitlines()[0]
    assert total < waited + 120  # the run's own time, measured from the lock
