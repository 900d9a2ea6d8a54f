"""Properties of the word rule (newsflow/text_rules.py) and of truncation (tasks/truncation.py)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.schema import INGESTED
from newsflow.text_rules import word_count, words, words_apart
from tasks.clean import PARAGRAPH_BREAK, clean_frame
from tasks.truncation import ends_mid_sentence, readable_body, source_marker, truncation_reason

SETTINGS = settings(max_examples=200, deadline=None)
# Text in many scripts, with the characters that make word rules hard.
SCRIPTS = st.sampled_from(
    list("The mayor spoke 2024 U.S. don't — … 東京で会議が開かれた。タクシー")
    + list("รัฐบาลประกาศ서울시는 새 계획Москва مدينة ١٢ \n\t,.!?\u00a0\u3000")
)
# Characters Python's Unicode tables know (polars' regex may know newer ones).
ASSIGNED = st.characters(exclude_categories=["Cn", "Cs"])
TEXT = st.one_of(st.lists(SCRIPTS, max_size=30).map("".join), st.text(ASSIGNED, max_size=60))


def count(text: str) -> int:
    words: int = pl.select(word_count(pl.lit(text, dtype=pl.String))).item()
    return words


@SETTINGS
@given(TEXT, TEXT)
def test_word_count_is_additive_over_paragraphs(a: str, b: str) -> None:
    assert count(a + PARAGRAPH_BREAK + b) == count(a) + count(b)


@SETTINGS
@given(TEXT)
def test_a_text_with_a_letter_or_digit_has_a_word(text: str) -> None:
    has_letter = any(unicodedata.category(c)[0] in "LN" for c in text)
    assert (count(text) > 0) == has_letter


@SETTINGS
@given(TEXT)
def test_the_words_set_apart_for_shingles_are_the_words_counted(text: str) -> None:
    frame = pl.DataFrame({"text": [text]}, schema={"text": pl.String})
    # White space as the regex engine sees it (Python's str.split also splits at \x1f).
    listed, apart = frame.select(
        listed=words(pl.col("text")), apart=words_apart(pl.col("text")).str.extract_all(r"\S+")
    ).row(0)
    tokens = [t for t in apart if any(unicodedata.category(c)[0] in "LN" for c in t)]
    assert len(listed) == len(tokens) == count(text)


def readable(body: str, truncated: bool) -> str:
    frame = pl.DataFrame({"body": [body], "truncated": [truncated]})
    body_read: str = frame.select(readable_body(pl.col("body"), pl.col("truncated"))).item()
    return body_read


MARKERS = st.sampled_from(["… [+1197 chars]", "...", "…", " […]", " Read more »", "", " wou"])


@SETTINGS
@given(TEXT, MARKERS, MARKERS)
def test_readable_body_only_cuts_the_end_and_leaves_no_marker(
    text: str, marker: str, other: str
) -> None:
    body = text + marker + other
    assert readable(body, False) == body  # a complete body is read as it is
    cut = readable(body, True)
    assert body.startswith(cut)
    cut_text = pl.lit(cut, dtype=pl.String)
    marked = pl.select(truncation_reason(source_marker(cut_text), cut_text)).item()
    assert marked in (None, "mid_sentence") or not cut.strip()


PARAGRAPHS = st.sampled_from(
    [
        "The council met on Monday.",
        "The council met on Monday and agreed the",
        "The mayor, who met the owners on Monday,",
        "Reporting by Jane Roe; Editing by John Doe",
        "https://example.com/council",
        "- free parking on weekends",
        "東京で会議が開かれた",
        "the mayor said the plan for the new bridge over the river would be reviewed by the "
        "council before the work could start next spring",
    ]
)
FOOTERS = st.sampled_from(
    ["© 2019 Example Media Ltd and the", "© 2021 Example Media Ltd,", "© Example Media."]
)


@SETTINGS
@given(st.lists(PARAGRAPHS, min_size=1, max_size=4), FOOTERS)
def test_an_unfinished_sentence_is_judged_on_the_final_body(
    paragraphs: list[str], footer: str
) -> None:
    body = PARAGRAPH_BREAK.join(paragraphs)
    rows = [
        {**dict.fromkeys(INGESTED.names()), "doc_id": doc_id, "body": text, "record_index": 0}
        for doc_id, text in [("plain", body), ("footer", body + PARAGRAPH_BREAK + footer)]
    ]
    cleaned = clean_frame(pl.DataFrame(rows, schema=INGESTED), dt.date(2024, 3, 1))[0]
    plain, with_footer = cleaned.select("body", "truncation_reason").rows()
    assert with_footer == plain  # the footer was removed, and judged nothing


def ends_mid_sentence_of(text: str) -> bool:
    mid_sentence: bool = pl.select(ends_mid_sentence(pl.lit(text, dtype=pl.String))).item()
    return mid_sentence


@SETTINGS
@given(TEXT, st.sampled_from([".", "!", "?", '."', ".”", ".)", "。"]))
def test_a_body_ending_in_a_full_stop_is_never_cut_mid_sentence(text: str, end: str) -> None:
    assert not ends_mid_sentence_of(text.rstrip() + end)


CASELESS = st.lists(st.sampled_from(list("東京で会議が開かれたรัฐบาลประกาศمدينة ")), max_size=40)


@SETTINGS
@given(CASELESS.map("".join))
def test_scripts_without_case_are_never_cut_mid_sentence(text: str) -> None:
    assert not ends_mid_sentence_of(text)
