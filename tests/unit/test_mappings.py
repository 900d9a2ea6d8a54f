"""Field mappings: NewsAPI-shaped exports, source fields, dotted paths, unmapped columns.

The NewsAPI files are built from its published article fields (source {id, name},
author, title, description, url, urlToImage, publishedAt, content) with invented values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from newsflow.config import BUILTIN_FIELD_MAPPINGS, PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.authors import author_names
from tasks.clean import clean_frame
from tasks.ingest import IngestResult, ingest_files
from tasks.layouts import compiled, map_record, mapped_record, parse
from tasks.unmapped import text_like_failures

MAPPINGS = PipelineConfig().mappings()
RUN_DATE = dt.date(2025, 1, 1)
AUTHORS = [None, "Ada Quill", "Ben Marsh and Cora Vale", "By Dev Okafor", "Eli Stone, Fay Lin"]
SOURCES = ["Harbour Times", "Valley Courier", "The Ridge Post"]


def newsapi_articles(count: int) -> list[dict[str, Any]]:
    """`count` articles shaped like NewsAPI's, every fourth without a date."""
    articles = []
    for i in range(count):
        day = dt.date(2024, 3, 1) + dt.timedelta(days=i)
        words = " ".join(f"word{i}x{n}" for n in range(40))
        articles.append(
            {
                "source": {"id": None if i % 2 else f"src-{i % 3}", "name": SOURCES[i % 3]},
                "author": AUTHORS[i % len(AUTHORS)],
                "title": f"Council story number {i} settles the harbour question",
                "description": f"A short standfirst for story {i}.",
                "url": f"https://news{i % 3}.example/story/{i}",
                "urlToImage": f"https://img.example/{i}.jpg",
                "publishedAt": None if i % 4 == 3 else f"{day.isoformat()}T0{i % 10}:15:00Z",
                "content": f"The council met on Tuesday. {words} [+{1000 + i} chars]",
            }
        )
    return articles


def csv_export(articles: list[dict[str, Any]], source_as: str) -> str:
    """A CSV export: `source` as the name, as pandas' repr of the dict, or `source.name`."""
    out = io.StringIO()
    rows = []
    for article in articles:
        row = {k: ("" if v is None else v) for k, v in article.items() if k != "source"}
        source = article["source"]
        if source_as == "name":
            row["source"] = source["name"]
        elif source_as == "repr":
            row["source"] = repr(source)
        else:
            row["source.id"], row["source.name"] = source["id"] or "", source["name"]
        rows.append(row)
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def ingest_folder(root: Path, config: PipelineConfig | None = None) -> IngestResult:
    config = config or PipelineConfig(input_dir=root)
    files, rejected = list_inputs(root)
    assert rejected == []
    [batch] = plan_batches(files, batch_size=100, max_bytes=10**9)
    return ingest_files(batch, root, config, run_id="run-1")


def check_newsapi_rows(articles: list[dict[str, Any]], result: IngestResult) -> None:
    ingested = result.ingested.sort("record_index")
    assert result.quarantined.is_empty()
    assert ingested.height == len(articles)
    cleaned, _, quarantined = clean_frame(ingested, RUN_DATE)
    assert quarantined.is_empty()
    cleaned = cleaned.sort("record_index")
    for article, row, clean_row in zip(
        articles, ingested.to_dicts(), cleaned.to_dicts(), strict=True
    ):
        assert row["authors"] == author_names(article["author"])
        if article["author"]:
            assert row["authors"]
        assert row["site_name"] == article["source"]["name"]
        assert row["description"] == article["description"]
        assert row["image_url"] == article["urlToImage"]
        published = article["publishedAt"]
        expected = dt.date.fromisoformat(published[:10]) if published else None
        assert clean_row["published_date"] == expected


def test_newsapi_json_response_with_nested_source(tmp_path: Path) -> None:
    articles = newsapi_articles(24)
    response = {"status": "ok", "totalResults": len(articles), "articles": articles}
    (tmp_path / "everything.json").write_text(json.dumps(response))
    result = ingest_folder(tmp_path)
    check_newsapi_rows(articles, result)
    assert result.unmapped_columns == {}  # the envelope's keys are no record's columns


