"""clean: text repair, dates, URLs and boilerplate rules on tiny frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

import tasks.clean
from newsflow.lake import Lake
from newsflow.schema import CLEANED
from tasks.clean import clean, clean_frame, normalised_text
from tasks.dates import parsed_date, published_date
from tasks.urls import canonical_url
from tests.articles import ingested_rows

RUN_DATE = dt.date(2026, 11, 23)


def ingested(**fields: object) -> pl.DataFrame:
    return ingested_rows(fields)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cafÃ© owners", "café owners"),  # mojibake repaired
        ("  two   spaces\tand tab ", "two spaces and tab"),
        ("line one\nline two\n\n\n\nnext paragraph", "line one line two\n\nnext paragraph"),
        ("Â\r0", "0"),  # "Â" + a line break: the same text whether cleaned once or twice
    ],
)
def test_normalised_text(raw: str, expected: str) -> None:
    out = pl.select(normalised_text(pl.lit(raw))).item()
    assert out == expected


@pytest.mark.parametrize(
    "typography",
    [
        "\u201cWe\u2019re ready,\u201d she said \u2014 twice \u2013 in 2019\u20132020\u2026",
        "\u2018Single\u2019 quotes and \u00ab guillemets \u00bb",
        "The \ufb01nal o\ufb03ce",  # Latin ligatures
        "\uff23\uff2f\uff36\uff29\uff24\uff0d\uff11\uff19\u306e\u691c\u67fb",  # full width
        "\uff76\uff80\uff76\uff85",  # half-width katakana
    ],
)
def test_typography_is_kept_as_written(typography: str) -> None:
    assert pl.select(normalised_text(pl.lit(typography))).item() == typography


@pytest.mark.parametrize(
    ("mojibake", "repaired"),
    [
        ("The mayor\u00e2\u20ac\u2122s plan", "The mayor\u2019s plan"),  # curly kept
        ("\u00e2\u20ac\u0153Yes\u00e2\u20ac\u009d", "\u201cYes\u201d"),
        ("\u00c3\u00a9t\u00c3\u00a9 \u00e2\u20ac\u201d fin", "\u00e9t\u00e9 \u2014 fin"),
        ("Fish &amp; chips", "Fish & chips"),
        ("Fish &amp;amp;amp; chips", "Fish & chips"),  # escaped thrice: settled at once
        ("AT&T and M&S", "AT&T and M&S"),  # not entities
    ],
)
def test_mojibake_is_repaired_to_the_characters_meant(mojibake: str, repaired: str) -> None:
    assert pl.select(normalised_text(pl.lit(mojibake))).item() == repaired


@pytest.mark.parametrize(
    ("raw", "date", "flag"),
    [
        ("20211208", dt.date(2021, 12, 8), None),
        ("2021-12-08", dt.date(2021, 12, 8), None),
        ("2017-09-15T00:00:00", dt.date(2017, 9, 15), None),
        ("2023-05-02 06:15:00+01:00", dt.date(2023, 5, 2), None),
        (None, None, "missing"),
        ("yesterday", None, "unparseable"),
        ("20211399", None, "unparseable"),
        ("29991231", None, "future"),
        ("1850-01-01", None, "before_1900"),
        ("1970-01-19T03:00:00", None, "epoch_1970"),
    ],
)
def test_dates_are_parsed_or_flagged(
    raw: str | None, date: dt.date | None, flag: str | None
) -> None:
    row = clean_frame(ingested(date_raw=raw), RUN_DATE)[0].row(0, named=True)
    assert (row["published_date"], row["date_flag"]) == (date, flag)


def test_clean_dates_a_column_as_the_date_expressions_do() -> None:
    """clean_frame's dates are `published_date`'s, row for row, on a mixed column."""
    raws = ["20211208", "2021-12-09", "x", None, "29991231"]
    urls = [None, "https://x.com/2020/01/02/a", "https://x.com/2020/01/03/a", None, None]
    frame = pl.DataFrame({"raw": raws, "url": urls}, schema={"raw": pl.String, "url": pl.String})
    expected = frame.select(
        d=published_date(pl.col("raw"), pl.col("url"), RUN_DATE),
        parsed=parsed_date(pl.col("raw")),
    ).unnest("d")
    assert expected["parsed"].to_list() == [
        dt.date(2021, 12, 8),
        dt.date(2021, 12, 9),
        None,
        None,
        dt.date(2999, 12, 31),
    ]
    pairs = enumerate(zip(raws, urls, strict=True))
    rows = ingested_rows(*({"doc_id": f"d{i}", "date_raw": r, "url": u} for i, (r, u) in pairs))
    cleaned = clean_frame(rows, RUN_DATE)[0].sort("doc_id")
    columns = ["published_date", "date_source", "date_flag"]
    assert cleaned.select(columns).rows() == expected.select(columns).rows()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/b?utm_source=x&id=7&fbclid=y#frag",
            ("https://www.example.com/a/b?id=7", None),
        ),
        ("http://example.com:8080", ("http://example.com:8080/", None)),
        ("https://user:secret@example.com/p", ("https://example.com/p", None)),
        ("javascript:alert(1)", (None, "scheme_javascript")),
        ("data:text/html;base64,AAAA", (None, "scheme_data")),
        ("ftp://example.com/file", (None, "scheme_ftp")),
        ("https://localhost/x", (None, "bad_host")),
        ("http://[::1", (None, "malformed")),
        ("", (None, "missing")),
        (None, (None, "missing")),
    ],
)
def test_canonical_url(raw: str | None, expected: tuple[str | None, str | None]) -> None:
    assert canonical_url(raw) == expected


def test_javascript_url_is_rejected_but_kept_raw() -> None:
    row = clean_frame(ingested(url="javascript:alert(1)"), RUN_DATE)[0].row(0, named=True)
    assert row["url"] is None
    assert row["url_raw"] == "javascript:alert(1)"
    assert row["url_flag"] == "scheme_javascript"


def test_comment_disclaimers_are_removed_with_their_rule_and_news_is_kept() -> None:
    body = "\n\n".join(
        [
            "Washington, Dec 8 (IANS) The talks lasted two hours.",
            "Please write your correct name and email address. Kindly do not post any abusive "
            "comments.",
            '"We will respond," she said.',
            "Comments are moderated before they appear.",
            "Yes.",
            "The newspaper said sending false messages to officials was a crime in the state.",
        ]
    )
    cleaned, _, quarantined = clean_frame(ingested(body=body), RUN_DATE)
    row = cleaned.row(0, named=True)
    kept = row["body"].split("\n\n")
    assert kept[0].startswith("Washington, Dec 8 (IANS)")  # the dateline stays
    assert '"We will respond," she said.' in kept  # quotes stay
    assert "Yes." in kept  # short lines stay
    assert "The newspaper said sending false messages" in row["body"]  # reporting stays
    removed = [(r["text"][:20], r["rule"]) for r in row["removed_lines"]]
    assert removed == [
        ("Please write your co", "comment_disclaimer_v1"),
        ("Comments are moderat", "comment_disclaimer_v1"),
    ]
    assert quarantined.is_empty()
    assert cleaned.schema == CLEANED


def test_a_body_of_boilerplate_only_is_quarantined_not_dropped() -> None:
    cleaned, metadata_only, quarantined = clean_frame(
        ingested(body="Comments are moderated.\n\n   "), RUN_DATE
    )
    assert cleaned.is_empty()
    assert metadata_only.is_empty()  # the source had a body: not a metadata record
    assert quarantined.select("doc_id", "stage", "rule").rows() == [
        ("d1", "clean", "furniture_only")
    ]
    assert (
        quarantined["detail"]
        .item()
        .endswith("(1 paragraphs removed as boilerplate: comment_disclaimer_v1)")
    )


@pytest.mark.parametrize(
    ("title", "url", "body", "split"),
    [
        ("Ferry to stop", "https://news.example.com/ferry", "The ferry stops in March.", "cleaned"),
        ("Ferry to stop", "https://news.example.com/ferry", None, "metadata_only"),
        ("Ferry to stop", None, "", "metadata_only"),  # a title alone
        (None, "https://news.example.com/ferry", " \n\n\t ", "metadata_only"),  # a URL alone
        ("  ", None, None, "empty_body"),  # nothing at all
        ("Ferry to stop", None, "Comments are moderated.", "furniture_only"),  # all boilerplate
    ],
)
def test_clean_splits_rows_by_what_the_source_gave(
    title: str | None, url: str | None, body: str | None, split: str
) -> None:
    frame = ingested(doc_id="d1", title=title, url=url, body=body)
    cleaned, metadata_only, quarantined = clean_frame(frame, RUN_DATE)
    parts = {"cleaned": cleaned, "metadata_only": metadata_only, "quarantined": quarantined}
    part = "quarantined" if split in ("empty_body", "furniture_only") else split
    assert {name: rows.height for name, rows in parts.items()} == {
        name: int(name == part) for name in parts
    }
    assert parts[part]["doc_id"].to_list() == ["d1"]
    assert metadata_only.schema == CLEANED
    if split == "metadata_only":
        row = metadata_only.row(0, named=True)
        assert row["body"] is None
        assert (row["url_raw"], row["source_file"]) == (url, frame["source_file"][0])
    if part == "quarantined":
        assert quarantined["rule"].to_list() == [split]


def test_metadata_only_rows_keep_their_cleaned_fields() -> None:
    frame = ingested(
        title="Ferry  to stop",
        date_raw="2024-02-28",
        url="https://News.Example.com/ferry?utm_source=x",
        body=None,
    )
    _, metadata_only, _ = clean_frame(frame, RUN_DATE)
    row = metadata_only.row(0, named=True)
    assert row["title"] == "Ferry to stop"
    assert row["published_date"] == dt.date(2024, 2, 28)
    assert row["url"] == "https://news.example.com/ferry"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("The council met on Monday. It agreed the budget.", None),
        ('"We are ready," she said.', None),
        ("The mayor said the plan would … [+1197 chars]", "char_count_marker"),
        ("The mayor spoke first.\n\nRead more", "read_more"),
        ("The mayor spoke first. Continue reading...", "read_more"),
        ("The mayor said that the plan would...", "ellipsis"),
        ("The mayor said the plan would be reviewed by the council […]", "ellipsis"),
        ("The mayor said that the plan would", "mid_sentence"),  # a modal ends no sentence
        ("The mayor met the owners of the", "mid_sentence"),
        ("The mayor, who met the owners on Monday,", "mid_sentence"),
        (
            "The mayor said on Monday that the plan for the new bridge over the river would "
            "be reviewed by the council before the work could sta",
            "mid_sentence",  # a prose paragraph stopping in a lower-case word
        ),
        # Complete articles end in many ways without a full stop: not flagged.
        ("The council met.\n\nReporting by Jane Roe; Editing by John Doe", None),
        ("The council met.\n\nMore at https://example.com/council-budget-2024", None),
        ("Results:\n\n- Springfield 3\n\n- Shelbyville 1", None),
        ("The council met.\n\n- free parking for residents on weekends", None),
        ("Mayor opens new bridge, then rain stops the party", None),  # a headline
        ("東京で会議が開かれた。参加者は百人だった", None),  # no case: never mid_sentence
        ("รัฐบาลประกาศแผนใหม่ในวันจันทร์", None),  # Thai has no full stop
    ],
)
def test_truncated_bodies_are_flagged_with_a_reason(body: str, reason: str | None) -> None:
    row = clean_frame(ingested(body=body), RUN_DATE)[0].row(0, named=True)
    assert (row["body_truncated"], row["truncation_reason"]) == (reason is not None, reason)


def test_a_furniture_line_ending_in_an_ellipsis_flags_nothing_once_removed() -> None:
    body = "The council met on Monday.\n\nRelated: Ten things to know about the budget…"
    row = clean_frame(ingested(body=body), RUN_DATE)[0].row(0, named=True)
    assert [line["rule"] for line in row["removed_lines"]] == ["read_more_v1"]
    assert (row["body_truncated"], row["truncation_reason"]) == (False, None)


def test_an_unfinished_sentence_is_judged_after_the_footer_is_removed() -> None:
    finished = "The council met on Monday and agreed the budget."
    unfinished = "The council met on Monday and agreed the"
    footer = "© 2019 Example Media Ltd and the"  # removed by copyright_v1
    rows = clean_frame(
        ingested_rows(
            {"doc_id": "a", "body": f"{finished}\n\n{footer}"},
            {"doc_id": "b", "body": f"{unfinished}\n\n© 2019 Example Media Ltd."},
        ),
        RUN_DATE,
    )[0]
    assert rows["removed_lines"].list.len().to_list() == [1, 1]
    assert rows["truncation_reason"].to_list() == [None, "mid_sentence"]


def test_a_missing_date_falls_back_to_the_url_and_says_so() -> None:
    row = clean_frame(
        ingested(date_raw=None, url="https://example.com/news/2021/12/08/talks"), RUN_DATE
    )[0].row(0, named=True)
    assert (row["published_date"], row["date_source"], row["date_flag"]) == (
        dt.date(2021, 12, 8),
        "url",
        None,
    )
    raw = clean_frame(ingested(date_raw="Dec 9, 2021", url=row["url"]), RUN_DATE)[0]
    assert raw.select("published_date", "date_source").row(0) == (dt.date(2021, 12, 9), "raw")


def test_the_clean_task_cleans_a_large_batch_chunk_by_chunk_with_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A streamed file fills one batch with many records: the task cleans them a chunk at
    # a time, and the lake holds what cleaning them all at once gives.
    bodies = [f"Story {i} opened with a council vote on the ferry route." for i in range(7)]
    bodies[5] += "\n\nShare this article"
    rows = ingested_rows(
        *(
            {"doc_id": f"d{i}", "record_index": i, "body": body}
            for i, body in enumerate([*bodies, None, "Share this article"])
        )
    )
    lake = Lake(tmp_path)
    lake.write_chunks(iter([rows[:4], rows[4:]]), "ingested", "b1", "r1")
    monkeypatch.setattr(tasks.clean, "CLEAN_CHUNK_ROWS", 3)
    result = clean.fn("b1", str(tmp_path), "r1", RUN_DATE)
    whole, metadata_only, quarantined = clean_frame(rows, RUN_DATE)
    assert result.rows_out == whole.height == 7
    assert lake.scan("cleaned").collect().equals(whole)
    assert lake.scan("metadata_only").collect().equals(metadata_only)
    assert lake.scan("quarantine").collect().height == quarantined.height == 1
    assert pq.ParquetFile(lake.files("cleaned")[0]).num_row_groups == 3
    assert result.removed_by_rule == {"share_follow_v1": 1}
