"""The furniture rules of issue 24: each removes its lines and keeps reporting that looks
like them; headlines and author bios go only by position; all-furniture bodies are
quarantined as `furniture_only`. Every text here is invented."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tasks.boilerplate import matching_rule
from tasks.clean import clean_frame
from tests.articles import ingested_rows

RUN_DATE = dt.date(2026, 11, 23)
GAZETTE = "https://www.examplegazette.com/news/story?id=7"
STORY = "The harbour reopened on Monday after a week of repairs, the port authority said."


def rule_of(text: str) -> str | None:
    frame = pl.DataFrame({"text": [text]})
    rule: str | None = frame.select(rule=matching_rule(pl.col("text")))["rule"].item()
    return rule


def cleaned(
    body: str, title: str | None = "Harbour reopens", url: str | None = GAZETTE
) -> tuple[str | None, list[tuple[str, str]], pl.DataFrame]:
    """(cleaned body or None, removed (text, rule) pairs, quarantined rows) of one row."""
    rows, _, quarantined = clean_frame(
        ingested_rows({"doc_id": "d1", "title": title, "url": url, "body": body}), RUN_DATE
    )
    removed = [(r["text"], r["rule"]) for r in rows["removed_lines"][0]] if rows.height else []
    return (rows["body"].item() if rows.height else None), removed, quarantined


REMOVED = [
    ("newsletter_prompt_v1", "Harbour Gazette Newsletter"),
    ("newsletter_prompt_v1", "Sign up to get the best stories of the week, picked by our editors."),
    ("newsletter_prompt_v1", "Never miss the latest news by signing up to our newsletter today!"),
    ("newsletter_prompt_v1", "Subscribe to Harbour Gazette newsletters."),
    ("newsletter_prompt_v1", "WANT MORE? Subscribe to our newsletter for the latest updates."),
    ("newsletter_prompt_v1", "For the latest stories download the Gazette apps for iOS."),
    ("newsletter_prompt_v1", "Get the latest harbour news delivered to your inbox"),
    ("newsletter_prompt_v1", "Enter your email address"),
    ("social_links_v1", "Follow us: Google News | NewsBreak | Reddit | Instagram"),
    ("social_links_v1", "Facebook Twitter Pinterest"),
    ("more_link_v1", "MORE: Council sets new parking fees for the old town"),
    ("more_link_v1", "More: Why the ferry is late again"),
    ("comment_link_v1", "comments"),
    ("comment_link_v1", "12 Comments"),
    ("comment_link_v1", "View comments"),
    ("comment_link_v1", "March 3, 2021 at 09:15 AM | categories: Boats | View Comments"),
    # A short credit-like "Image: …" is photo_credit_v1's; a caption of sentences is this one.
    ("comment_link_v1", "Comments are closed."),
    ("caption_label_v1", "IMAGE: Crowds wait at the quay on Monday. The ferry was late."),
    ("comment_link_v1", "Comments are closed."),
    ("caption_label_v1", "PHOTOS: The new quay at dawn. It opened on Monday."),
    ("consent_wall_v1", "If you click 'Accept all', we and our partners will store data."),
    ("consent_wall_v1", "Examplenet and our partners use cookies to store and/or access data."),
    ("consent_wall_v1", "Click 'Reject all' to decline cookies we do not need."),
    ("consent_wall_v1", "We value your privacy"),
    ("paywall_notice_v1", "THIS CONTENT IS RESERVED FOR SUBSCRIBERS ONLY"),
    ("paywall_notice_v1", "This article is for subscribers only."),
    ("paywall_notice_v1", "Sign in to continue reading"),
    ("paywall_notice_v1", "Subscribe to unlock this article"),
    ("paywall_notice_v1", "Already have an account? Log in"),
    ("paywall_notice_v1", "Subscribe to continue reading"),
    ("paywall_notice_v1", "To view the full story, please subscribe to the Gazette."),
    ("paywall_notice_v1", "Subscribe now to our e-edition for the full story."),
    ("paywall_notice_v1", "If you're already a subscriber, you can log in to read on."),
    ("paywall_notice_v1", "You've reached your limit of free articles this month."),
]

KEPT = [
    "The newsletter, posted to every home, announced the closure.",
    "She never missed a council meeting in thirty years.",
    "Readers who signed up to the scheme got a discount, the council said.",
    "Follow us, the guide told the walkers, and keep to the path.",
    "Facebook said on Tuesday it would appeal the fine.",
    "More: the council also voted to close two schools, officials said.",
    "More than 200 people came to the quay.",
    "MORE than 200 people came to the quay.",
    "The comments were deleted within an hour.",
    "Image rights were at the heart of the case.",
    "Photos: the council said they were taken without consent. They were deleted.",
    'The button read "Accept all", the regulator said, and most users clicked it.',
    "If you click on the map, the regulator said, your location is shared.",
    "Subscribers to the water scheme will pay less, the council said.",
    "The content of the report is reserved for ministers until Friday.",
    "Get unlimited coffee refills, the café's sign promised.",
    "Comments have been disabled on the video after abuse, the company said.",
    "We value your privacy, the bank wrote to customers after the breach.",
    "Get the latest figures from the council's website, residents were told.",
    "This article is one of three on the harbour for subscribers and visitors alike.",
]


@pytest.mark.parametrize(("rule", "text"), REMOVED)
def test_furniture_lines_are_removed_by_their_rule(rule: str, text: str) -> None:
    assert rule_of(text) == rule


@pytest.mark.parametrize("text", KEPT)
def test_reporting_that_looks_like_furniture_is_kept(text: str) -> None:
    assert rule_of(text) is None


# -- repeated_headline_v1 ----------------------------------------------------------------


def test_a_headline_repeated_as_the_first_paragraph_is_removed_and_recorded() -> None:
    body, removed, _ = cleaned(f"HARBOUR  reopens!\n\n{STORY}", title="Harbour reopens")
    assert body == STORY
    assert removed == [("HARBOUR reopens!", "repeated_headline_v1")]


def test_the_headline_goes_after_other_furniture_and_twice_at_once() -> None:
    body, removed, _ = cleaned(f"Advertisement\n\nHarbour reopens\n\nHarbour reopens\n\n{STORY}")
    assert body == STORY
    assert [rule for _, rule in removed] == ["advertisement_v1"] + ["repeated_headline_v1"] * 2


@pytest.mark.parametrize(
    "body",
    [
        f"{STORY}\n\nHarbour reopens",  # not first: a section heading or a quote of it
        f"Harbour reopens today after repairs\n\n{STORY}",  # only starts like the title
    ],
)
def test_a_paragraph_that_is_not_a_leading_copy_of_the_title_stays(body: str) -> None:
    kept, removed, _ = cleaned(body)
    assert kept == body
    assert removed == []


def test_no_title_means_no_headline_rule() -> None:
    body, removed, _ = cleaned(f"Harbour reopens\n\n{STORY}", title=None)
    assert removed == []


# -- author_bio_v1 -----------------------------------------------------------------------

BIO = "Jane Roe is a senior writer at Example Gazette who covers harbours and ferries."


def test_an_author_bio_at_the_end_is_removed() -> None:
    body, removed, _ = cleaned(f"{STORY}\n\n{BIO}\n\n© 2021 Example Media Ltd")
    assert body == STORY
    assert removed == [(BIO, "author_bio_v1"), ("© 2021 Example Media Ltd", "copyright_v1")]


@pytest.mark.parametrize(
    "body",
    [
        f"{BIO}\n\n{STORY}",  # a bio before the story is part of how the story opens
        f'"{BIO}" the editor wrote in 2019.',  # quoted
        f"{STORY}\n\nJane Roe is a reporter who was arrested at the quay on Monday.",  # news
        # A long paragraph is no teaser, wherever it stands.
        "Jane Roe is a reporter at the Gazette. "
        + " ".join(["She was held for questioning about the missing logs, police said."] * 6),
    ],
)
def test_a_bio_lookalike_that_is_not_trailing_furniture_stays(body: str) -> None:
    kept, removed, _ = cleaned(body)
    assert removed == []
    assert kept == body


def test_a_bio_under_its_heading_goes_with_it_and_role_lists_count() -> None:
    bio = "Jan van der Roe is a crypto analyst and trader at Example Coin Daily."
    body, removed, _ = cleaned(f"{STORY}\n\nAbout the author\n\n{bio}")
    assert body == STORY
    assert removed == [("About the author", "author_bio_v1"), (bio, "author_bio_v1")]


# -- consent_wall_v1 in context ----------------------------------------------------------

WALL = [
    "Examplenet is part of the Examplenet family of brands.",
    "When you use our sites and apps, we use cookies to:",
    "measure your use of our sites and apps",
    "If you click 'Accept all', we and our partners will also store and/or access data.",
    "You can change your choices at any time in the Privacy dashboard.",
]


def test_the_other_lines_of_a_consent_wall_go_with_it() -> None:
    kept, removed, quarantined = cleaned("\n\n".join(WALL))
    assert kept is None
    assert (
        quarantined["detail"]
        .item()
        .endswith("(5 paragraphs removed as boilerplate: consent_wall_v1)")
    )


def test_cookie_talk_stays_when_the_body_holds_no_consent_wall() -> None:
    body = f"{STORY}\n\nThe regulator said our partners' cookies broke the law."
    kept, removed, _ = cleaned(body)
    assert (kept, removed) == (body, [])


def test_in_a_consent_wall_only_short_unquoted_cookie_lines_go() -> None:
    long_story = " ".join([STORY] * 4) + " Cookies were not discussed."
    quoted = '"Our partners never saw the cookies," the minister said.'
    body = "\n\n".join([WALL[3], long_story, quoted, STORY])
    kept, removed, _ = cleaned(body)
    assert kept == "\n\n".join([long_story, quoted, STORY])
    assert removed == [(WALL[3], "consent_wall_v1")]


# -- furniture_only ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "rules"),
    [
        (BIO, "author_bio_v1"),
        ("If you click 'Accept all', we and our partners will store data.", "consent_wall_v1"),
        (
            "THIS CONTENT IS RESERVED FOR SUBSCRIBERS ONLY\n\nSubscribe to continue reading",
            "paywall_notice_v1",
        ),
        (
            "Harbour Gazette Newsletter\n\nNever miss the latest news by signing up today!\n\n"
            "Follow us: Google News | Reddit",
            "newsletter_prompt_v1, social_links_v1",
        ),
    ],
)
def test_a_body_of_furniture_only_is_quarantined_naming_its_rules(body: str, rules: str) -> None:
    kept, _, quarantined = cleaned(body)
    assert kept is None
    assert quarantined["rule"].to_list() == ["furniture_only"]
    count = len(body.split("\n\n"))
    assert quarantined["detail"].item() == (
        f"no body text left after cleaning ({count} paragraphs removed as boilerplate: {rules})"
    )