def test_newsapi_jsonl_articles(tmp_path: Path) -> None:
    articles = newsapi_articles(12)
    (tmp_path / "articles.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    check_newsapi_rows(articles, ingest_folder(tmp_path))


@pytest.mark.parametrize("source_as", ["name", "repr", "columns"])
def test_newsapi_csv_export(tmp_path: Path, source_as: str) -> None:
    articles = newsapi_articles(20)
    (tmp_path / "export.csv").write_text(csv_export(articles, source_as))
    result = ingest_folder(tmp_path)
    check_newsapi_rows(articles, result)
    if source_as == "columns":
        assert result.unmapped_columns == {"source.id": {"rows": 10, "text_like": 0}}


def test_news_please_source_fields() -> None:
    obj = {
        "title": "Harbour wall repaired",
        "date_publish": "2021-06-01 09:00:00",
        "url": "https://gazette.example/wall",
        "maintext": "The wall is whole again.",
        "authors": ["Ada Quill", "Ben Marsh; Cora Vale", "Ada Quill"],
        "description": "Repairs finished early.",
        "image_url": "https://gazette.example/wall.jpg",
        "language": "en",
        "source_domain": "gazette.example",
        "date_download": "2021-06-02 10:00:00",
    }
    record, unmapped = mapped_record(obj, compiled(MAPPINGS))
    assert record["authors"] == ["Ada Quill", "Ben Marsh", "Cora Vale"]
    assert record["description"] == "Repairs finished early."
    assert record["image_url"] == "https://gazette.example/wall.jpg"
    assert record["source_language"] == "en"
    assert record["fetched_at"] == dt.datetime(2021, 6, 2, 10, tzinfo=dt.UTC)
    assert unmapped == {}  # source_domain is a known crawl detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-06-02 10:00:00", dt.datetime(2021, 6, 2, 10, tzinfo=dt.UTC)),
        ("2021-06-02T12:00:00+02:00", dt.datetime(2021, 6, 2, 10, tzinfo=dt.UTC)),
        ("2021-06-02T10:00:00Z", dt.datetime(2021, 6, 2, 10, tzinfo=dt.UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_news_please_download_time_becomes_fetched_at(
    tmp_path: Path, raw: str | None, expected: dt.datetime | None
) -> None:
    obj = {"title": "t", "maintext": "b", "date_publish": "2021-06-01", "date_download": raw}
    (tmp_path / "a.json").write_text(json.dumps(obj))
    [fetched_at] = ingest_folder(tmp_path).ingested["fetched_at"].to_list()
    assert fetched_at == expected


def test_a_dotted_path_in_a_user_mapping_reads_nested_objects() -> None:
    mapping = {
        "title": ["headline.main"],
        "date": ["meta.dates.published"],
        "body": ["copy"],
        "site_name": ["meta.publisher"],
        "authors": ["byline.people"],
    }
    config = PipelineConfig(field_mappings={"wire": mapping})
    obj = {
        "headline": {"main": "Ferry returns", "kicker": "Transport"},
        "meta": {"dates": {"published": "2023-05-06"}, "publisher": "Isles Wire"},
        "byline": {"people": ["Ada Quill", "Ben Marsh"]},
        "copy": "The ferry is back.",
    }
    record = map_record(obj, config.mappings())
    assert record["title"] == "Ferry returns"
    assert record["date_raw"] == "2023-05-06"
    assert record["site_name"] == "Isles Wire"
    assert record["authors"] == ["Ada Quill", "Ben Marsh"]


def test_a_path_through_a_missing_or_flat_value_finds_nothing() -> None:
    config = PipelineConfig(field_mappings={"wire": {"title": ["a.b.c"], "body": ["copy"]}})
    values: list[object] = [{"b": "flat"}, {"x": {}}, "text", None]
    for a in values:
        record = map_record({"a": a, "copy": "Body."}, config.mappings())
        assert record["title"] is None
        assert record["body"] == "Body."


def test_a_source_field_of_the_wrong_shape_is_skipped_not_rejected() -> None:
    obj = {"title": "t", "content": "b", "publishedAt": "2024-01-01", "author": 7}
    obj |= {"source": {"id": "only-an-id"}, "description": {"nested": True}}
    record = map_record(obj, MAPPINGS)
    assert record["site_name"] is None
    assert record["description"] is None
    assert record["authors"] == []  # a number names no one


def test_an_unknown_field_in_a_user_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="headline"):
        PipelineConfig(field_mappings={"wire": {"headline": ["hed"]}})


def test_builtin_mappings_pick_the_export_they_were_written_for() -> None:
    gnews = {
        "title": "t",
        "description": "d",
        "content": "c",
        "url": "u",
        "image": "https://img.example/1.jpg",
        "publishedAt": "2022-09-28T08:14:24Z",
        "source": {"name": "Phone Arena", "url": "https://phone.example"},
    }
    record = map_record(gnews, MAPPINGS)
    assert (record["image_url"], record["site_name"]) == (gnews["image"], "Phone Arena")
    newsdata = {
        "article_id": "x1",
        "title": "t",
        "link": "https://n.example/1",
        "creator": ["Ada Quill"],
        "keywords": ["ports", "ferries"],
        "pubDate": "2024-01-02 03:04:05",
        "content": "c",
        "source_name": "North Herald",
        "language": "english",
    }
    record = map_record(newsdata, MAPPINGS)
    assert record["url"] == "https://n.example/1"
    assert record["date_raw"] == "2024-01-02 03:04:05"
    assert record["authors"] == ["Ada Quill"]
    assert record["tags"] == ["ports", "ferries"]
    assert record["site_name"] == "North Herald"


def test_every_builtin_mapping_names_only_known_fields() -> None:
    config = PipelineConfig(field_mappings=BUILTIN_FIELD_MAPPINGS)  # the validator checks
    assert len(config.mappings()) == 2 * len(BUILTIN_FIELD_MAPPINGS)


def long_text(seed: int, words: int = 30) -> str:
    return " ".join(f"w{seed}n{n}" for n in range(words))


def test_unmapped_columns_are_counted_with_their_text_like_values() -> None:
    rows = [
        {"title": "t1", "body": "b", "story_id": "a1", "fulltext": long_text(1), "tag": "x"},
        {"title": "t2", "body": "b", "story_id": "a2", "fulltext": long_text(2), "tag": ""},
        {"title": "t3", "body": "b", "story_id": "a3", "fulltext": "short", "tag": None},
    ]
    parsed = parse(json.dumps(rows), MAPPINGS)
    assert parsed.unmapped_columns == {
        "story_id": {"rows": 3, "text_like": 0},
        "fulltext": {"rows": 3, "text_like": 2},
        "tag": {"rows": 1, "text_like": 0},
    }
    [failure] = text_like_failures(parsed.unmapped_columns)
    assert "'fulltext'" in failure
    assert "field_mappings" in failure


def test_a_column_mostly_short_is_not_text_like() -> None:
    rows = [{"title": "t", "body": "b", "note": long_text(i) if i == 0 else "ok"} for i in range(3)]
    parsed = parse(json.dumps(rows), MAPPINGS)
    assert parsed.unmapped_columns == {"note": {"rows": 3, "text_like": 1}}
    assert text_like_failures(parsed.unmapped_columns) == []


def test_a_column_listed_under_ignore_is_not_unmapped() -> None:
    mapping = {"title": ["title"], "body": ["body"], "ignore": ["fulltext"]}
    config = PipelineConfig(field_mappings={"mine": mapping})
    rows = [{"title": "t", "body": "b", "fulltext": long_text(1)}]
    assert parse(json.dumps(rows), config.mappings()).unmapped_columns == {}


def test_the_ingest_result_adds_up_unmapped_columns_over_files(tmp_path: Path) -> None:
    for i in range(2):
        rows = [{"title": f"t{i}", "body": "b", "fulltext": long_text(i)}]
        (tmp_path / f"f{i}.json").write_text(json.dumps(rows))
    result = ingest_folder(tmp_path)
    assert result.unmapped_columns == {"fulltext": {"rows": 2, "text_like": 2}}
    assert result.ingested.schema["authors"] == pl.List(pl.String)


def test_article_fields_count_before_metadata_when_choosing_a_mapping() -> None:
    # news-please's mapping finds as many fields in all (its crawl metadata) but no date;
    # the generic one finds the date: the article fields decide.
    obj = {"title": "t", "url": "u", "text": "b", "date": "2022-02-02", "authors": ["A"]}
    obj |= {"description": "d", "image_url": "i", "language": "en", "date_download": "2022"}
    record = map_record(obj, MAPPINGS)
    assert record["date_raw"] == "2022-02-02"
    assert record["authors"] == ["A"]


def test_an_empty_value_lets_the_next_name_fill_the_field() -> None:
    # newspaper4k writes "" for a page without a canonical link; news-please null titles.
    newspaper: dict[str, str | None] = {
        "title": "t",
        "text": "b",
        "canonical_link": "",
        "url": "https://n.example/1",
    }
    newspaper |= {"publish_date": None, "top_image": "", "meta_img": "https://n.example/i.jpg"}
    record = map_record(newspaper, MAPPINGS)
    assert (record["url"], record["image_url"]) == ("https://n.example/1", newspaper["meta_img"])
    newsplease = {"title": None, "title_page": None, "title_rss": "From the feed"}
    newsplease |= {"maintext": "b", "date_publish": "2020-01-01", "url": "u"}
    assert map_record(newsplease, MAPPINGS)["title"] == "From the feed"
