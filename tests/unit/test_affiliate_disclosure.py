"""affiliate_disclosure_v1: a cleaning rule in one place (`tasks/furniture.py`), through
the clean stage. Every text here is invented."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.clean import clean_frame
from tests.articles import ingested_rows

RULE = "affiliate_disclosure_v1"
STORY = "The new travel card charges no fee abroad, and its points never expire."


def cleaned(body: str) -> tuple[str | None, list[tuple[str, str]]]:
    row = {
        "doc_id": "d1",
        "title": "Card review",
        "url": "https://reviews.example.com/c",
        "body": body,
    }
    rows, _, _ = clean_frame(ingested_rows(row), dt.date(2026, 11, 23))
    removed = [(r["text"], r["rule"]) for r in rows["removed_lines"][0]] if rows.height else []
    return (rows["body"].item() if rows.height else None), removed


@pytest.mark.parametrize(
    "disclosure",
    [
        "This post contains references to products from one or more of our advertisers.",
        "This article contains affiliate links, which means we may earn a small fee.",
        "This page includes links to products from which we may earn a commission.",
        "We recommend the best products through an independent review process.",
        "We may earn a commission when you buy through links on our site.",
        "We earn a small commission from retail links on this page, at no cost to you.",
        "As an Amazon Associate I earn from qualifying purchases.",
        "Advertiser Disclosure",
    ],
)
def test_a_disclosure_is_removed_and_recorded_and_the_review_stays(disclosure: str) -> None:
    body, removed = cleaned(f"{disclosure}\n\n{STORY}")
    assert body == STORY
    assert removed == [(disclosure, RULE)]


@pytest.mark.parametrize(
    "reporting",
    [
        "The agency may earn a commission on every sale, the regulator said.",
        "We may earn less this year, the chief executive told shareholders.",
        "This article contains references to the 2019 report and its advertisers.",
        "The council's disclosure of advertising spending was late, auditors found.",
        '"We may earn a commission through these links," the blogger admitted in court.',
        "As an associate professor, she studied how shoppers follow links.",
    ],
)
def test_reporting_about_commissions_and_links_stays(reporting: str) -> None:
    body, removed = cleaned(f"{reporting}\n\n{STORY}")
    assert body == f"{reporting}\n\n{STORY}"
    assert removed == []
