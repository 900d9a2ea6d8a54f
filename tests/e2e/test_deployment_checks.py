"""A deployment run is checked where the flow starts: bad parameters, or folders outside
the deployment's allowed roots, fail the run with the CLI's one line before anything
is read or written."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_RAW
from tests.e2e.fixtures import ServedDeployment, wait_for_flow_run


def start_run(served: ServedDeployment, **fields: Any) -> str:
    config = {**served.deployment["parameters"]["config"], **fields}
    body = {"parameters": {"config": config}, "state": {"type": "SCHEDULED"}}
    flow_run = served.server.call("POST", f"/deployments/{served.id}/create_flow_run", json=body)
    return str(flow_run["id"])


@pytest.fixture(scope="module")
def outside() -> Path:
    """A folder outside the served deployment's allowed roots (pytest's base temp): the
    repository's own tests folder stands for a private folder the worker can read."""
    return Path(__file__).resolve().parent


def test_a_run_outside_the_allowed_roots_fails_before_reading_anything(
    served_deployment: ServedDeployment, tmp_path: Path, outside: Path
) -> None:
    lake = tmp_path / "lake"
    flow_run_id = start_run(served_deployment, input_dir=str(outside), lake_dir=str(lake))
    state = wait_for_flow_run(served_deployment.server, flow_run_id)
    assert state.startswith("FAILED")
    assert f"input_dir: {outside} is outside the allowed roots" in state
    assert not lake.exists()


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"enrichers": ["bogus_v9"]}, "enrichers: unknown enrichers ['bogus_v9']"),
        ({"re_enrich": True, "stop_after": "clean"}, "re_enrich: enriching every batch again"),
        ({"input_dir": "{tmp}/gone"}, "input_dir: {tmp}/gone does not exist"),
    ],
)
def test_a_run_with_bad_parameters_fails_with_the_cli_s_line(
    served_deployment: ServedDeployment, tmp_path: Path, fields: dict[str, Any], line: str
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    shutil.copytree(SAMPLE_RAW, raw)
    fields = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in fields.items()}
    flow_run_id = start_run(
        served_deployment, **{"input_dir": str(raw), "lake_dir": str(lake), **fields}
    )
    state = wait_for_flow_run(served_deployment.server, flow_run_id)
    assert state.startswith("FAILED")
    assert line.format(tmp=tmp_path) in state
    assert not lake.exists()
