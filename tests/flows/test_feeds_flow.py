"""Feeds and a WARC crawl through the whole flow: the copies of one story merge, the source's
fields reach enriched/, and the WARC's non-article entries are counted, not lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from tests.feed_files import ARTICLES, Capture, atom_feed, html_page, json_feed, rss_feed, warc_file

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]


def test_feeds_and_a_warc_reach_enriched_as_one_record_per_story(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    (raw / "news.rss").write_text(rss_feed(ARTICLES), encoding="utf-8")
    (raw / "news.atom").write_text(atom_feed(ARTICLES), encoding="utf-8")
    (raw / "news.json").write_text(json_feed(ARTICLES), encoding="utf-8")
    captures = [Capture(f"{a.url}?src=crawl", html_page(a).encode()) for a in ARTICLES]
    (raw / "crawl.warc.gz").write_bytes(warc_file(captures))

    result = newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake))

    assert result["status"] == "completed"
    assert result["counts"]["ingested"] == 4 * len(ARTICLES)
    assert result["counts"]["skipped_not_articles"] == 1 + len(ARTICLES)  # warcinfo, requests
    enriched = Lake(lake).scan("enriched").collect().sort("published_date")
    assert enriched["title"].to_list() == [a.title for a in ARTICLES]
    assert enriched["layouts"].list.sort().to_list() == [["atom", "jsonfeed", "rss", "warc"]] * len(
        ARTICLES
    )
    assert enriched["authors"].list.sort().to_list() == [sorted(a.authors) for a in ARTICLES]
    assert enriched["fetched_at"].is_not_null().all()  # from the WARC copy
    assert enriched["site_name"].to_list() == ["Harbour Gazette"] * len(ARTICLES)
