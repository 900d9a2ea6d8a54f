"""The quality report of a real run in headless Chromium: the failing rows, the run's
quarantine and the pass-rate history are on the page, and it loads nothing from the
network.

The input is invented here: articles that fail expectations (a body too short, a date
in the future), records and a file that ingest quarantines. Every request the page
makes is routed: file:// goes through, anything else is recorded and aborted, and the
test fails if anything was attempted. The screenshot lands in tmp_path (kept by pytest
for the last runs) for a person to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from tests.flows.test_quality_flow import STORIES

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

SCREENSHOT_ENV = "NEWSFLOW_REPORT_SCREENSHOT"  # also save the picture here, to look at


def _open_offline(browser: Any, page_path: Path, blocked: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(page_path.as_uri(), wait_until="load")
    return page


def _invented_input(raw: Path) -> None:
    """Three good articles, one too short, one dated 2031, two records ingest rejects
    (a broken line, a record with no article field), and a JSON file that does not parse."""
    good = [
        {
            "title": f"Coast story {i}",
            "date": f"2024-09-0{i + 1}",
            "url": f"https://example-coast-news.org/story-{i}",
            "body": body,
        }
        for i, body in enumerate(STORIES)
    ]
    short = {
        "title": "Short notice",
        "date": "2024-09-04",
        "url": "https://example-coast-news.org/short",
        "body": "Ferry cancelled today.",
    }
    future = {
        "title": "From the future",
        "date": "2031-01-01",
        "url": "https://example-coast-news.org/future",
        "body": STORIES[0].replace("harbour", "marina"),
    }
    lines = [json.dumps(r) for r in [*good, short, future, {"author": "Nobody"}]]
    raw.mkdir(parents=True)
    (raw / "feed.jsonl").write_text("\n".join([*lines, '{"title": "cut']) + "\n")
    (raw / "broken.json").write_text('{"articles": [{"title": "Unclosed", "body": [}')


def test_report_shows_failing_rows_quarantine_and_history(browser: Any, tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    _invented_input(raw)
    config = dict(input_dir=raw, lake_dir=lake, enrichers=["counts_v2"])
    newsflow_pipeline(PipelineConfig(**config))
    # A second run over the same lake gives the history two points.
    newsflow_pipeline(PipelineConfig(**config, full_refresh=True))

    latest = lake / "quality" / "latest.html"
    blocked: list[str] = []
    page = _open_offline(browser, latest, blocked)
    try:
        shot = tmp_path / "quality-report.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get(SCREENSHOT_ENV):
            page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=True)

        # Each failing expectation lists its rows: doc_id, title, source file, value.
        short = page.locator('.failure[data-stage="cleaned"][data-expectation="body_min_words"]')
        assert short.count() == 1
        cells = short.locator("tr.example td").all_inner_texts()
        assert "Short notice" in cells
        assert "feed.jsonl" in cells
        assert "3" in cells  # the offending value: qc_body_words
        future = page.locator('.failure[data-stage="cleaned"][data-expectation="date_in_range"]')
        assert "From the future" in future.locator("tr.example td").all_inner_texts()
        # ... and a link to all of them, which holds the same rows.
        link = page.locator("#failures a").first.get_attribute("href")
        failing = pl.read_parquet(latest.parent / link)
        assert "Short notice" in failing.filter(pl.col("rule") == "body_min_words")["title"]

        # Ingest's quarantine by rule, with the file and the reason.
        quarantine = page.locator("#quarantine")
        rules = quarantine.locator(".quarantine").evaluate_all(
            "els => els.map(e => e.dataset.stage + '/' + e.dataset.rule)"
        )
        assert {"ingest/invalid_json_line", "ingest/unmapped_fields", "ingest/invalid_json"} <= set(
            rules
        )
        broken = quarantine.locator('.quarantine[data-rule="invalid_json"] tr.quarantined')
        assert broken.locator("td").first.inner_text() == "broken.json"
        # The gate's quarantine is there too (the short body).
        assert "quality/body_min_words" in rules

        # The history: a line per expectation that ever failed, a point per run.
        history = page.locator('#history tr[data-expectation="cleaned.body_min_words"]')
        assert history.locator("svg circle").count() == 2
        assert blocked == []
    finally:
        page.close()
    assert shot.stat().st_size > 10_000
