"""Stage frames built with the pipeline's own functions, and helpers to validate them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from expectations.validate import StageValidation, validate_stage
from newsflow.quality_config import QualityConfig
from tasks.clean import clean_frame
from tasks.enrich import enrich_frame, select_enrichers
from tests.articles import FERRY, FERRY_OTHER_WRITER, LIBRARY, MARKET, body, ingested_rows
from tests.dedupe_on_lake import dedupe_frame

RUN_DATE = dt.date(2024, 3, 1)

# One good record per layout family: JSON and headed carry a date and a URL, dated a
# date only, plain neither. Four different stories, so dedupe keeps all four.
GOOD_ROWS: list[dict[str, object]] = [
    {
        "doc_id": "json-1",
        "layout": "json",
        "source_file": "a.json",
        "title": "Ferry to stop running",
        "date_raw": "2024-02-28T09:30:00Z",
        "url": "https://news.example.com/2024/02/28/ferry?utm_source=x",
        "body": body(FERRY),
    },
    {
        "doc_id": "headed-1",
        "layout": "headed",
        "source_file": "b.txt",
        "title": "Library opens reading room",
        "date_raw": "20240227",
        "url": "https://www.example.org/library-reading-room",
        "body": body(LIBRARY),
    },
    {
        "doc_id": "dated-1",
        "layout": "dated",
        "source_file": "c.txt",
        "title": "Market to open on Sundays",
        "date_raw": "2024-02-26",
        "body": body(MARKET + MARKET[:1]),
    },
    {
        "doc_id": "plain-1",
        "layout": "plain",
        "source_file": "d.txt",
        "title": "Islanders face loss of boat link",
        "body": body(FERRY_OTHER_WRITER),
    },
]


def ingested(*overrides: Mapping[str, object]) -> pl.DataFrame:
    """The good rows, with the rows named by `doc_id` in `overrides` changed."""
    changes = {str(o["doc_id"]): o for o in overrides}
    return ingested_rows(*({**row, **changes.get(str(row["doc_id"]), {})} for row in GOOD_ROWS))


def cleaned(frame: pl.DataFrame) -> pl.DataFrame:
    rows, _, _ = clean_frame(frame, RUN_DATE)
    return rows


def deduped(frame: pl.DataFrame) -> pl.DataFrame:
    rows, _ = dedupe_frame(cleaned(frame), "r")
    return rows


def enriched(frame: pl.DataFrame) -> pl.DataFrame:
    # counts_v2 only: the suites read no other enricher's column, and spaCy is slow.
    return enrich_frame(deduped(frame), select_enrichers(["counts_v2"]))


STAGE_FRAMES: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "ingested": lambda f: f,
    "cleaned": cleaned,
    "deduped": deduped,
    "enriched": enriched,
}


def validate(stage: str, frame: pl.DataFrame, **config: Any) -> StageValidation:
    """Validate a stage frame with the tests' run date and config overrides."""
    return validate_stage(stage, frame, QualityConfig(**config), RUN_DATE)


def row(result: StageValidation, rule: str) -> dict[str, Any]:
    """The summary row of `rule` (fails the test when the suite has no such rule)."""
    rows = [r for r in result.summary if r["expectation"] == rule]
    assert rows, f"{result.stage} has no rule {rule}"
    return rows[0]
