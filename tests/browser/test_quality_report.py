"""The quality report in a real headless Chromium: readable offline, numbers on the page.

Every request the page makes is routed: file:// goes through, anything else is
recorded and aborted, and the test fails if anything was attempted.
"""

from __future__ import annotations

from pathlib import Path

from expectations.report import write_quality_reports
from tests.expectations.stage_fixtures import cleaned, ingested, validate


def _open_offline(browser: object, page_path: Path, blocked: list[str]) -> object:
    page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if url.startswith("file://"):
            r.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.goto(page_path.as_uri(), wait_until="load")
    return page


def test_report_shows_the_numbers_and_stays_offline(browser: object, tmp_path: Path) -> None:
    short: dict[str, object] = {
        "doc_id": "json-1",
        "body": "Chat with us. See the news as it unfolds.",
    }
    results = [
        validate("ingested", ingested()),
        validate(
            "cleaned", cleaned(ingested(short, {"doc_id": "dated-1", "date_raw": "2031-01-01"}))
        ),
    ]
    paths = write_quality_reports(tmp_path / "lake", "run-browser", results)
    blocked: list[str] = []
    page = _open_offline(browser, paths["report"], blocked)

    assert page.title() == "newsflow quality: run-browser"  # type: ignore[attr-defined]
    section = page.locator("#stage-cleaned")  # type: ignore[attr-defined]
    short_row = section.locator('tr[data-expectation="body_min_words"]')
    assert short_row.locator("td.unexpected-percent").inner_text() == "25.00"
    assert short_row.locator("td.quarantined").inner_text() == "1"
    future_row = section.locator('tr[data-expectation="date_in_range"]')
    # Only the three dated rows are checked: the plain one has no date to judge.
    assert future_row.locator("td.unexpected-percent").inner_text() == "33.33"
    assert future_row.locator("td.quarantined").inner_text() == "0"
    overview = page.locator('tr[data-stage="cleaned"]')  # type: ignore[attr-defined]
    assert overview.locator("td.stage-quarantined").inner_text() == "1"
    # The charts are inline SVG with a bar per expectation, readable as text too.
    assert section.locator("svg").count() == 2
    assert "body_min_words: 75%" in section.locator("svg rect title").all_text_contents()
    # The inline stylesheet applied: a failed warning is coloured, not default black.
    colour = short_row.locator(".warn").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(154, 103, 0)"

    shot = tmp_path / "quality-report.png"
    page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000
    assert blocked == []


def test_data_docs_load_without_the_network(browser: object, tmp_path: Path) -> None:
    paths = write_quality_reports(tmp_path / "lake", "run-docs", [validate("ingested", ingested())])
    blocked: list[str] = []
    page = _open_offline(browser, paths["docs"], blocked)
    assert "newsflow_ingested" in page.content()  # type: ignore[attr-defined]
    assert blocked == []
