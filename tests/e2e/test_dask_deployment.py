"""Deployments reach Dask: a served deployment run with `runner=dask` and the address of
an existing scheduler (a LocalCluster this test starts) sends its tasks there and writes
the same rows as a run on threads."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_RAW
from tests.e2e.fixtures import ServedDeployment, wait_for_flow_run
from tests.e2e.lake_rows import comparable_rows, differing_stages
from tests.e2e.test_dask import tasks_run_per_worker
from tests.prefect_server import PrefectServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scheduler_address(prefect_server: PrefectServer) -> Iterator[str]:
    """Two single-threaded worker processes whose task runs report to the test server."""
    from distributed import LocalCluster

    env = {"PREFECT_API_URL": prefect_server.api_url, "PREFECT_HOME": str(prefect_server.homes[1])}
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        env=env,
    ) as cluster:
        yield cluster.scheduler_address


def deployment_run(served: ServedDeployment, raw: Path, lake: Path, **runner: Any) -> str:
    config = {**served.deployment["parameters"]["config"], "input_dir": str(raw)}
    config.update(lake_dir=str(lake), batch_size=2)
    body = {"parameters": {"config": config, **runner}, "state": {"type": "SCHEDULED"}}
    run = served.server.call("POST", f"/deployments/{served.id}/create_flow_run", json=body)
    return wait_for_flow_run(served.server, run["id"], timeout_s=600)


def test_the_form_offers_the_runner(served_deployment: ServedDeployment) -> None:
    schema = served_deployment.deployment["parameter_openapi_schema"]["properties"]
    assert {"runner", "dask_address", "workers", "dask_dashboard_port"} <= set(schema)
    assert served_deployment.deployment["parameters"]["runner"] == "threads"


def test_a_deployment_run_on_dask_writes_the_rows_of_threads(
    served_deployment: ServedDeployment, scheduler_address: str, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    on_dask = deployment_run(
        served_deployment,
        raw,
        tmp_path / "lake-dask",
        runner="dask",
        dask_address=scheduler_address,
    )
    assert on_dask == "COMPLETED"
    # Every task went to the cluster: 4 ingest, line stats, 4 clean, dedupe, enrich at least.
    assert sum(tasks_run_per_worker(scheduler_address)) >= 11
    on_threads = deployment_run(served_deployment, raw, tmp_path / "lake-threads")
    assert on_threads == "COMPLETED"
    assert comparable_rows(tmp_path / "lake-dask", "enriched").height == 7
    assert differing_stages(tmp_path / "lake-dask", tmp_path / "lake-threads") == {}
