"""`newsflow run` and `serve` refuse bad parameters with exit 2 and environment problems
with exit 1, each in one line naming what is wrong, before anything is written. These
runs never reach the flow, so no Prefect server is needed."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from newsflow import __version__
from tests.conftest import REPO, SAMPLE_RAW


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("newsflow: ")
    return err[0].removeprefix("newsflow: ")


def run(tmp_path: Path, *options: str, input_dir: Path = SAMPLE_RAW) -> int:
    return main(["run", "--input", str(input_dir), "--lake", str(tmp_path / "lake"), *options])


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (["--enrichers", "bogus_v9"], "enrichers: unknown enrichers ['bogus_v9']"),
        (["--batch-size", "0"], "batch_size: Input should be greater than or equal to 1 (got 0)"),
        (["--re-enrich", "--stop-after", "clean"], "re_enrich: enriching every batch again"),
    ],
)
def test_bad_parameters_exit_2_naming_the_parameter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], line: str
) -> None:
    assert run(tmp_path, *options) == 2
    assert one_line(capsys).startswith(line)
    assert not (tmp_path / "lake").exists()


def test_an_input_says_whether_it_is_missing_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    assert run(tmp_path, input_dir=tmp_path / "a-file") == 2
    assert one_line(capsys).endswith("a-file is a file, not a folder")
    assert run(tmp_path, input_dir=tmp_path / "gone") == 2
    assert one_line(capsys).endswith("gone does not exist")
    assert not (tmp_path / "lake").exists()


def test_a_config_file_value_is_checked_like_a_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("enrichers: [bogus_v9]\n")
    assert run(tmp_path, "--config", str(file)) == 2
    assert one_line(capsys).startswith("enrichers: unknown enrichers ['bogus_v9']")


def test_a_lake_that_is_a_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lake").write_text("x")
    assert run(tmp_path) == 1
    assert one_line(capsys) == f"lake_dir: {tmp_path / 'lake'} is a file, not a folder"


def test_a_scheduler_that_does_not_answer_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert run(tmp_path, "--runner", "dask", "--dask-address", f"tcp://127.0.0.1:{port}") == 1
    assert one_line(capsys).startswith("dask_address: no Dask scheduler answers at tcp://127.0")


def test_a_prefect_server_that_does_not_answer_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert run(tmp_path, "--stop-after", "clean") == 1
    assert one_line(capsys).startswith("no Prefect server answers at http://127.0.0.1:9/api")


def test_serve_refuses_a_cron_that_does_not_parse(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--cron", "every night", "--input", str(SAMPLE_RAW)]) == 2
    assert one_line(capsys).startswith('cron: "every night" is not a cron expression')


def test_version_prints_the_package_and_the_code_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    match = re.fullmatch(r"newsflow (\S+) \(code (\S+)\)\n", done.stdout)
    assert match, done.stdout
    assert match.group(1) == __version__
    assert match.group(2).removesuffix("-dirty") == (commit or __version__)


def test_serve_refuses_defaults_outside_its_allowed_roots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", "--input", str(SAMPLE_RAW), "--lake", str(tmp_path / "lake")]
    assert main([*args, "--allowed-root", str(tmp_path)]) == 2
    assert one_line(capsys).startswith(f"input_dir: {SAMPLE_RAW} is outside the allowed roots")
    assert "NEWSFLOW_ALLOWED_ROOTS" not in os.environ  # set only for the runs it serves


def test_migrate_refuses_a_lake_on_object_storage(capsys: pytest.CaptureFixture[str]) -> None:
    # The folder layout migrate converts predates lakes on object storage: refused before
    # any request (no server, no credentials needed).
    assert main(["migrate", "--lake", "s3://bucket/lake"]) == 2
    line = one_line(capsys)
    assert line.startswith("migrate refused: s3://bucket/lake is on object storage")
    assert "local lakes of the folder layout" in line
