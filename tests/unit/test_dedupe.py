"""dedupe: exact, sentence-set and near-duplicate clusters; the most complete copy wins."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import tasks.dedupe_index
import tasks.dedupe_phases
import tasks.dedupe_rules
from newsflow.config import DedupeConfig
from newsflow.schema import DEDUPED, DUPLICATES
from tasks.clusters import components
from tasks.fingerprints import fingerprints
from tasks.minhash import pair_similarity
from tests.articles import (
    DAY,
    FERRY,
    FERRY_OTHER_WRITER,
    FURNITURE_BODY,
    MARKET,
    SCATTERED_COPIES,
    body,
    cleaned,
    flattened,
)
from tests.dedupe_on_lake import DedupeLake, dedupe_frame, recorded_packing

STORY = [
    "Washington, Dec 8 (IANS) The two leaders spoke for two hours.",
    "They discussed trade. They also discussed the border.",
    '"It was frank," an aide said.',
]


def similarity(df: pl.DataFrame, a: str, b: str) -> dict[str, float]:
    fp = fingerprints(df, DedupeConfig()).select("doc_id", "shingles")
    pair = pl.DataFrame({"doc_id": [a], "other_doc_id": [b]})
    return pair_similarity(pair, fp).row(0, named=True)


def links(duplicates: pl.DataFrame) -> list[tuple[str, str, str]]:
    return duplicates.select("doc_id", "kept_doc_id", "method").sort("doc_id").rows()


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
    assert row["urls"] == ["https://example.com/a"]
    assert row["published_date"] == dt.date(2021, 12, 8)  # the earliest
    assert row["source_files"] == ["d.txt", "h.txt"]
    assert row["layouts"] == ["dated", "headed"]
    assert row["duplicate_count"] == 2
    assert [r["rule"] for r in row["removed_lines"]] == ["comment_disclaimer_v1"]
    assert duplicates.select("doc_id", "kept_doc_id", "matched_doc_id", "method").rows() == [
        ("h", "d", "d", "sentence_set")
    ]
    assert duplicates["similarity"].to_list() == [1.0]


def test_different_stories_stay_apart_and_exact_copies_merge() -> None:
    ferry = body(FERRY)
    df = cleaned(
        {"doc_id": "a", "body": ferry},
        {"doc_id": "b", "body": ferry.upper()},
        {"doc_id": "c", "body": body(MARKET)},
        {"doc_id": "e", "body": body(FERRY[:4])},  # a part only: 50 shingles of 150
    )
    deduped, duplicates = dedupe_frame(df, "r")
    assert sorted(deduped["doc_id"]) == ["a", "c", "e"]
    assert links(duplicates) == [("b", "a", "exact_body")]
    assert duplicates["similarity"].to_list() == [1.0]


def test_the_most_complete_copy_wins_on_date_url_length_then_id() -> None:
    text = body(FERRY)
    df = cleaned(
        {"doc_id": "1", "body": text},
        {"doc_id": "2", "body": text, "published_date": dt.date(2020, 1, 1)},
        {"doc_id": "3", "body": text, "url": "https://example.com/x"},
        {"doc_id": "4", "body": text + "\n\nThe county will decide in May."},
    )
    assert dedupe_frame(df, "r")[0]["doc_id"].to_list() == ["2"]
    assert dedupe_frame(df.filter(pl.col("doc_id") != "2"), "r")[0]["doc_id"].to_list() == ["3"]
    only_text = df.filter(pl.col("doc_id").is_in(["1", "4"]))
    assert dedupe_frame(only_text, "r")[0]["doc_id"].to_list() == ["4"]  # longer
    assert dedupe_frame(df.filter(pl.col("doc_id") == "1"), "r")[0]["doc_id"].to_list() == ["1"]


def test_a_near_duplicate_with_one_edited_sentence_is_found_by_jaccard() -> None:
    edited = [*FERRY]
    edited[4] = "A petition urging the county to rescue the ferry now has nine thousand names."
    df = cleaned({"doc_id": "a", "body": body(FERRY)}, {"doc_id": "b", "body": body(edited)})
    deduped, duplicates = dedupe_frame(df, "r")
    assert deduped.height == 1
    [(doc, kept, method)] = links(duplicates)
    assert method == "near_jaccard"
    expected = similarity(df, doc, kept)["jaccard"]
    assert 0.7 <= expected < 1.0
    assert duplicates["similarity"].to_list() == [pytest.approx(expected)]


def test_containment_finds_a_story_inside_a_longer_page() -> None:
    story = FERRY[:10]
    df = cleaned(
        {"doc_id": "page", "body": body(story + MARKET), "title": "Local news round-up"},
        {"doc_id": "wire", "body": body(story), "title": "Ferry to stop"},
    )
    sims = similarity(df, "wire", "page")
    assert sims["jaccard"] < 0.7 <= 0.8 <= sims["containment"]  # Jaccard alone misses it
    deduped, duplicates = dedupe_frame(df, "r")
    assert deduped.height == 1
    assert duplicates.select("method", "similarity").rows() == [("near_containment", 1.0)]


def test_a_lower_cased_csv_copy_with_the_title_run_in_meets_the_original() -> None:
    title = "Ferry to stop running in March"
    df = cleaned(
        {"doc_id": "orig", "body": body(FERRY), "title": title, "layout": "plain"},
        {"doc_id": "csv", "body": flattened(title, body(FERRY)), "title": None, "layout": "csv"},
    )
    assert similarity(df, "orig", "csv")["containment"] == 1.0
    deduped, duplicates = dedupe_frame(df, "r")
    record = deduped.row(0, named=True)
    assert record["doc_id"] == "orig"  # the cased, punctuated copy is the body kept
    assert record["layouts"] == ["csv", "plain"]
    assert duplicates["method"].to_list()[0].startswith("near_")


def test_boilerplate_only_bodies_of_different_pages_are_not_merged() -> None:
    df = cleaned(
        {"doc_id": "v1", "body": FURNITURE_BODY, "title": "The first hours of the storm"},
        {"doc_id": "v2", "body": FURNITURE_BODY, "title": "Harbour walls breached"},
        {"doc_id": "v3", "body": FURNITURE_BODY, "title": "Harbour walls breached!"},
        # An article that happens to carry the same line is no copy of either.
        {"doc_id": "art", "body": body(FERRY) + "\n\n" + FURNITURE_BODY},
    )
    deduped, duplicates = dedupe_frame(df, "r")
    assert sorted(deduped["doc_id"]) == ["art", "v1", "v3"]
    # The same short body under the same (normalised) title is a copy.
    assert links(duplicates) == [("v2", "v3", "exact_body")]


def test_different_articles_about_the_same_event_stay_apart() -> None:
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY), "published_date": DAY},
        {"doc_id": "b", "body": body(FERRY_OTHER_WRITER), "published_date": DAY},
    )
    assert dedupe_frame(df, "r")[0].height == 2


@pytest.mark.parametrize(
    ("gap_days", "window", "merged"),
    [(10, 30, True), (180, 30, False), (180, None, True)],
)
def test_near_duplicates_outside_the_date_window_stay_apart(
    gap_days: int, window: int | None, merged: bool
) -> None:
    # A recurring template story: the same text with this month's figures.
    next_issue = [s.replace("nine thousand", "eleven thousand") for s in FERRY]
    next_issue[6] = FERRY[6].replace("31 March", "30 September")
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY), "published_date": DAY},
        {
            "doc_id": "b",
            "body": body(next_issue),
            "published_date": DAY + dt.timedelta(days=gap_days),
        },
    )
    config = DedupeConfig(date_window_days=window)
    deduped, duplicates = dedupe_frame(df, "r", config)
    assert deduped.height == (1 if merged else 2)
    assert duplicates["method"].to_list() == (["near_jaccard"] if merged else [])


def test_exact_copies_merge_whatever_their_dates() -> None:
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY), "published_date": DAY},
        {"doc_id": "b", "body": body(FERRY), "published_date": DAY + dt.timedelta(days=400)},
    )
    deduped, _ = dedupe_frame(df, "r")
    assert deduped["published_date"].to_list() == [DAY]


def test_a_copy_linked_through_another_reports_the_copy_it_matched() -> None:
    # a ~ b and b ~ c, but a and c share too little: one cluster through b.
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY[0:10]), "published_date": DAY},
        {"doc_id": "b", "body": body(FERRY[1:12])},
        {"doc_id": "c", "body": body(FERRY[3:13])},
    )
    assert similarity(df, "a", "c")["containment"] < 0.8
    deduped, duplicates = dedupe_frame(df, "r")
    assert deduped["doc_id"].to_list() == ["a"]  # the dated copy
    rows = duplicates.select("doc_id", "kept_doc_id", "matched_doc_id", "method").rows()
    assert rows == [("b", "a", "a", "near_jaccard"), ("c", "a", "b", "near_jaccard")]


def test_furniture_only_the_kept_copy_has_is_removed_as_cross_copy_v1() -> None:
    kept_body = "\n\n".join(
        [
            "Listen to this article",  # furniture, no other copy has it
            "FERRY TIMETABLE",  # short, but the other copy has it (lower case)
            body(FERRY),
            "The operator thanked passengers for their custom.",  # unique, but prose
        ]
    )
    df = cleaned(
        {"doc_id": "k", "body": kept_body, "published_date": DAY, "url": "https://example.com/f"},
        {"doc_id": "o", "body": "Ferry timetable\n\n" + body(FERRY), "layout": "json"},
    )
    deduped, _ = dedupe_frame(df, "r")
    record = deduped.row(0, named=True)
    assert record["doc_id"] == "k"
    assert record["body"] == kept_body.removeprefix("Listen to this article\n\n")
    assert record["removed_lines"] == [{"text": "Listen to this article", "rule": "cross_copy_v1"}]
    # Alone, nothing tells a copy's furniture from its text: nothing is removed.
    alone, _ = dedupe_frame(df.filter(pl.col("doc_id") == "k"), "r")
    assert alone["body"].to_list() == [kept_body]


def test_an_index_fed_in_two_updates_gives_the_clusters_of_one() -> None:
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY[0:10])},
        {"doc_id": "c", "body": body(FERRY[3:13])},
        {"doc_id": "x", "body": body(MARKET)},
        {"doc_id": "b", "body": body(FERRY[1:12]), "published_date": DAY},  # bridges a and c
    )

    mapping = ["doc_id", "kept_doc_id"]
    with DedupeLake() as once, DedupeLake() as lake:
        once.add(df)
        once.run("r")
        lake.add(df.head(3))
        lake.run("r1")
        assert lake.stage("deduped").height == 3  # a, c and x apart so far
        lake.add(df.tail(1))
        lake.run("r2")
        outputs = pl.concat(
            [
                lake.stage("deduped").select(mapping[0], "run_id"),
                lake.stage("duplicates").select(mapping[0], "run_id"),
            ]
        )
        rewritten = outputs.filter(pl.col("run_id") == "r2")["doc_id"]
        assert sorted(rewritten) == ["a", "b", "c"]  # x is not rewritten
        assert lake.stage("deduped").drop("run_id").equals(once.stage("deduped").drop("run_id"))
        index = lake.stage("dedupe_index").select(mapping)
        assert index.equals(once.stage("dedupe_index").select(mapping))
        result = lake.run("r3")  # nothing new: nothing changes
        assert result["new"] == 0
        for stage in ("deduped", "duplicates", "dedupe_index"):
            assert "r3" not in lake.stage(stage)["run_id"]
        assert lake.stage("dedupe_index").select(mapping).equals(index)


def test_components_follow_chains_of_any_length() -> None:
    n = 500
    order = np.random.default_rng(0).permutation(n - 1)
    u, v = np.arange(n - 1)[order], np.arange(1, n)[order]  # one long chain, edges shuffled
    assert set(components(n, u, v).tolist()) == {0}
    split = components(6, np.array([0, 1, 3]), np.array([1, 2, 4]))
    assert split.tolist() == [0, 0, 0, 3, 3, 5]


def test_merging_and_verifying_in_small_chunks_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    df = cleaned(*SCATTERED_COPIES)
    whole = dedupe_frame(df, "r")
    monkeypatch.setattr(tasks.dedupe_rules, "MERGE_CHUNK", 1)
    monkeypatch.setattr(tasks.dedupe_phases, "BUCKET_DOCS", 1)
    monkeypatch.setattr(tasks.dedupe_phases, "VERIFY_PAIRS", 1)  # a bucket cut pair by pair
    monkeypatch.setattr(tasks.dedupe_rules, "JUDGED_SHINGLES", 1)
    monkeypatch.setattr(tasks.dedupe_index, "INDEX_DOCS", 1)
    monkeypatch.setattr(tasks.dedupe_phases, "ROUTE_PAIRS", 1)  # a group per bucket
    monkeypatch.setattr(tasks.dedupe_phases, "ROUTE_BATCHES", 1)  # a routing task per batch
    placed = recorded_packing(monkeypatch)
    chunked = dedupe_frame(df, "r")
    assert whole[1].height >= 3  # copies were found, so chunks had something to split
    assert any(bucket["part"].n_unique() > 1 for bucket in placed)  # a bucket was cut
    assert chunked[0].equals(whole[0])
    assert chunked[1].equals(whole[1])


def test_record_takes_the_site_name_of_any_copy() -> None:
    df = cleaned(
        {"doc_id": "a", "body": body(FERRY), "layout": "dated"},
        {"doc_id": "b", "body": body(FERRY), "layout": "html", "site_name": "Island Times"},
        {"doc_id": "c", "body": body(FERRY), "layout": "html", "site_name": "Ferry News"},
        {"doc_id": "x", "body": body(MARKET)},
    )
    records, _ = dedupe_frame(df, "r")
    assert records.filter(pl.col("doc_id") == "x")["site_name"].to_list() == [None]
    assert records.filter(pl.col("duplicate_count") == 3)["site_name"].to_list() == ["Ferry News"]


# An invented Chinese story, written as Chinese is: no spaces, one paragraph.
FERRY_ZH = [
    "连接海岛和大陆的渡轮将于三月底停止运营。",
    "运营公司表示，乘客数量下降使这条航线每年冬天都在亏损。",
    "去年夏天每天约有四百人乘坐渡轮，只有二零一五年的一半。",
    "岛上的商人担心停航会切断他们与大陆供应商的联系。",
    "一份要求县政府挽救这项服务的请愿书已经征集到九千个签名。",
    "县里的官员正在研究能否用一艘较小的船以更低的成本维持航线。",
]
LIBRARY_ZH = [
    "北门图书馆的新阅览室将于周六上午向公众开放。",
    "由于秋季天气干燥，施工队提前两周完成了扩建工程。",
    "阅览室有四十张书桌、一个儿童角和可放八千本书的书架。",
    "工作人员说，旧阅览室多年来在考试季节一直太小。",
]


def test_chinese_copies_are_compared_by_character_shingles() -> None:
    edited = "".join(FERRY_ZH).replace("九千", "一万")
    df = cleaned(
        {"doc_id": "a", "body": "".join(FERRY_ZH)},
        {"doc_id": "b", "body": edited},
        {"doc_id": "c", "body": "".join(LIBRARY_ZH), "title": "图书馆"},
    )
    assert similarity(df, "a", "b")["jaccard"] >= 0.9  # one edit, not a different text
    assert similarity(df, "a", "c")["jaccard"] == 0.0
    deduped, duplicates = dedupe_frame(df, "r")
    assert sorted(deduped["doc_id"]) == ["a", "c"]
    assert links(duplicates) == [("b", "a", "near_jaccard")]
