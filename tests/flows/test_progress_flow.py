"""A run logs its long stages' progress (rows done / total, rate, ETA) to its log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler

import newsflow.progress
from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from tests.flows.test_quality_flow import STORIES, write_jsonl

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def flow_log() -> Iterator[list[str]]:
    handler = Collect()
    logger = logging.getLogger("prefect.flow_runs")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def test_a_run_logs_rows_rate_and_eta_of_clean_and_enrich(
    tmp_path: Path, flow_log: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run this small is over in seconds: every update is a line (the real floor is 10 s).
    monkeypatch.setattr(newsflow.progress, "MIN_INTERVAL_S", 0.0)
    monkeypatch.setattr(newsflow.progress, "DEFAULT_INTERVAL_S", 0.0)
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    rows = [
        {"title": f"Story {i}", "url": f"https://example-coast-news.org/{i}", "body": body}
        for i, body in enumerate(STORIES)
    ]
    for part, chunk in enumerate((rows[:2], rows[2:])):
        write_jsonl(raw / f"part{part}", chunk)
    # language_v2 goes through the documents chunk by chunk (map_chunks): its chunks count.
    config = PipelineConfig(
        input_dir=raw, lake_dir=lake, batch_size=1, enrichers=["counts_v2", "language_v2"]
    )
    state = newsflow_pipeline(config, return_state=True)

    clean = [m for m in flow_log if re.match(r"clean: \d+/3 rows \(\d+ %\), [\d.]+ rows/s", m)]
    assert clean, flow_log
    assert all("dedupe, enrich to follow" in m for m in clean)
    enrich = [m for m in flow_log if re.match(r"enrich: \d+/3 documents \(\d+ %\)", m)]
    assert enrich, flow_log
    # Enrich is the last stage: the run's ETA is the stage's.
    eta = r"ETA (?:[\dms ]+|unknown yet)"
    assert all(re.search(rf"{eta}; run: [\dms ]+ elapsed, {eta}$", m) for m in enrich)
    partly = [m for m in enrich if re.match(r"enrich: [12]/3", m)]
    assert partly, enrich
    assert all(re.search(r"ETA \d+ s; run: .* ETA \d+ s$", m) for m in partly)
    assert "enrich: 3 documents in" in "\n".join(flow_log)

    # The same lines reach the flow run's log in the Prefect UI (the API), heartbeat
    # thread or not.
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
                type=ArtifactFilterType(any_=["progress"]),
            )
        )
    shown = {log.message for log in logs}
    assert set(enrich) <= shown
    # And a progress bar per stage on the run's Artifacts tab, full when the stage ended.
    descriptions = [a.description or "" for a in artifacts]
    bars = {d.split(":")[0]: (a.data, d) for a, d in zip(artifacts, descriptions, strict=True)}
    assert set(bars) == {"ingest", "clean", "enrich"}
    assert bars["enrich"][0] == 100
    assert bars["enrich"][1].startswith("enrich: 3 documents in")
