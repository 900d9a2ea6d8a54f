"""`newsflow run` and `newsflow report` as a user calls them."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

import tasks.clean
from app.cli import main
from newsflow.lake import Lake

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]


def test_run_prints_a_summary_and_report_repeats_it(
    sample_raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake"
    assert main(["run", "--input", str(sample_raw), "--lake", str(lake), "--batch-size", "2"]) == 0
    summary = capsys.readouterr().out
    assert "completed" in summary
    assert (
        "records_in 9 -> ingested 9 -> cleaned 9 -> passed_quality 9 -> deduped 7 -> enriched 7"
        in summary
    )
    assert "3 comment_disclaimer_v1" in summary
    assert len(Lake(lake).files("ingested")) == 4  # 7 files, 2 per batch
    assert main(["report", "--lake", str(lake)]) == 0
    report = capsys.readouterr().out.splitlines()
    summary_lines = summary.strip().splitlines()
    assert report[1 : len(summary_lines)] == summary_lines[1:]
    # As of the run: the tables' versions and rows it committed, then its quality.
    tables = report[len(summary_lines)]
    assert tables.strip().startswith("tables:")
    assert "enriched v1 (7)" in tables
    assert "ingested v1 (9)" in tables
    quality = report[len(summary_lines) + 1 :]
    assert quality[0].startswith("quality of run ")
    assert any(line.strip().startswith("cleaned: 9 rows") for line in quality)
    # The report's path, then (since the report of issue 28) its failing rows' file.
    assert any(line.strip().endswith("report.html") for line in quality)


@pytest.mark.parametrize("frequency", [None, 60])
def test_run_sends_heartbeats_only_when_the_settings_ask(
    frequency: int | None, sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect's flow engine sends heartbeats when PREFECT_FLOWS_HEARTBEAT_FREQUENCY is
    set: during a run the setting is unset unless the user's settings asked for it."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    real_clean_frame = tasks.clean.clean_frame
    seen_in_run: list[int | None] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen_in_run.append(get_current_settings().flows.heartbeat_frequency)
        return real_clean_frame(*args, **kwargs)

    monkeypatch.setattr(tasks.clean, "clean_frame", watched)
    asked = (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: frequency})
        if frequency
        else nullcontext()
    )
    lake = tmp_path / "lake"
    with asked:
        default = get_current_settings().flows.heartbeat_frequency
        assert (
            main(["run", "--input", str(sample_raw), "--lake", str(lake), "--stop-after", "clean"])
            == 0
        )
    assert default is not None  # Prefect's default would send them
    assert set(seen_in_run) == {frequency}


def test_errors_are_one_line_and_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--input", str(tmp_path / "missing"), "--lake", str(tmp_path)]) == 2
    assert main(["report", "--lake", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all(line.startswith("newsflow: ") for line in err)


def test_run_refuses_contradictory_runner_options(
    sample_raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["run", "--input", str(sample_raw), "--lake", str(tmp_path / "lake")]
    assert main([*common, "--dask-address", "tcp://127.0.0.1:8786"]) == 2
    assert main([*common, "--runner", "dask", "--dask-address", "tcp://x:1", "--workers", "2"]) == 2
    assert main([*common, "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "newsflow: --dask-address needs --runner dask",
        "newsflow: --workers must be >= 1 and sizes only a local pool",
        "newsflow: --workers must be >= 1 and sizes only a local pool",
    ]
    assert not (tmp_path / "lake").exists()


@pytest.mark.parametrize(
    ("api_url", "reason"),
    [
        (None, "PREFECT_API_URL is not set"),
        ("http://127.0.0.1:9/api", "no Prefect server answers at http://127.0.0.1:9/api"),
    ],
)
def test_serve_needs_a_reachable_server(
    api_url: str | None, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    settings = (
        temporary_settings(updates={PREFECT_API_URL: api_url})
        if api_url
        else temporary_settings(restore_defaults={PREFECT_API_URL})
    )
    with settings:
        assert main(["serve"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"newsflow: cannot serve: {reason}")
    assert "prefect server start --host 127.0.0.1" in line
