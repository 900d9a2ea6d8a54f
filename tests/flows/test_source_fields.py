"""The source's fields and clean's flags reach deduped/ and enriched/ (issue 24, items 2,
3, 8 and 11), on small invented files run through the whole flow, and on cleaned rows
with authors and tags run through the dedupe and enrich tasks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.quality_config import ExpectationPolicy, QualityConfig
from tasks.dedupe_stage import run_dedupe
from tasks.enrich import ENRICHERS, enrich
from tests.articles import FERRY, FERRY_OTHER_WRITER, LIBRARY, MARKET, body, cleaned

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

# Enrichers that load no model, whatever their versions (the byline one among them).
NO_MODEL = [name for name, e in ENRICHERS.items() if e.load_model is None]
# Truncated and short bodies are the point here: report them, quarantine nothing.
REPORT_ONLY = QualityConfig(
    policies={
        "body_min_words": ExpectationPolicy(quarantine=False),
        "body_not_truncated": ExpectationPolicy(quarantine=False),
    }
)
# A short body (under 60 words) that three different articles share: a market brief.
# (An author-bio teaser is furniture: author_bio_v1 quarantines it before dedupe.)
BRIEF = (
    "Markets in the region were mixed on the day as traders weighed fresh data on prices, "
    "lending and jobs. Analysts said the week ahead would turn on central bank comments and "
    "a busy calendar of company results from banks, miners and retailers."
)
FERRY_TITLE = "Ferry to Gullhaven will stop running in March"


def article(title: str, text: str, date: str | None = None, url: str | None = None) -> str:
    return json.dumps({"title": title, "date": date, "url": url, "body": text})


RAW = {
    # A NewsAPI-style teaser of the ferry story (dated, with a URL as an href writes it;
    # most of the story, so that MinHash proposes the pair) and the whole story without
    # date or URL: the whole body wins, the teaser's date and URL are kept.
    "ferry_teaser.json": article(
        FERRY_TITLE,
        " ".join(FERRY[:10]) + " Island pupils will be taken to the mainl… [+4047 chars]",
        "2024-03-04",
        "https://www.example-broadcaster.co.uk/news/ferry?xtor=AL-72&amp;id=9",
    ),
    "ferry_whole.txt": f"{FERRY_TITLE}\n\n{body(FERRY)}\n",
    # A teaser with no complete copy stays a truncated record.
    "market_teaser.json": article(
        "Market to open on Sundays",
        " ".join(MARKET[:4]) + " Parking at the market car park will be free before… [+900 chars]",
        "2024-03-05",
        "https://paper.example.com/market?utm_source=rss",
    ),
    # The byline names the authors; the URL is a consent wall, not the article's.
    "library.json": article(
        "Library reading room opens",
        "By Ann Roe and Ben Ito\n\n" + body(LIBRARY),
        "2024-03-06",
        "https://consent.yahoo.com/v2/collectConsent?sessionId=3_cc-session_0a1b",
    ),
    # Two copies of one story with the source's fields (the generic mapping's names);
    # the first (dated, with a URL) is kept, on a domain shared by separate publications.
    "islanders.json": json.dumps(
        {
            "title": "Islanders face losing their boat link",
            "date": "2024-03-07",
            "url": "https://islandtimes.go.com/story?id=77",
            "body": body(FERRY_OTHER_WRITER),
            "author": "Ann Roe",
            "tags": ["islands"],
        }
    ),
    "islanders_copy.json": json.dumps(
        {
            "title": "Islanders face losing their boat link",
            "body": body(FERRY_OTHER_WRITER, per_paragraph=3),
            "author": "Ben Ito and Ann Roe",
            "tags": ["ferries", "islands"],
            "description": "Services end in March.",
        }
    ),
    # Three articles whose whole body is the same short brief.
    **{
        f"brief_{i}.json": article(title, BRIEF, date)
        for i, (title, date) in enumerate(
            [
                ("Bank shares slide", "2024-03-01"),
                ("Copper hits a record", "2024-03-09"),
                ("Regional lender merges", "2024-06-01"),
            ]
        )
    },
}


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    root = tmp_path_factory.mktemp("source_fields")
    raw = root / "raw"
    raw.mkdir()
    for name, text in RAW.items():
        (raw / name).write_text(text, encoding="utf-8")
    config = PipelineConfig(
        input_dir=raw, lake_dir=root / "lake", enrichers=NO_MODEL, quality=REPORT_ONLY
    )
    newsflow_pipeline(config)
    return Lake(root / "lake").scan("enriched").collect()


def by_title(rows: pl.DataFrame, title: str) -> dict[str, Any]:
    [row] = rows.filter(pl.col("title") == title).rows(named=True)
    return row


@pytest.mark.slow
def test_the_whole_copy_wins_over_a_teaser_and_keeps_its_date_and_url(
    enriched: pl.DataFrame,
) -> None:
    ferry = by_title(enriched, FERRY_TITLE)
    assert ferry["duplicate_count"] == 2
    assert ferry["body"].endswith(FERRY[-1])
    assert (ferry["body_truncated"], ferry["truncation_reason"]) == (False, None)
    assert ferry["published_date"] == dt.date(2024, 3, 4)
    assert ferry["date_source"] == "raw"
    assert ferry["url"] == "https://www.example-broadcaster.co.uk/news/ferry?id=9"
    assert ferry["url_flag"] is None


def test_a_lone_teaser_keeps_its_truncation_flag_in_enriched(enriched: pl.DataFrame) -> None:
    market = by_title(enriched, "Market to open on Sundays")
    assert (market["body_truncated"], market["truncation_reason"]) == (True, "char_count_marker")
    assert market["url"] == "https://paper.example.com/market"


def test_byline_names_become_authors_and_a_consent_url_is_flagged(
    enriched: pl.DataFrame,
) -> None:
    library = by_title(enriched, "Library reading room opens")
    assert library["byline"] == "Ann Roe and Ben Ito"
    assert library["authors"] == ["Ann Roe", "Ben Ito"]
    assert (library["url"], library["url_flag"]) == (None, "consent_interstitial")


def test_the_same_short_body_under_three_articles_stays_three_records(
    enriched: pl.DataFrame,
) -> None:
    briefs = enriched.filter(pl.col("body") == BRIEF)
    assert sorted(briefs["title"]) == [
        "Bank shares slide",
        "Copper hits a record",
        "Regional lender merges",
    ]
    assert briefs["duplicate_count"].to_list() == [1, 1, 1]


def test_the_sources_fields_of_merged_copies_reach_enriched(enriched: pl.DataFrame) -> None:
    story = by_title(enriched, "Islanders face losing their boat link")
    assert story["duplicate_count"] == 2
    assert story["authors"] == ["Ann Roe", "Ben Ito"]
    assert story["tags"] == ["islands", "ferries"]
    assert story["description"] == "Services end in March."
    assert story["publisher"] == "islandtimes"


def test_authors_and_tags_of_merged_copies_reach_enriched(tmp_path: Path) -> None:
    """Cleaned copies carrying the source's fields, through the dedupe and enrich tasks."""
    copies = cleaned(
        {
            "doc_id": "kept",
            "body": body(LIBRARY),
            "published_date": dt.date(2024, 3, 6),
            "url": "https://paper.example.com/library",
            "authors": ["Ann Roe"],
            "tags": ["libraries"],
            "description": None,
            "source_language": "en",
            "batch_id": "b1",
        },
        {
            "doc_id": "copy",
            "body": body(LIBRARY, per_paragraph=3),
            "authors": ["Ben Ito", "Ann Roe"],
            "tags": ["libraries", "Northgate"],
            "description": "The reading room opens on Saturday.",
            "body_truncated": False,
            "batch_id": "b2",
        },
        {
            "doc_id": "teaser",
            "body": body(LIBRARY[:9]) + " Parking outs… [+300 chars]",
            "published_date": dt.date(2024, 3, 5),
            "url": "https://wire.example.com/library",
            "body_truncated": True,
            "truncation_reason": "char_count_marker",
            "tags": ["education"],
            "batch_id": "b2",
        },
    )
    lake = Lake(tmp_path)
    for (batch,), part in copies.group_by("batch_id", maintain_order=True):
        lake.write(part, "cleaned", str(batch), "r0")
    result = run_dedupe(str(tmp_path), "r1", submit=False)
    for batch in result["batches"]:
        enrich.fn(batch, str(tmp_path), "r1", NO_MODEL)
    [row] = lake.scan("enriched").collect().rows(named=True)
    assert row["doc_id"] == "kept"
    assert row["duplicate_count"] == 3
    assert row["authors"] == ["Ann Roe", "Ben Ito"]
    # Completeness order: the kept copy, the whole copy, then the truncated one.
    assert row["tags"] == ["libraries", "Northgate", "education"]
    assert row["description"] == "The reading room opens on Saturday."
    assert row["source_language"] == "en"
    assert (row["body_truncated"], row["truncation_reason"]) == (None, None)
    assert row["published_date"] == dt.date(2024, 3, 5)
    assert row["url"] == "https://paper.example.com/library"
