"""dedupe: clusters by exact body and by sentence set, keeps the most complete copy."""

from __future__ import annotations

import datetime as dt

import polars as pl

from newsflow.schema import CLEANED, DEDUPED, DUPLICATES
from tasks.dedupe import cluster_ids, dedupe_frame

STORY = [
    "Washington, Dec 8 (IANS) The two leaders spoke for two hours.",
    "They discussed trade. They also discussed the border.",
    '"It was frank," an aide said.',
]


def cleaned(*rows: dict[str, object]) -> pl.DataFrame:
    base: dict[str, object] = {
        "run_id": "r",
        "batch_id": "b",
        "record_index": 0,
        "layout": "dated",
        "encoding": "utf-8",
        "title": "T",
        "date_raw": None,
        "url": None,
        "published_date": None,
        "date_flag": None,
        "url_raw": None,
        "url_flag": None,
        "removed_lines": [],
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=CLEANED)


def test_shuffled_headed_copy_merges_with_the_dated_copy() -> None:
    shuffled = [
        "They also discussed the border.",
        '"It was frank," an aide said.',
        "Washington, Dec 8 IANS: The two leaders spoke for two hours.",
        "They discussed trade.",
    ]
    df = cleaned(
        {
            "doc_id": "h",
            "source_file": "h.txt",
            "layout": "headed",
            "title": "Leaders talk",
            "body": "\n\n".join(shuffled),
            "url": "https://example.com/a",
            "published_date": dt.date(2021, 12, 8),
            "removed_lines": [{"text": "Comments are moderated.", "rule": "comment_disclaimer_v1"}],
        },
        {
            "doc_id": "d",
            "source_file": "d.txt",
            "title": "Leaders, talk",
            "body": "\n\n".join(STORY),
            "published_date": dt.date(2021, 12, 9),
        },
    )
    deduped, duplicates = dedupe_frame(df, "run2")
    assert deduped.schema == DEDUPED
    assert duplicates.schema == DUPLICATES
    row = deduped.row(0, named=True)
    assert deduped.height == 1
    assert row["doc_id"] == "d"  # ordered paragraphs beat shuffled sentences
    assert row["body"] == "\n\n".join(STORY)
    assert row["title"] == "Leaders, talk"
    assert row["url"] == "https://example.com/a"  # merged from the headed copy
    assert row["published_date"] == dt.date(2021, 12, 8)  # the earliest
    assert row["source_files"] == ["d.txt", "h.txt"]
    assert row["layouts"] == ["dated", "headed"]
    assert row["duplicate_count"] == 2
    assert [r["rule"] for r in row["removed_lines"]] == ["comment_disclaimer_v1"]
    assert duplicates.select("doc_id", "kept_doc_id", "method").rows() == [
        ("h", "d", "sentence_set")
    ]


def test_different_stories_stay_apart_and_exact_copies_merge() -> None:
    df = cleaned(
        {"doc_id": "a", "source_file": "a", "body": "\n\n".join(STORY)},
        {"doc_id": "b", "source_file": "b", "body": "\n\n".join(STORY).upper()},
        {"doc_id": "c", "source_file": "c", "body": "A different story entirely."},
        {"doc_id": "e", "source_file": "e", "body": "\n\n".join(STORY[:2])},  # a part only
    )
    deduped, duplicates = dedupe_frame(df, "r")
    assert sorted(deduped["doc_id"]) == ["a", "c", "e"]
    assert duplicates.select("doc_id", "kept_doc_id", "method").rows() == [("b", "a", "exact_body")]


def test_the_most_complete_copy_wins_on_date_url_length_then_id() -> None:
    body = "\n\n".join(STORY)
    df = cleaned(
        {"doc_id": "1", "source_file": "1", "body": body},
        {"doc_id": "2", "source_file": "2", "body": body, "published_date": dt.date(2020, 1, 1)},
        {"doc_id": "3", "source_file": "3", "body": body, "url": "https://example.com/x"},
    )
    assert dedupe_frame(df, "r")[0]["doc_id"].to_list() == ["2"]
    assert dedupe_frame(df.filter(pl.col("doc_id") != "2"), "r")[0]["doc_id"].to_list() == ["3"]
    assert dedupe_frame(df.filter(pl.col("doc_id") == "1"), "r")[0]["doc_id"].to_list() == ["1"]


def test_clusters_are_connected_components_across_both_keys() -> None:
    keys = pl.DataFrame({"k1": [1, 1, 2, 3, 4], "k2": [10, 11, 11, 12, 12]})
    # rows 0-1 share k1, 1-2 share k2, 3-4 share k2: two components.
    assert cluster_ids(keys, ["k1", "k2"]).to_list() == [0, 0, 0, 3, 3]
