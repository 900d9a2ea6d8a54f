"""A person's path through the Prefect UI: open the served deployment, start a custom run
with the Run button (changing parameters in the form), and the run completes.

Drives Debian's Chromium (/usr/bin/chromium, installed by `make browser`) through
Playwright; never a browser downloaded by Playwright. Screenshots land in tmp_path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Browser, Locator, Page

from newsflow.lake import Lake
from tests.conftest import SEED_DATED, SEED_HEADED
from tests.e2e.fixtures import ServedDeployment, wait_for_flow_run

UI_TIMEOUT_MS = 60_000  # the UI's bundle is large and the machine may be busy


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        page.screenshot(path=tmp_path / "last-page.png")  # what the page showed at the end
        context.close()


def form_field(page: Page, label: str) -> Locator:
    """The input of the parameter form's property labelled exactly `label`."""
    prop = page.locator(
        ".schema-form-property:has(> .p-label__header "
        f'.schema-form-property__label:text-is("{label}"))'
    )
    return prop.locator("input, textarea").first


def flow_run_with_lake(
    served: ServedDeployment, lake: Path, timeout_s: float = 60
) -> dict[str, Any]:
    """The deployment's flow run whose parameters name `lake` (the one the form created)."""
    deadline = time.monotonic() + timeout_s
    query = {"deployments": {"id": {"any_": [served.id]}}, "sort": "EXPECTED_START_TIME_DESC"}
    while time.monotonic() < deadline:
        for run in served.server.call("POST", "/flow_runs/filter", json=query):
            if run["parameters"].get("config", {}).get("lake_dir") == str(lake):
                return dict(run)
        time.sleep(1)
    raise AssertionError(f"no flow run with lake_dir {lake} was created from the UI")


def test_a_custom_run_started_with_the_run_button_completes(
    page: Page, served_deployment: ServedDeployment, tmp_path: Path
) -> None:
    server = served_deployment.server
    lake = tmp_path / "lake-from-ui"
    page.goto(f"{server.url}/deployments/deployment/{served_deployment.id}")
    page.get_by_text("At 02:00 AM every day").wait_for()  # the cron schedule, as people read it

    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="Custom run").click()
    form_field(page, "Lake Dir (Optional)").fill(str(lake))
    form_field(page, "Batch Size (Optional)").fill("3")
    page.screenshot(path=tmp_path / "custom-run-form.png")
    for attempt in range(2):
        page.get_by_role("button", name="Submit").click()
        try:
            flow_run = flow_run_with_lake(served_deployment, lake)
            break
        except AssertionError:
            # Under load the SQLite-backed server can answer 503 and the UI shows "Oops.
            # Something went wrong." on the form; a person presses Submit again, once.
            if attempt or not page.get_by_text("Something went wrong").count():
                raise
    assert flow_run["parameters"]["config"]["batch_size"] == 3
    assert flow_run["parameters"]["config"]["input_dir"] == str(served_deployment.default_input)
    assert wait_for_flow_run(server, flow_run["id"]) == "COMPLETED"

    page.goto(f"{server.url}/runs/flow-run/{flow_run['id']}")
    page.get_by_text("Completed").first.wait_for()
    page.wait_for_timeout(2_000)  # let the logs and the graph render before the picture
    page.screenshot(path=tmp_path / "flow-run-completed.png")

    enriched = Lake(lake).scan("enriched").collect()
    assert enriched.height == 7
    seeds = enriched.filter(pl.col("source_files").list.contains(SEED_HEADED))
    assert sorted(seeds.row(0, named=True)["source_files"]) == [SEED_HEADED, SEED_DATED]
