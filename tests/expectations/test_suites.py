"""Each suite passes on good frames and fails, under the right rule, on each bad one."""

from __future__ import annotations

import polars as pl
import pytest

from newsflow.quality_config import ExpectationPolicy
from tests.articles import FERRY, body
from tests.expectations.stage_fixtures import (
    STAGE_FRAMES,
    cleaned,
    deduped,
    ingested,
    row,
    validate,
)

SHORT_BODY = "Talk to us on Chatbox Messenger. See what is happening around the world."


@pytest.mark.parametrize("stage", list(STAGE_FRAMES))
def test_good_frames_pass_every_expectation(stage: str) -> None:
    frame = STAGE_FRAMES[stage](ingested())
    assert frame.height == 4
    result = validate(stage, frame)
    failed = [r["expectation"] for r in result.summary if not r["success"]]
    assert failed == []
    assert result.failing == {}
    assert result.rows_to_quarantine().is_empty()
    assert result.critical_failures() == []
    assert row(result, "schema_types")["element_count"] == len(frame.columns)


def test_plain_layout_is_never_asked_for_a_date_or_url() -> None:
    result = validate("ingested", ingested().filter(pl.col("layout") == "plain"))
    assert row(result, "date_present")["success"]
    assert row(result, "date_present")["unexpected_count"] == 0
    assert row(result, "url_present")["unexpected_count"] == 0


# (stage, the bad row's overrides, the rule that must fail and list the row)
BAD_ROWS = [
    ("ingested", {"date_raw": None, "url": "https://news.example.com/ferry"}, "date_present"),
    ("cleaned", {"date_raw": "None", "url": "https://news.example.com/ferry"}, "date_present"),
    ("cleaned", {"date_raw": "sometime last week"}, "date_parseable"),
    ("cleaned", {"date_raw": "2031-05-01"}, "date_in_range"),
    ("cleaned", {"date_raw": "1899-12-31"}, "date_in_range"),
    ("cleaned", {"date_raw": "0", "url": "https://news.example.com/ferry"}, "date_present"),
    ("cleaned", {"date_raw": "1970-01-01T00:00:00Z"}, "date_not_epoch"),
    ("cleaned", {"date_raw": "1700000"}, "date_parseable"),
    ("ingested", {"url": None}, "url_present"),
    ("cleaned", {"url": "javascript:void(0)"}, "url_not_script"),
    ("cleaned", {"url": "data:text/html;base64,PGgxPkhpPC9oMT4="}, "url_not_script"),
    ("cleaned", {"url": "http://localhost/ferry"}, "url_well_formed"),
    ("cleaned", {"url": "ftp://news.example.com/ferry"}, "url_well_formed"),
    ("ingested", {"body": "   "}, "body_present"),
    ("cleaned", {"body": SHORT_BODY}, "body_min_words"),
    (
        "cleaned",
        {"body": body(FERRY) + " The operator said the [+2140 chars]"},
        "body_not_truncated",
    ),
    ("ingested", {"title": None}, "title_present"),
    ("cleaned", {"title": "  "}, "title_present"),
]


@pytest.mark.parametrize(("stage", "overrides", "rule"), BAD_ROWS)
def test_bad_row_fails_its_rule(stage: str, overrides: dict[str, object], rule: str) -> None:
    frame = STAGE_FRAMES[stage](ingested({"doc_id": "json-1", **overrides}))
    result = validate(stage, frame)
    summary = row(result, rule)
    assert summary["unexpected_count"] == 1
    # One bad row of four: fails a rule that allows none, passes a critical one's `mostly`.
    assert summary["success"] is (summary["mostly"] <= 0.75)
    assert result.failing[rule] == ["json-1"]


def test_epoch_date_flagged_by_clean_is_still_seen_by_the_date_expectation() -> None:
    frame = cleaned(ingested({"doc_id": "json-1", "date_raw": "1970-01-01"}))
    assert frame.filter(pl.col("doc_id") == "json-1")["date_flag"].to_list() == ["epoch_1970"]
    assert validate("cleaned", frame).failing["date_not_epoch"] == ["json-1"]


def test_quarantine_rows_are_gx_unexpected_rows() -> None:
    frame = cleaned(
        ingested({"doc_id": "json-1", "body": SHORT_BODY}, {"doc_id": "dated-1", "body": "Short."})
    )
    result = validate("cleaned", frame)
    gx_listed = {
        entry["doc_id"]
        for res in result.gx_result["results"]
        if res["expectation_config"]["meta"]["rule"] == "body_min_words"
        for entry in res["result"]["unexpected_index_list"]
    }
    quarantine = result.rows_to_quarantine()
    assert gx_listed == {"json-1", "dated-1"}
    assert set(quarantine["doc_id"]) == gx_listed
    assert set(quarantine["rule"]) == {"body_min_words"}
    assert row(result, "body_min_words")["quarantined"] == 2
    assert "found 13" in quarantine.filter(pl.col("doc_id") == "json-1")["detail"][0]


def test_first_quarantining_rule_wins() -> None:
    frame = cleaned(
        ingested({"doc_id": "json-1", "url": "javascript:alert(1)", "body": SHORT_BODY})
    )
    result = validate("cleaned", frame)
    assert result.failing["body_min_words"] == ["json-1"]
    assert result.rows_to_quarantine().rows() == [
        ("json-1", "url_not_script", "url_not_script: found 'javascript:alert(1)'")
    ]


