"""Invariants that hold for any input: clean is idempotent, dedupe never adds or loses rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.schema import CLEANED, DEDUPED, INGESTED, conform
from tasks.clean import clean_frame
from tests.dedupe_on_lake import dedupe_frame

RUN_DATE = dt.date(2026, 11, 23)
SENTENCES = st.sampled_from(
    [
        "The council met on Monday.",
        "Prices rose by 3%.",
        '"We are ready," she said.',
        "Please write your correct name and email address.",
        "Café owners agreed.",
        "The match ended 2-1.",
        "Comments are moderated.",
        "Ça va?",
        "cafÃ© owners",
    ]
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(SENTENCES, max_size=8).map(lambda s: "\n\n".join(s)),
    st.lists(SENTENCES, max_size=8).map(lambda s: "  \n".join(s)),
)


def frame(bodies: list[str], titles: list[str | None]) -> pl.DataFrame:
    rows = [
        {
            "doc_id": f"d{i}",
            "run_id": "r",
            "batch_id": "b",
            "source_file": f"f{i % 3}",
            "record_index": i,
            "layout": ["headed", "dated", "plain"][i % 3],
            "encoding": "utf-8",
            "title": titles[i % len(titles)],
            "date_raw": ["20211208", None, "x"][i % 3],
            "url": ["https://Example.com/a?utm_source=z", None, "javascript:x"][i % 3],
            "body": body,
        }
        for i, body in enumerate(bodies)
    ]
    return pl.DataFrame(rows, schema=INGESTED)


def as_ingested(cleaned: pl.DataFrame) -> pl.DataFrame:
    """Feed cleaned rows back in as if ingested: the raw URL and date go back in place."""
    return conform(cleaned.with_columns(url=pl.col("url_raw")).select(INGESTED.names()), INGESTED)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(TEXT, min_size=1, max_size=6), st.lists(st.none() | st.text(max_size=40), min_size=1)
)
def test_clean_twice_is_clean_once(bodies: list[str], titles: list[str | None]) -> None:
    once, m1, q1 = clean_frame(frame(bodies, titles), RUN_DATE)
    twice, m2, q2 = clean_frame(as_ingested(once), RUN_DATE)
    assert q2.is_empty()
    assert m2.is_empty()
    compare = ["doc_id", "title", "body", "published_date", "date_flag", "url", "url_flag"]
    assert twice.select(compare).equals(once.select(compare))
    # every row is cleaned, metadata-only or quarantined
    assert once.height + m1.height + q1.height == len(bodies)
    assert once.schema == CLEANED


# Fewer examples than clean's: each runs the dedupe stage twice on a temporary lake.
@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=1, max_size=8))
def test_dedupe_never_adds_or_loses_rows(bodies: list[str]) -> None:
    cleaned, _, _ = clean_frame(frame(bodies, ["T"]), RUN_DATE)
    deduped, duplicates = dedupe_frame(cleaned, "r")
    assert deduped.height <= cleaned.height
    assert deduped.height + duplicates.height == cleaned.height
    assert deduped["duplicate_count"].sum() == cleaned.height
    kept = set(deduped["doc_id"])
    assert set(duplicates["kept_doc_id"]) <= kept
    assert kept | set(duplicates["doc_id"]) == set(cleaned["doc_id"])
    assert deduped.schema == DEDUPED
    again, _ = dedupe_frame(cleaned.filter(pl.col("doc_id").is_in(list(kept))), "r")
    assert again.height == deduped.height  # the kept records are not duplicates of each other
