"""Each default is written once (newsflow/config.py); prefect.yaml cannot import it, so
this holds its copies equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from newsflow.config import DEFAULT_CRON, PipelineConfig

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
