"""Each default is written once (newsflow/config.py); prefect.yaml cannot import it, so
this holds its copies equal, and the code that can import it uses it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import local_server
from app.cli import _parser, main
from newsflow.config import DEFAULT_CRON, DEFAULT_PREFECT_PORT, PipelineConfig

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"
DEPLOYMENTS: list[dict[str, Any]] = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_prefect_yaml_configs_are_the_config_defaults(deployment: dict[str, Any]) -> None:
    written = deployment["parameters"]["config"]
    defaults = PipelineConfig().model_dump(mode="json")
    assert written, "a deployment shows the defaults in the UI's run form"
    assert {name: defaults[name] for name in written} == written


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_prefect_yaml_schedules_are_the_default_cron(deployment: dict[str, Any]) -> None:
    assert all(s["cron"] == DEFAULT_CRON for s in deployment.get("schedules", []))


def test_the_server_port_is_the_config_default_in_the_command_and_the_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _parser().parse_args(["server"]).port == DEFAULT_PREFECT_PORT
    assert inspect.signature(local_server.start).parameters["port"].default == DEFAULT_PREFECT_PORT
    with pytest.raises(SystemExit):
        main(["server", "--help"])
    assert f"(default {DEFAULT_PREFECT_PORT})" in capsys.readouterr().out
