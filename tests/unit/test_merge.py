"""merge: what a record takes from each copy of its cluster (through dedupe_frame, the
path production takes)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.articles import DAY, FERRY, body, cleaned
from tests.dedupe_on_lake import dedupe_frame

FETCHED = dt.datetime(2024, 3, 2, 8, 30, tzinfo=dt.UTC)


def record(*rows: dict[str, object]) -> dict[str, object]:
    """The one record the copies `rows` of FERRY (same body unless given) merge into."""
    deduped, _ = dedupe_frame(cleaned(*({"body": body(FERRY), **row} for row in rows)), "r")
    assert deduped.height == 1
    return deduped.row(0, named=True)


# The most complete copy: a date and a URL; the others lack one or both.
KEPT = {"doc_id": "k", "published_date": DAY, "url": "https://paper.example.com/ferry"}


def test_lists_are_unions_in_completeness_order() -> None:
    row = record(
        {"doc_id": "a", "authors": ["Ben Ito", "Ann Roe"], "tags": ["islands", "ferries"]},
        {**KEPT, "authors": ["Ann Roe"], "tags": ["ferries"]},
        {"doc_id": "b", "authors": None, "tags": [], "published_date": DAY},
    )
    assert row["doc_id"] == "k"
    assert row["authors"] == ["Ann Roe", "Ben Ito"]
    assert row["tags"] == ["ferries", "islands"]


def test_scalars_are_the_kept_copys_else_the_first_that_has_one() -> None:
    row = record(
        {"doc_id": "a", "description": "Third choice", "source_language": "en-GB"},
        {"doc_id": "b", "published_date": DAY, "description": "Second choice", "image_url": "i2"},
        {**KEPT, "image_url": "https://paper.example.com/ferry.jpg", "fetched_at": None},
        {"doc_id": "c", "fetched_at": FETCHED},
    )
    assert row["doc_id"] == "k"
    assert row["image_url"] == "https://paper.example.com/ferry.jpg"  # the kept copy's
    assert row["description"] == "Second choice"  # b comes before a (it has a date)
    assert row["source_language"] == "en-GB"
    assert row["fetched_at"] == FETCHED


def test_a_truncated_copy_loses_to_a_complete_one_and_the_flags_are_the_kept_copys() -> None:
    row = record(
        {**KEPT, "body_truncated": True, "truncation_reason": "char_count_marker"},
        {"doc_id": "whole", "body_truncated": False, "url_flag": "missing"},
    )
    assert row["doc_id"] == "whole"
    assert row["body_truncated"] is False
    assert row["truncation_reason"] is None
    # The date and URL still come from the truncated copy.
    assert row["published_date"] == DAY
    assert row["url"] == KEPT["url"]
    assert row["url_flag"] is None


def test_an_all_truncated_cluster_says_so() -> None:
    row = record(
        {**KEPT, "body_truncated": True, "truncation_reason": "read_more"},
        {"doc_id": "b", "body_truncated": True, "truncation_reason": "ellipsis"},
    )
    assert (row["doc_id"], row["body_truncated"], row["truncation_reason"]) == (
        "k",
        True,
        "read_more",
    )


def test_date_flag_only_when_no_copy_has_a_date_and_source_of_the_earliest() -> None:
    later = DAY + dt.timedelta(days=4)
    row = record(
        {**KEPT, "published_date": later, "date_source": "url"},
        {"doc_id": "a", "published_date": DAY, "date_source": "raw"},
        {"doc_id": "b", "date_flag": "unparseable"},
    )
    assert (row["published_date"], row["date_source"], row["date_flag"]) == (DAY, "raw", None)
    undated = record(
        {"doc_id": "a", "date_flag": "future"},
        {"doc_id": "b", "date_flag": "missing", "url": "https://paper.example.com/f"},
    )
    assert (undated["published_date"], undated["date_source"]) == (None, None)
    assert undated["date_flag"] == "missing"  # the kept copy's (b: it has a URL)


def test_url_flag_only_when_no_copy_has_a_url() -> None:
    row = record(
        {"doc_id": "a", "url_flag": "consent_interstitial", "published_date": DAY},
        {"doc_id": "b", "url": "https://paper.example.com/f"},
    )
    assert (row["url"], row["url_flag"]) == ("https://paper.example.com/f", None)
    none = record(
        {"doc_id": "a", "url_flag": "consent_interstitial", "published_date": DAY},
        {"doc_id": "b", "url_flag": "missing"},
    )
    assert (none["url"], none["url_flag"]) == (None, "consent_interstitial")


def test_merged_record_types_hold_the_contract() -> None:
    deduped, _ = dedupe_frame(
        cleaned({"doc_id": "a", "body": body(FERRY)}, {"doc_id": "b", "body": body(FERRY)}), "r"
    )
    assert deduped["authors"].dtype == pl.List(pl.String)
    assert deduped.row(0, named=True)["authors"] == []