def test_reporting_only_rules_and_other_stages_quarantine_nothing() -> None:
    bad = ingested({"doc_id": "json-1", "date_raw": "2031-05-01", "body": SHORT_BODY})
    assert validate("ingested", bad).rows_to_quarantine().is_empty()  # not a quarantine stage
    result = validate("cleaned", cleaned(bad), quarantine_stages=("ingested", "cleaned"))
    assert result.rows_to_quarantine()["rule"].to_list() == ["body_min_words"]
    assert not row(result, "date_in_range")["success"]  # reported, not quarantined


def test_min_body_words_is_configurable() -> None:
    frame = cleaned(ingested({"doc_id": "json-1", "body": SHORT_BODY}))
    assert validate("cleaned", frame, min_body_words=10).failing == {}


def test_duplicate_doc_id_is_a_critical_failure() -> None:
    frame = ingested({"doc_id": "json-1"}).with_columns(
        doc_id=pl.when(pl.col("doc_id") == "plain-1").then(pl.lit("json-1")).otherwise("doc_id")
    )
    result = validate("ingested", frame)
    assert not row(result, "doc_id_unique")["success"]
    assert result.failing["doc_id_unique"] == ["json-1"]
    assert result.rows_to_quarantine().is_empty()
    (line,) = result.critical_failures()
    assert line.startswith("ingested: doc_id_unique failed: 50.0% of 4 checked rows failed (2)")


def test_wrong_column_type_fails_schema_types() -> None:
    frame = ingested().with_columns(pl.col("record_index").cast(pl.String))
    result = validate("ingested", frame)
    assert not row(result, "schema_types")["success"]
    assert row(result, "schema_types")["unexpected_count"] == 1
    assert "record_index is str, want int" in result.critical_failures()[0]


def test_missing_column_fails_schema_columns() -> None:
    result = validate("cleaned", cleaned(ingested()).drop("body_truncated"))
    assert row(result, "schema_columns")["detail"] == "missing ['body_truncated'], unexpected []"
    assert any("schema_columns" in line for line in result.critical_failures())


def test_most_bodies_missing_is_reported_not_critical() -> None:
    # Records without a body are metadata-only records (metadata_only/), not a broken
    # mapping: the share is reported, the run goes on.
    gone = [{"doc_id": d, "body": None} for d in ("json-1", "headed-1", "dated-1")]
    many = validate("ingested", ingested(*gone))
    body = row(many, "body_present")
    assert (body["success"], body["severity"], body["unexpected_count"]) == (False, "warning", 3)
    assert many.critical_failures() == []
    strict = {"body_present": ExpectationPolicy(severity="critical", mostly=0.5)}
    assert validate("ingested", ingested(*gone), policies=strict).critical_failures() == [
        "ingested: body_present failed: 75.0% of 4 checked rows failed (3); at most 50% may"
    ]


def test_shared_canonical_url_fails_url_unique_after_dedupe() -> None:
    same = "https://news.example.com/2024/02/28/ferry"
    frame = deduped(
        ingested({"doc_id": "json-1", "url": same}, {"doc_id": "headed-1", "url": same})
    )
    result = validate("deduped", frame)
    assert not row(result, "url_unique")["success"]
    assert sorted(result.failing["url_unique"]) == ["headed-1", "json-1"]


def test_boilerplate_share_is_measured_on_removed_lines() -> None:
    furniture = "\n\n".join(
        ["Share this article on Facebook"] * 3 + ["Subscribe to our newsletter"] * 6
    )
    frame = cleaned(ingested({"doc_id": "json-1", "body": furniture + "\n\n" + body(FERRY[:4])}))
    assert frame.filter(pl.col("doc_id") == "json-1")["removed_lines"].list.len()[0] > 0
    result = validate("cleaned", frame, max_boilerplate_share=0.3)
    assert result.failing["boilerplate_share"] == ["json-1"]


TEASER = "The operator said the ferry would stop running in March … [+2140 chars]"
# An invented Japanese story: about 120 characters, no spaces, 4 whitespace "words".
JAPANESE = (
    "島と本土を結ぶフェリーは三月末で運航を終える。運航会社によると、利用者の減少で毎年冬に赤字が続いていた。"
    "昨年の夏は一日に約四百人が利用したが、これは二〇一五年の半分にとどまる。島の商店主らは本土の取引先から"
    "切り離されると懸念している。"
)


def test_a_truncated_teaser_is_a_record_not_a_short_body() -> None:
    frame = cleaned(ingested({"doc_id": "json-1", "body": TEASER}))
    teaser = frame.filter(pl.col("doc_id") == "json-1")
    assert teaser["truncation_reason"].to_list() == ["char_count_marker"]
    result = validate("cleaned", frame)
    assert row(result, "body_min_words")["unexpected_count"] == 0  # under 30 words, exempt
    assert result.failing["body_not_truncated"] == ["json-1"]  # reported with its flag
    assert result.rows_to_quarantine().is_empty()


def test_the_same_short_body_without_the_marker_is_quarantined() -> None:
    complete = TEASER.removesuffix(" … [+2140 chars]") + "."
    result = validate("cleaned", cleaned(ingested({"doc_id": "json-1", "body": complete})))
    assert result.rows_to_quarantine()["rule"].to_list() == ["body_min_words"]


def test_ingested_teasers_are_judged_as_clean_judges_them() -> None:
    result = validate("ingested", ingested({"doc_id": "json-1", "body": TEASER}))
    assert row(result, "body_min_words")["unexpected_count"] == 0


def test_a_japanese_article_is_counted_by_its_letters() -> None:
    assert len(JAPANESE.split()) < 30 < len(JAPANESE)
    result = validate("cleaned", cleaned(ingested({"doc_id": "json-1", "body": JAPANESE})))
    assert row(result, "body_min_words")["unexpected_count"] == 0
    assert result.rows_to_quarantine().is_empty()
