"""The checks every run passes first (flows/validation.py): one line naming what is wrong,
parameters apart from the environment, and nothing read or written before them."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from flows.validation import (
    ALLOWED_ROOTS_ENV,
    allowed_roots,
    check_cron,
    check_dask_scheduler,
    check_lake,
    validate,
)
from newsflow.config import PipelineConfig
from newsflow.run_config import EnvironmentProblem, ParameterError


def config(tmp_path: Path, **fields: object) -> PipelineConfig:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    return PipelineConfig(**{"input_dir": raw, "lake_dir": tmp_path / "lake", **fields})


def refused(config: PipelineConfig, roots: list[Path] | None = None) -> str:
    with pytest.raises(ParameterError) as raised:
        validate(config, roots)
    line = str(raised.value)
    assert "\n" not in line
    return line


def test_a_good_config_passes(tmp_path: Path) -> None:
    validate(config(tmp_path, enrichers=["counts_v2"]), [tmp_path])


def test_the_input_folder_says_whether_it_is_missing_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    missing = refused(config(tmp_path, input_dir=tmp_path / "gone"))
    assert missing == f"input_dir: {tmp_path / 'gone'} does not exist"
    a_file = refused(config(tmp_path, input_dir=tmp_path / "a-file"))
    assert a_file == f"input_dir: {tmp_path / 'a-file'} is a file, not a folder"


def test_an_unknown_enricher_is_named(tmp_path: Path) -> None:
    line = refused(config(tmp_path, enrichers=["counts_v2", "bogus_v9"]))
    assert line.startswith("enrichers: unknown enrichers ['bogus_v9']")


@pytest.mark.parametrize("stop_after", ["clean", "dedupe"])
def test_re_enrich_contradicts_stopping_before_enrich(tmp_path: Path, stop_after: str) -> None:
    line = refused(config(tmp_path, re_enrich=True, stop_after=stop_after))
    assert line.startswith("re_enrich: ")
    assert f"stop_after {stop_after}" in line


def test_folders_outside_the_allowed_roots_are_refused_before_any_other_check(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    # Outside the roots, even a missing folder is not reported as missing.
    line = refused(config(tmp_path, input_dir=tmp_path / "private"), [allowed])
    assert line.startswith(f"input_dir: {tmp_path / 'private'} is outside the allowed roots")
    (allowed / "raw").mkdir()
    inside = config(tmp_path, input_dir=allowed / "raw", lake_dir=tmp_path / "lake")
    assert refused(inside, [allowed]).startswith("lake_dir: ")
    # A link inside the root that leads out of it does not get around the roots.
    (allowed / "link").symlink_to(tmp_path / "raw", target_is_directory=True)
    (tmp_path / "raw").mkdir(exist_ok=True)
    linked = config(tmp_path, input_dir=allowed / "link", lake_dir=allowed / "lake")
    assert refused(linked, [allowed]).startswith("input_dir: ")
    validate(config(tmp_path, input_dir=allowed / "raw", lake_dir=allowed / "lake"), [allowed])


def test_outside_a_flow_run_the_roots_come_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOWED_ROOTS_ENV, raising=False)
    assert allowed_roots() is None
    monkeypatch.setenv(ALLOWED_ROOTS_ENV, f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert allowed_roots() == [tmp_path / "a", tmp_path / "b"]


def test_a_lake_that_is_a_file_or_cannot_be_written_is_an_environment_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(EnvironmentProblem, match=r"^lake_dir: .* is a file, not a folder$"):
        check_lake(tmp_path / "a-file")
    with pytest.raises(EnvironmentProblem, match=r"cannot be written \(Not a directory\)$"):
        check_lake(tmp_path / "a-file" / "lake")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        probe = read_only / "probe"
        try:  # root writes anyway: then a folder of a read-only file system stands in
            probe.touch()
            probe.unlink()
            read_only = Path("/sys/kernel")
        except OSError:
            pass
        with pytest.raises(EnvironmentProblem, match=r"^lake_dir: .* cannot be written \("):
            check_lake(read_only)
    finally:
        (tmp_path / "read-only").chmod(0o755)
    check_lake(tmp_path / "new" / "lake")
    assert (tmp_path / "new" / "lake").is_dir()
    assert not list((tmp_path / "new" / "lake").iterdir())  # the probe is gone


def test_a_scheduler_that_does_not_answer_is_reported_within_seconds() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(
        EnvironmentProblem, match=f"no Dask scheduler answers at tcp://127.0.0.1:{port}"
    ):
        check_dask_scheduler(f"tcp://127.0.0.1:{port}", timeout_s=2)
    assert time.monotonic() - start < 5
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_dask_scheduler(f"127.0.0.1:{server.getsockname()[1]}")


@pytest.mark.parametrize("cron", ["every night", "61 2 * * *", "0 2 * *"])
def test_a_cron_that_does_not_parse_is_one_line(cron: str) -> None:
    with pytest.raises(ParameterError, match=r'^cron: ".*" is not a cron expression'):
        check_cron(cron)


def test_a_cron_that_parses_passes() -> None:
    check_cron("0 2 * * *")
    check_cron("*/15 * * * 1-5")
