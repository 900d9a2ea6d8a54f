"""Short bodies (under short_body_words): a copy only under an agreeing title and date."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from newsflow.config import DedupeConfig
from tasks.fingerprints import body_words, fingerprints
from tests.articles import DAY, FERRY, body, cleaned
from tests.dedupe_on_lake import DedupeLake, dedupe_frame

# An author-bio teaser a site prints under every article (invented, 42 words).
BIO = (
    "Jane Marlow is a senior markets writer with ten years of experience covering "
    "digital assets, commodities and regional banks. She studied economics in Leeds "
    "and now lives on the coast. Follow her analysis every weekday morning on our "
    "site and in print."
)
# A short news brief (invented, 32 words).
BRIEF = (
    "The coastal road between Gullhaven and Marrow Point reopened on Tuesday after a "
    "landslip closed it for three days. Council crews cleared the debris and the bus "
    "service resumed in the afternoon."
)


def kept(df: pl.DataFrame, config: DedupeConfig | None = None) -> list[list[str]]:
    deduped, duplicates = dedupe_frame(df, "r", config)
    clusters = {d: [d] for d in deduped["doc_id"]}
    for doc_id, kept_id in duplicates.select("doc_id", "kept_doc_id").iter_rows():
        clusters[kept_id].append(doc_id)
    return sorted(sorted(c) for c in clusters.values())


def test_the_bodies_are_short_and_long_as_meant() -> None:
    texts = pl.DataFrame({"body": [BIO, BRIEF, body(FERRY), "東京都は新しい"]})
    words = texts.select(body_words(pl.col("body")))["body"].to_list()
    assert words[:2] == [len(BIO.split()), len(BRIEF.split())]
    assert words[0] < 60 < words[2]
    # A spaceless script counts a word per character, not one per sentence.
    assert words[3] == 7
    fp = fingerprints(
        cleaned({"doc_id": "a", "body": BIO}, {"doc_id": "b", "body": body(FERRY)}), DedupeConfig()
    )
    assert fp["short_body"].to_list() == [True, False]


def test_the_same_bio_teaser_under_three_articles_is_three_records() -> None:
    df = cleaned(
        {"doc_id": "a", "body": BIO, "title": "Bank shares slide", "published_date": DAY},
        {
            "doc_id": "b",
            "body": BIO,
            "title": "Copper hits a record",
            "published_date": DAY + dt.timedelta(days=3),
        },
        {
            "doc_id": "c",
            "body": BIO.replace("\n", " "),
            "title": "Regional lender merges",
            "published_date": DAY + dt.timedelta(days=90),
        },
    )
    assert kept(df) == [["a"], ["b"], ["c"]]


@pytest.mark.parametrize(
    ("other_title", "gap_days", "merged"),
    [
        ("Coastal road reopens", 0, True),
        ("COASTAL ROAD REOPENS!", 12, True),  # the same title once normalised
        (None, 400, False),  # no title agrees with any, but the dates are too far apart
        (None, 2, True),
        ("Coastal road reopens", 200, False),  # a recurring brief months later
        ("Bus service resumes", 0, False),
    ],
)
def test_a_short_copy_needs_an_agreeing_title_and_a_close_date(
    other_title: str | None, gap_days: int, merged: bool
) -> None:
    df = cleaned(
        {"doc_id": "a", "body": BRIEF, "title": "Coastal road reopens", "published_date": DAY},
        {
            "doc_id": "b",
            "body": BRIEF,
            "title": other_title,
            "published_date": DAY + dt.timedelta(days=gap_days),
        },
    )
    assert kept(df) == ([["a", "b"]] if merged else [["a"], ["b"]])


def test_an_undated_short_copy_merges_and_the_method_is_reported() -> None:
    df = cleaned(
        {"doc_id": "a", "body": BRIEF, "title": "Coastal road reopens", "published_date": DAY},
        {"doc_id": "b", "body": body(BRIEF.split(". ")), "title": "Coastal road reopens"},
    )
    deduped, duplicates = dedupe_frame(df, "r")
    assert deduped["doc_id"].to_list() == ["a"]
    assert duplicates.select("doc_id", "matched_doc_id").rows() == [("b", "a")]
    assert duplicates["method"].to_list() == ["exact_body"]


def test_long_copies_still_merge_whatever_their_titles() -> None:
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY), "title": "Ferry to stop", "published_date": DAY},
        {
            "doc_id": "b",
            "body": body(FERRY),
            "title": "Island link cut",
            "published_date": DAY + dt.timedelta(days=400),
        },
    )
    assert kept(df) == [["a", "b"]]


def test_the_window_can_be_turned_off_and_the_threshold_lowered() -> None:
    df = cleaned(
        {"doc_id": "a", "body": BRIEF, "title": "Road reopens", "published_date": DAY},
        {
            "doc_id": "b",
            "body": BRIEF,
            "title": "Road reopens",
            "published_date": DAY + dt.timedelta(days=300),
        },
        {"doc_id": "c", "body": BIO, "title": "Bank shares slide"},
        {"doc_id": "d", "body": BIO, "title": "Copper hits a record"},
    )
    assert kept(df, DedupeConfig(date_window_days=None)) == [["a", "b"], ["c"], ["d"]]
    # Below min_shingles a body is short whatever short_body_words says.
    assert kept(df, DedupeConfig(short_body_words=0, min_shingles=40)) == [
        ["a"],
        ["b"],
        ["c"],
        ["d"],
    ]
    assert kept(df, DedupeConfig(short_body_words=0, min_shingles=10)) == [["a", "b"], ["c", "d"]]


def test_an_undated_copy_arriving_later_joins_copies_months_apart() -> None:
    rows = cleaned(
        {"doc_id": "a", "body": BRIEF, "title": "Road reopens", "published_date": DAY},
        {
            "doc_id": "c",
            "body": BRIEF,
            "title": "Road reopens",
            "published_date": DAY + dt.timedelta(days=200),
        },
        {"doc_id": "b", "body": BRIEF, "title": "Road reopens"},
    )
    once, _ = dedupe_frame(rows, "r")
    with DedupeLake() as lake:
        lake.add(rows.head(2))
        lake.run("r")
        assert lake.stage("deduped").height == 2
        lake.add(rows.tail(1))
        lake.run("r")
        records = lake.stage("deduped")
    assert once.height == 1
    assert records.select("doc_id", "duplicate_count").rows() == [("a", 3)]
    assert records.equals(once)
