"""Boilerplate rules: each removes its furniture and keeps the reporting that looks like it.

All article text here is invented; the two seeds are the project's own sample files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pytest

from newsflow.config import RepeatThresholds
from newsflow.lake import Lake
from newsflow.schema import LINE_DOCS
from tasks import boilerplate, furniture
from tasks.boilerplate import line_hash, matching_rule, publisher
from tasks.clean import clean, clean_frame
from tasks.line_stats import document_lines, domain_lines, merged_documents, update_line_stats
from tests.articles import ingested_rows
from tests.conftest import SAMPLE_RAW, SEED_DATED, SEED_HEADED

RUN_DATE = dt.date(2026, 11, 23)
GAZETTE = "https://www.examplegazette.com/news/story?id=7"


def ingested(*rows: Mapping[str, object]) -> pl.DataFrame:
    return ingested_rows(
        *({"date_raw": "20211208", "doc_id": f"d{i}", **row} for i, row in enumerate(rows))
    )


def rules(texts: list[str], url: str | None = None) -> list[str | None]:
    """The rule each paragraph gets, as clean sees it (regex and self-reference rules)."""
    label = publisher(url)[1]
    frame = pl.DataFrame({"text": texts, "publisher": [label] * len(texts)})
    return frame.select(rule=matching_rule(pl.col("text"), pl.col("publisher")))["rule"].to_list()


FURNITURE = [
    ("share_follow_v1", "Share this article"),
    ("share_follow_v1", "Share on Facebook"),
    ("share_follow_v1", "Follow us on Twitter"),
    ("share_follow_v1", "Follow Jane Roe on Instagram: @janeroe_writes"),
    ("share_follow_v1", "Sign up for our morning newsletter and get the headlines in your inbox."),
    ("share_follow_v1", "Newsletter Sign Up Get the week's best stories every Friday."),
    ("share_follow_v1", "Subscribe now"),
    ("share_follow_v1", "Read or Share this story: https://example.com/s/1"),
    ("share_follow_v1", "Keep up with this story and more by subscribing today"),
    ("cookie_notice_v1", "This website uses cookies to give you the best experience."),
    ("cookie_notice_v1", "By continuing to use this site you agree to our use of cookies."),
    ("cookie_notice_v1", "Privacy Policy | Terms of Use"),
    ("cookie_notice_v1", "We use cookies to personalise content and ads."),
    ("read_more_v1", "Read more"),
    ("read_more_v1", "READ MORE: Council sets new parking fees for the old town"),
    ("read_more_v1", "Also read: Ferry fares to rise in spring"),
    ("read_more_v1", "Related: Five things to know about the new bridge"),
    ("read_more_v1", "Continue reading the main story"),
    ("photo_credit_v1", "Photo: Jane Roe/Example Wire"),
    ("photo_credit_v1", "Crowds wait at the quay on Monday. (Photo by Jane Roe/Getty Images)"),
    ("photo_credit_v1", "Image copyright Example Agency Image caption The quay at dawn"),
    ("photo_credit_v1", "Video"),
    ("copyright_v1", "© 2021 Example Media Ltd"),
    ("copyright_v1", "Copyright 2019 Example Wire. All rights reserved."),
    ("copyright_v1", "All rights reserved."),
    ("advertisement_v1", "Advertisement"),
    ("advertisement_v1", "Story continues below advertisement"),
]

# Reporting that shares a word with furniture, or is short, quoted or a dateline.
LOOKALIKES = [
    "She said she would subscribe to the plan.",
    "Share prices fell 3% on Monday.",
    "The council will share the report with residents next week.",
    "Fans were asked to follow the team on its tour of the north.",
    "Sign-ups for the autumn courses doubled, the college said.",
    "The newsletter, posted to every home, announced the closure.",
    "The website uses cookies to track children, the regulator said.",
    "Privacy campaigners said the policy went too far.",
    "Related charges were filed against two other men.",
    "Read more slowly, the teacher told the class.",
    "The photo was taken by a passer-by on Tuesday.",
    "Photographers waited outside the court all day.",
    "Copyright lawyers said the ruling would be appealed.",
    "The band said all rights to the songs had been sold.",
    "Advertisement revenue rose by a fifth last year.",
    '"Follow us on Twitter," the mayor joked at the launch.',
    "Washington, Dec 8 (IANS) The talks lasted two hours.",
    "Yes.",
    "Video evidence was shown to the jury on Thursday.",
]


@pytest.mark.parametrize(("rule", "text"), FURNITURE)
def test_each_rule_removes_its_furniture(rule: str, text: str) -> None:
    assert rules([text]) == [rule]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_reporting_that_looks_like_furniture_is_kept(text: str) -> None:
    assert rules([text], GAZETTE) == [None]


def test_the_first_matching_rule_names_the_removal() -> None:
    """The order the module docstring documents: regex rules, then the publisher's self
    reference, then a domain repeat; each paragraph here matches every later rule too."""
    copyright_line = "Copyright 2020 Examplegazette. All rights reserved."
    self_reference = "You can contact Examplegazette on Facebook or email desk@examplegazette.com"
    repeated_only = "The harbour ferry timetable changes on the first Monday of every month."
    frame = pl.DataFrame(
        {
            "text": [copyright_line, self_reference, repeated_only],
            "publisher": [publisher(GAZETTE)[1]] * 3,
            "repeated": [True] * 3,
        }
    )
    rule = matching_rule(pl.col("text"), pl.col("publisher"), pl.col("repeated"))
    assert frame.select(rule=rule)["rule"].to_list() == [
        "copyright_v1",
        "publisher_self_reference_v2",
        "domain_repeat_v1",
    ]


def test_body_context_rules_never_rename_an_earlier_removal() -> None:
    """A paragraph another rule already removed keeps that rule's name even when it
    repeats the title (`repeated_headline_v1`) or reads like a bio (`author_bio_v1`)."""
    title = "Read more"
    paragraphs = pl.DataFrame(
        {
            "_row": [0, 0, 0],
            "text": ["Read more", "The council met on Tuesday.", "Read more"],
            "title": [title] * 3,
            "rule": ["read_more_v1", None, "read_more_v1"],
        }
    )
    out = boilerplate.with_body_context_rules(paragraphs)
    assert out["rule"].to_list() == ["read_more_v1", None, "read_more_v1"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.daijiworld.com/news/newsDisplay?newsID=1", ("daijiworld.com", "daijiworld")),
        ("HTTPS://Edition.Example-Times.co.uk/a", ("example-times.co.uk", "example-times")),
        ("https://www.news.com.au/story", ("news.com.au", None)),  # a generic word
        ("javascript:alert(1)", (None, None)),
        (None, (None, None)),
    ],
)
def test_publisher_comes_from_the_registered_domain(
    url: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert publisher(url) == expected


SELF_REFERENCES = [
    "Comments posted on Examplegazette.com are the views of readers, and Examplegazette will "
    "not be held responsible for them.",
    "Subscribe to the EXAMPLEGAZETTE e-paper for one pound a week.",
    "Examplegazette reserves the right to remove any post from our website.",
    "Join our Examplegazette readers' group on Facebook to meet other gardeners",
    "You can contact Examplegazette on Facebook or email desk@examplegazette.com",
    "Examplegazette will soon launch a weekly letter from the harbour. Sign up here.",
    "Email: jroe@examplegazette.com; follow Jane Roe on Mastodon",
]
# Reporting and writing that names the outlet and talks about its site, its readers or
# "we", but does not address the reader's use of the site: v1 deleted the last four.
NAMES_THE_OUTLET = [
    "Examplegazette reported that the minister resigned.",
    "Examplegazette reported that the minister's comments angered farmers.",
    "An Examplegazette reporter saw the app's launch in the city hall.",
    'The editor of Examplegazette said: "We will not be held responsible for our readers."',
    "Examplegazette subscribers can read every story on our app.",
    "As a result, in this fact-check, we'll interpret the mayor's comment on Examplegazette's "
    "site as a promise about the harbour fees.",
    "Ana: At Examplegazette, we're all about readers first. We want our site to be fast.",
    "How did you approach making the switch to an Examplegazette-first website?",
    "Examplegazette urged its readers to register.",
    "Follow-up reporting by Examplegazette found the site had been sold.",
    "Contact with Examplegazette's website was lost for an hour, you could say.",
    "Examplegazette runs two schools and a clinic; your gifts through our site paid for the "
    "new roof this year.",
]


def test_self_references_go_only_for_the_publisher_of_the_row() -> None:
    texts = SELF_REFERENCES + NAMES_THE_OUTLET
    expected = ["publisher_self_reference_v2"] * len(SELF_REFERENCES) + [None] * len(
        NAMES_THE_OUTLET
    )
    assert rules(texts, GAZETTE) == expected
    assert rules(texts, None) == [None] * len(texts)  # no URL: no publisher to speak of
    assert rules(texts, "https://other-paper.example.org/x") == [None] * len(texts)


def seed_rows() -> pl.DataFrame:
    headed = (SAMPLE_RAW / SEED_HEADED).read_text(encoding="utf-8").split("\n")
    dated = (SAMPLE_RAW / SEED_DATED).read_text(encoding="utf-8").split("\n")
    return ingested(
        {
            "source_file": SEED_HEADED,
            "layout": "headed",
            "title": headed[0],
            "date_raw": headed[1],
            "url": headed[2],
            "body": "\n\n".join(line for line in headed[3:] if line.strip()),
        },
        {"source_file": SEED_DATED, "layout": "dated", "body": "\n".join(dated[1:])},
    )


def removed_rules(cleaned: pl.DataFrame) -> dict[str, list[str]]:
    return {
        row["source_file"]: [line["rule"] for line in row["removed_lines"]]
        for row in cleaned.iter_rows(named=True)
    }


def test_the_headed_seed_loses_its_three_disclaimers_and_the_dated_seed_nothing() -> None:
    cleaned, _, quarantined = clean_frame(seed_rows(), RUN_DATE)
    assert quarantined.is_empty()
    assert removed_rules(cleaned) == {
        SEED_HEADED: ["comment_disclaimer_v1"] * 3,
        SEED_DATED: [],
    }
    headed = cleaned.row(0, named=True)
    assert all("Daijiworld" in line["text"] for line in headed["removed_lines"])
    assert "Daijiworld" not in headed["body"]
    assert "IANS" in headed["body"]


def test_the_seed_disclaimers_speak_of_the_publisher_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(furniture.RULES, "comment_disclaimer_v1")
    cleaned, _, _ = clean_frame(seed_rows(), RUN_DATE)
    assert removed_rules(cleaned) == {
        SEED_HEADED: ["publisher_self_reference_v2"] * 3,
        SEED_DATED: [],
    }


# -- domain_repeat_v1 ----------------------------------------------------------------

HERALD = "https://www.exampleherald.com/local/{}"
FOOTER = "Got a story? Send it to the news desk any day of the week."
THRESHOLDS = RepeatThresholds(min_domain_docs=10, repeat_min_docs=3, repeat_min_share=0.2)


def stats_table(
    lines: dict[str, int], domain_docs: int, domain: str = "exampleherald.com"
) -> pl.DataFrame:
    """A line-stats table saying each line sits in `count` of `domain_docs` documents."""
    return pl.DataFrame({"text": list(lines), "doc_count": list(lines.values())}).select(
        domain=pl.lit(domain),
        line_hash=line_hash(pl.col("text")),
        doc_count=pl.col("doc_count").cast(pl.Int64),
        domain_docs=pl.lit(domain_docs, dtype=pl.Int64),
    )


def repeat_removed(body: str, table: pl.DataFrame, url: str | None = HERALD) -> list[str]:
    cleaned, _, _ = clean_frame(
        ingested({"url": url and url.format("a"), "body": body}), RUN_DATE, table, THRESHOLDS
    )
    return [line["text"] for line in cleaned["removed_lines"][0] if line is not None]


@pytest.mark.parametrize(
    ("doc_count", "domain_docs", "removed"),
    [
        (5, 10, True),
        (3, 15, True),  # exactly the minimum count and share
        (2, 10, False),  # too few documents hold it
        (9, 9, False),  # the domain is too small to judge
        (4, 25, False),  # enough documents, too small a share
    ],
)
def test_repeated_lines_go_only_past_every_threshold(
    doc_count: int, domain_docs: int, removed: bool
) -> None:
    body = f"The harbour reopened on Monday.\n\n{FOOTER}"
    table = stats_table({FOOTER: doc_count}, domain_docs)
    assert repeat_removed(body, table) == ([FOOTER] if removed else [])


def test_quotes_and_datelines_are_never_repeats() -> None:
    dateline = "KESTREL BAY, April 12 (Coastal Wire) - The harbour reopened."
    quote = '"We are ready," the harbour master said.'
    table = stats_table({dateline: 9, quote: 9, FOOTER: 9}, 10)
    assert repeat_removed("\n\n".join([dateline, quote, FOOTER]), table) == [FOOTER]


def test_repeats_match_across_case_digits_and_spacing_but_not_across_domains() -> None:
    table = stats_table({"Updated 14 May 2019, 10:02": 6}, 10)
    body = "The harbour reopened.\n\nUPDATED 3 May 2021,  9:15"
    assert repeat_removed(body, table) == ["UPDATED 3 May 2021, 9:15"]
    assert repeat_removed(body, table, url="https://other.example.org/{}") == []
    assert repeat_removed(body, table, url=None) == []


def herald_docs(count: int) -> pl.DataFrame:
    return ingested(
        *(
            {
                "url": HERALD.format(i),
                "body": f"Story number {i} about the harbour{'!' * i}.\n\n{FOOTER}\n\n{FOOTER}",
            }
            for i in range(count)
        ),
        {"body": f"A story without a URL.\n\n{FOOTER}"},
    )


def test_lines_are_counted_once_per_document_and_copies_once() -> None:
    docs = herald_docs(4)
    copy = docs.head(1).with_columns(doc_id=pl.lit("copy"), source_file=pl.lit("copy.txt"))
    ledger = merged_documents(
        pl.DataFrame(schema=LINE_DOCS), document_lines(pl.concat([docs, copy]), "r")
    )
    assert ledger.height == 5  # four stories and the copy; the row without a URL is not counted
    stats = domain_lines(ledger)
    footer = stats.filter(pl.col("line_hash") == pl.select(line_hash(pl.lit(FOOTER))).item())
    # The footer sits twice in each story (once per document) and the copy is no new document.
    assert footer.select("domain", "doc_count", "domain_docs").row(0) == ("exampleherald.com", 4, 4)
    assert stats.height == 1  # lines held by one document only are left out


def test_counting_again_changes_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    docs = herald_docs(4)
    lake.write(docs, "ingested", "b1", "r1")
    first = update_line_stats(str(tmp_path), "r1", ["b1"])
    tables = {t: lake.scan(t).collect() for t in ("line_docs", "line_stats")}
    # The same documents ingested again in another batch (a rerun after a crash).
    lake.write(docs, "ingested", "b2", "r2")
    again = update_line_stats(str(tmp_path), "r2", ["b2", "b1"])
    assert (first.newly_counted, again.newly_counted) == (4, 0)
    for table, rows in tables.items():
        assert lake.scan(table).collect().equals(rows), table
    lake.clear_outputs()
    assert not lake.stage_dir("line_stats").exists()
    assert not lake.stage_dir("line_docs").exists()


def test_the_clean_task_reads_the_line_stats_of_the_lake(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.write(herald_docs(4), "ingested", "b1", "r1")
    update_line_stats(str(tmp_path), "r1", ["b1"])
    thresholds = RepeatThresholds(min_domain_docs=3, repeat_min_docs=3, repeat_min_share=0.5)
    result = clean.fn("b1", str(tmp_path), "r1", RUN_DATE, thresholds)
    assert result.removed_by_rule == {"domain_repeat_v1": 8}  # twice in each of four
    cleaned = lake.scan("cleaned").collect()
    assert cleaned.filter(pl.col("url").is_null())["body"].to_list() == [
        f"A story without a URL.\n\n{FOOTER}"
    ]
    assert clean.fn("b1", str(tmp_path), "r1", RUN_DATE).removed_by_rule == {}  # defaults


def test_a_download_link_on_a_site_named_like_its_topic_is_kept() -> None:
    # blog.python.org: the publisher label "python" is also what the post is about.
    body = "You can download Python 3.6.0 here.\n\nThe release fixes many bugs."
    assert rules(body.split("\n\n"), "https://blog.python.org/2016/12/release.html") == [
        None,
        None,
    ]


def test_a_whole_article_in_one_paragraph_is_never_removed() -> None:
    # Crawler metadata often keeps the article in one block; one furniture phrase in it
    # must not take the whole body with it.
    article = (
        "GadgetDesk may get a commission when you buy through links on our site. "
        + "The speaker is small, loud and easy to set up in any kitchen. " * 12
    )
    assert rules([article], "https://www.gadgetdesk.com/deals/speaker") == [None]
    assert rules(["Read more: " + article], None) == [None]
