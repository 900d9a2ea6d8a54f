"""prefect.yaml: its deployment loads, its parameters validate against the flow, and
`prefect deploy` registers it on a real server with its work pool and schedule."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml
from prefect import Flow
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ParameterTypeError
from prefect.flows import load_flow_from_entrypoint

from newsflow.config import DEFAULT_CRON, PipelineConfig
from tests.e2e.processes import BIN, REPO
from tests.prefect_server import PrefectServer

POOL = "newsflow-process"


def deployments() -> dict[str, dict[str, Any]]:
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    return {d["name"]: d for d in spec["deployments"]}


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return deployments()["newsflow-nightly"]


def test_the_dask_deployment_passes_its_runner_as_flow_parameters() -> None:
    dask = deployments()["newsflow-dask"]
    flow: Flow[Any, Any] = load_flow_from_entrypoint(dask["entrypoint"])
    validated = flow.validate_parameters(dask["parameters"])
    assert validated["runner"] == "dask"
    assert validated["dask_address"].startswith("tcp://")
    with pytest.raises(ParameterTypeError, match="runner"):
        flow.validate_parameters({**dask["parameters"], "runner": "spark"})


def test_the_entrypoint_is_the_pipeline_and_its_parameters_validate(
    deployment: dict[str, Any],
) -> None:
    flow: Flow[Any, Any] = load_flow_from_entrypoint(deployment["entrypoint"])
    assert flow.name == "newsflow"
    parameters = deployment["parameters"]
    assert set(parameters["config"]) <= set(PipelineConfig.model_fields)  # no typos
    validated = flow.validate_parameters(parameters)
    assert validated["config"].batch_size == parameters["config"]["batch_size"]
    with pytest.raises(ParameterTypeError, match="batch_size"):
        flow.validate_parameters({"config": {**parameters["config"], "batch_size": 0}})


def test_a_process_pool_and_a_nightly_cron(deployment: dict[str, Any]) -> None:
    assert deployment["work_pool"]["name"] == POOL
    [schedule] = deployment["schedules"]
    assert CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"]).cron == DEFAULT_CRON


def _prefect(server: PrefectServer, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "prefect"), *args],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_prefect_deploy_registers_it(prefect_server: PrefectServer) -> None:
    _prefect(prefect_server, "work-pool", "create", POOL, "--type", "process")
    _prefect(prefect_server, "--no-prompt", "deploy", "--all")
    registered = prefect_server.call("GET", "/deployments/name/newsflow/newsflow-nightly")
    assert registered["work_pool_name"] == POOL
    assert registered["entrypoint"] == "flows/pipeline.py:newsflow_pipeline"
    assert [s["schedule"]["cron"] for s in registered["schedules"]] == [DEFAULT_CRON]
    assert registered["parameters"]["config"]["lake_dir"] == str(PipelineConfig().lake_dir)
    # A process worker started in any directory runs the flow from the repository.
    [pull] = registered["pull_steps"]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == str(REPO)
