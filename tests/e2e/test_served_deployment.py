"""`newsflow serve` against a real Prefect server; a run started through the REST API the
way the UI starts one, with custom parameters, completes and fills the lake."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from newsflow.config import lake_slug
from newsflow.lake import Lake
from tests.conftest import SAMPLE_RAW, SEED_DATED, SEED_HEADED
from tests.e2e.fixtures import CRON, ServedDeployment, wait_for_flow_run


def test_serve_registers_the_scheduled_deployment(served_deployment: ServedDeployment) -> None:
    deployment = served_deployment.deployment
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [CRON]
    assert all(s["active"] for s in deployment["schedules"])
    config = deployment["parameters"]["config"]
    assert config["input_dir"] == str(served_deployment.default_input)
    assert config["lake_dir"] == str(served_deployment.default_lake)
    assert config["batch_size"] == 2
    # The UI's form is generated from this schema: the config is a typed object.
    assert "config" in deployment["parameter_openapi_schema"]["properties"]


def _run_with_custom_parameters(served: ServedDeployment, raw: Path, lake: Path) -> dict[str, Any]:
    config = {**served.deployment["parameters"]["config"], "input_dir": str(raw)}
    config.update(lake_dir=str(lake), batch_size=3)
    body = {
        "parameters": {"config": config},
        "state": {"type": "SCHEDULED", "message": "Run from the e2e test"},
    }
    return dict(served.server.call("POST", f"/deployments/{served.id}/create_flow_run", json=body))


@pytest.fixture(scope="module")
def api_run(
    served_deployment: ServedDeployment, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], str, Path]:
    """One run started through the API on a copy of data/raw: (flow run, final state, lake)."""
    root = tmp_path_factory.mktemp("api-run")
    raw, lake = root / "raw", root / "lake"
    shutil.copytree(SAMPLE_RAW, raw)
    flow_run = _run_with_custom_parameters(served_deployment, raw, lake)
    return flow_run, wait_for_flow_run(served_deployment.server, flow_run["id"]), lake


def test_a_run_started_through_the_api_completes_and_fills_the_lake(
    api_run: tuple[dict[str, Any], str, Path], served_deployment: ServedDeployment
) -> None:
    flow_run, state, lake = api_run
    assert flow_run["parameters"]["config"]["lake_dir"] == str(lake)
    assert state == "COMPLETED"

    enriched = Lake(lake).scan("enriched").collect()
    seeds = enriched.filter(pl.col("source_files").list.contains(SEED_HEADED))
    assert seeds.height == 1
    record = seeds.row(0, named=True)
    assert sorted(record["source_files"]) == [SEED_HEADED, SEED_DATED]
    assert record["url"] == "https://www.daijiworld.com/news/newsDisplay?newsID=901925"
    assert record["published_date"] == dt.date(2021, 12, 8)
    assert enriched.height == 7

    [manifest_path] = (lake / "runs").glob("*.json")
    run = json.loads(manifest_path.read_text())
    assert run["status"] == "completed"
    counts = run["counts"]
    assert (counts["files_seen"], counts["batches"]) == (7, 3)  # 7 files, 3 per batch
    stages = ("records_in", "ingested", "cleaned", "deduped", "enriched")
    assert [counts[k] for k in stages] == [9, 9, 9, 7, 7]
    assert counts["duplicates"] == 2
    # Nothing was written where the deployment's defaults point.
    assert not served_deployment.default_lake.exists()


def test_the_run_leaves_its_counts_as_an_artifact(
    api_run: tuple[dict[str, Any], str, Path], served_deployment: ServedDeployment
) -> None:
    flow_run, state, lake = api_run
    assert state == "COMPLETED"
    artifacts = served_deployment.server.call(
        "POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [flow_run["id"]]}}}
    )
    by_key = {a["key"]: a for a in artifacts}
    key = f"newsflow-run-counts-{lake_slug(lake)}"  # one key per lake
    assert key in by_key
    table = by_key[key]["data"]
    rows = json.loads(table) if isinstance(table, str) else table
    assert {"stage": "enrich", "count": "enriched", "value": 7} in [
        {k: row[k] for k in ("stage", "count", "value")} for row in rows
    ]
    # The flow run is named by its lake and the run id of the lake's manifest.
    [manifest_path] = (lake / "runs").glob("*.json")
    name = served_deployment.server.call("GET", f"/flow_runs/{flow_run['id']}")["name"]
    assert name == f"{lake_slug(lake)} {manifest_path.stem}"
