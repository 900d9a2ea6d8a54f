"""Each enricher on small hand-written texts, the registry, and the enriched file metadata."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from newsflow.lake import Lake
from newsflow.schema import CLEANED, DEDUPED, DUPLICATES, enriched_schema
from tasks.enrich import ENRICHERS, enrich_frame, select_enrichers, with_site_names
from tasks.enrichers.counts import counts_v2
from tasks.enrichers.dateline import dateline_v2
from tasks.enrichers.entities import entities_v3, normalised
from tasks.enrichers.keywords import keywords_v2
from tasks.enrichers.language import language_v2
from tasks.enrichers.quality import TRUNCATED_FACTOR, quality_v2, ramp
from tasks.enrichers.source import source_v2

ENGLISH = (
    "LONDON (Reuters) - Prime Minister Margaret Holloway met U.S. President John Carver at "
    "the White House on Tuesday, officials said.\n\n"
    "Holloway and Carver discussed the war in Ukraine and trade with the European Union. "
    "The United Nations welcomed the talks.\n\n"
    '"Our countries stand together," Holloway said in Washington. Carver\'s aides said the '
    "Pentagon and NATO would follow up in Brussels."
)
GERMAN = (
    "Die Bundesregierung in Berlin hat am Mittwoch einen neuen Haushalt vorgelegt. "
    "Finanzminister Klaus Berger sagte, die Schulden sollen im kommenden Jahr sinken. Die "
    "Opposition im Bundestag kritisierte den Entwurf als unsozial und kündigte Widerstand an."
)
FRENCH = (
    "Le gouvernement français a présenté mercredi à Paris un nouveau projet de loi sur le "
    "logement. La ministre Claire Dubois a déclaré que les loyers seraient plafonnés dans les "
    "grandes villes dès le mois de janvier, malgré les critiques de l'opposition."
)


def deduped(bodies: list[str | None], **columns: Sequence[object]) -> pl.DataFrame:
    """Deduped rows holding these bodies (and any other column given), the rest filled in."""
    n = len(bodies)
    rows = {
        "doc_id": [f"d{i}" for i in range(n)],
        "run_id": ["r"] * n,
        "batch_id": ["b"] * n,
        "title": ["A title"] * n,
        "published_date": [dt.date(2021, 12, 8)] * n,
        "url": [None] * n,
        "urls": [[]] * n,
        "body": bodies,
        "source_files": [["f.txt"]] * n,
        "layouts": [["plain"]] * n,
        "duplicate_count": [1] * n,
        "removed_lines": [[]] * n,
        "site_name": [None] * n,
        **columns,
    }
    return pl.DataFrame({c: rows.get(c, [None] * n) for c in DEDUPED.names()}, schema=DEDUPED)


# -- counts_v2 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words", "sentences", "paragraphs"),
    [
        ("The mayor spoke. Residents listened.", 5, 2, 1),
        ("Mr. Smith met U.S. officials. They agreed.\n\nA heading\n\nIt's done!", 11, 4, 3),
        ("Prices rose 3.5% — a record — in Dec. 2021, officials said.", 10, 1, 1),
        ("", 0, 0, 0),
        ("   ", 0, 0, 0),
        (None, 0, 0, 0),
    ],
)
def test_counts(body: str | None, words: int, sentences: int, paragraphs: int) -> None:
    row = counts_v2(deduped([body])).row(0, named=True)
    assert (row["word_count"], row["sentence_count"], row["paragraph_count"]) == (
        words,
        sentences,
        paragraphs,
    )
    assert row["char_count"] == len(body or "")
    assert row["reading_time_min"] == round(words / 238, 2)


@pytest.mark.parametrize(
    ("body", "words", "sentences"),
    [
        # Chinese and Japanese: each character a word, 。！？ end sentences.
        ("北京市政府周三宣布了新的交通计划。市民表示欢迎！", 22, 2),
        ("東京で会議が開かれた。参加者は百人だった。", 19, 2),
        ("タクシーの運転手", 8, 1),  # katakana long-vowel mark counted with its word
        ("รัฐบาลประกาศแผนใหม่", 17, 1),  # Thai: letters, not the vowel marks above them
        ("서울시는 새 교통 계획을 발표했다.", 5, 1),  # Korean is written with spaces
        ("The 東京 office opened.", 5, 1),
    ],
)
def test_words_of_scripts_without_spaces_are_letters(body: str, words: int, sentences: int) -> None:
    row = counts_v2(deduped([body])).row(0, named=True)
    assert (row["word_count"], row["sentence_count"]) == (words, sentences)


def test_a_truncated_body_is_counted_without_its_marker_and_cut_word() -> None:
    teaser = "The council approved the new budget on Monday after a long deba… [+2140 chars]"
    complete, truncated = counts_v2(
        deduped([teaser, teaser], body_truncated=[False, True])
    ).iter_rows(named=True)
    assert complete["word_count"] == 14  # the flag decides: "deba…", "[+2140", "chars]"
    assert truncated["word_count"] == 11
    assert truncated["char_count"] == len(
        "The council approved the new budget on Monday after a long"
    )


def test_reading_time_is_words_over_238_per_minute() -> None:
    body = " ".join(["word"] * 476)
    assert counts_v2(deduped([body]))["reading_time_min"].to_list() == [2.0]


# -- source_v2 -----------------------------------------------------------------------


def test_source_host_domain_and_publisher() -> None:
    frame = deduped(
        [ENGLISH] * 4,
        url=[
            "https://www.daijiworld.com/news/newsDisplay?newsID=901925",
            "https://news.bbc.co.uk/sport/1.stm",
            "https://news.bbc.co.uk/sport/2.stm",
            None,
        ],
    ).with_columns(site_name=pl.Series([None, "BBC Sport", "  ", None], dtype=pl.String))
    out = source_v2(frame)
    assert out.rows() == [
        ("www.daijiworld.com", "daijiworld.com", "daijiworld"),
        ("news.bbc.co.uk", "bbc.co.uk", "BBC Sport"),
        ("news.bbc.co.uk", "bbc.co.uk", "bbc"),
        (None, None, None),
    ]


def test_publisher_on_a_shared_domain_is_the_publication_not_the_platform() -> None:
    urls = [
        "https://abcnews.go.com/US/story?id=1",
        "https://timesofindia.indiatimes.com/city/a.cms",
        "https://m.economictimes.indiatimes.com/markets/b.cms",
        "https://harbourwatch.blogspot.com/2024/03/ferry.html",
        "https://harbourwatch.substack.com/p/ferry",
        "https://edition.examplenews.com/2024/03/01/ferry",  # an edition: one publisher
        "https://abcnews.go.com/US/story?id=2",
    ]
    frame = deduped([ENGLISH] * len(urls), url=urls).with_columns(
        site_name=pl.Series([None] * 6 + ["ABC News"], dtype=pl.String)
    )
    out = source_v2(frame)
    assert out["publisher"].to_list() == [
        "abcnews",
        "timesofindia",
        "economictimes",
        "harbourwatch",
        "harbourwatch",
        "examplenews",
        "ABC News",  # the source's own name wins
    ]
    assert out["domain"].to_list()[:4] == [
        "go.com",
        "indiatimes.com",
        "indiatimes.com",
        "blogspot.com",
    ]


# -- language_v2 ---------------------------------------------------------------------


def test_language_with_confidence() -> None:
    out = language_v2(deduped([ENGLISH, GERMAN, FRENCH, "", "12 345 — 678", None]))
    assert out["language"].to_list() == ["en", "de", "fr", None, None, None]
    confidences = out["language_confidence"].to_list()
    assert all(0.9 < c <= 1.0 for c in confidences[:3])
    assert confidences[3:] == [None, None, None]


# -- dateline_v2 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "place", "date", "agency"),
    [
        ("Washington, Dec 8 (IANS) US President Joe Biden spoke.", "Washington", "Dec 8", "IANS"),
        ("WASHINGTON (AP) — The Senate voted on Tuesday.", "Washington", None, "AP"),
        ("LONDON (Reuters) - Britain's economy grew.", "London", None, "Reuters"),
        ("BEIJING, Dec. 8 (Xinhua) -- China said.", "Beijing", "Dec. 8", "Xinhua"),
        ("NEW DELHI: The cabinet met.\n\nIt will decide soon. (PTI)", "New Delhi", None, "PTI"),
        ("Mumbai, Dec 8 (ANI): Shares rose.", "Mumbai", "Dec 8", "ANI"),
        ("BERLIN (dpa) - The cabinet agreed.", "Berlin", None, "dpa"),
        ("NEW YORK (Bloomberg) -- Stocks fell.", "New York", None, "Bloomberg"),
        ("WASHINGTON, Dec. 8 (UPI) -- The House passed it.", "Washington", "Dec. 8", "UPI"),
        ("PARIS (AFP) - France said no.", "Paris", None, "AFP"),
        ("KABUL, Afghanistan — Fighting resumed.", "Kabul, Afghanistan", None, None),
        ("ST. LOUIS, Mo. (AP) — A storm hit.", "St. Louis, Mo.", None, "AP"),
        ("Rio de Janeiro, Dec 8 (Reuters) - Brazil said.", "Rio de Janeiro", "Dec 8", "Reuters"),
        ("By Jane Doe\n\nWASHINGTON (AP) — The Senate voted.", "Washington", None, "AP"),
        ("The council met.\n\n(With inputs from IANS)", None, None, "IANS"),
        ("Apple (AAPL) shares fell on Monday.", None, None, None),
        ("Update: the road is open again.", None, None, None),
        ("BREAKING: A fire broke out.", None, None, None),
        ("The council met on Tuesday in Washington (AP reported).", None, None, None),
        ("", None, None, None),
        # Agency-only openings.
        ("(Reuters) — The New York State Attorney General sued.", None, None, "Reuters"),
        ("(AP) — A storm hit the coast.", None, None, "AP"),
        ("(AFP) - France said no.", None, None, "AFP"),
        ("By Jane Doe\n\n(Reuters) - Shares fell.", None, None, "Reuters"),
        ("(Updated) - The road is open.", None, None, None),
        # Captions and column headers are never places.
        ("IMAGE: Smoke rises over the harbour.\n\nThe fire burned.", None, None, None),
        (
            "IMAGE: Smoke rises. (Reuters)\n\nBEIRUT (Reuters) - Fighting.",
            "Beirut",
            None,
            "Reuters",
        ),
        ("PHOTO: Firefighters at work.", None, None, None),
        ("Photo: The mayor speaks. (AP)", None, None, "AP"),
        ("DEAR ABBY: My husband snores.", None, None, None),
        ("Dear Annie: My sister never calls. (AP)", None, None, "AP"),
        ("ASK AMY: My neighbour borrows tools.", None, None, None),
        ("Q: What changed?\n\nA: Nothing.", None, None, None),
    ],
)
def test_dateline_forms(body: str, place: str | None, date: str | None, agency: str | None) -> None:
    row = dateline_v2(deduped([body])).row(0, named=True)
    assert (row["dateline_place"], row["dateline_date"], row["dateline_agency"]) == (
        place,
        date,
        agency,
    )


@pytest.mark.parametrize(
    ("body", "byline"),
    [
        ("By Jane Doe\n\nWASHINGTON (AP) — The Senate voted.", "Jane Doe"),
        # As written: names in capitals stay in capitals.
        (
            "By JANE DOE and John Smith, Reuters\n\nLONDON (Reuters) - Text.",
            "JANE DOE and John Smith",
        ),
        (
            "By Jane Doe, John Smith and Ann Lee\n\nThe council met.",
            "Jane Doe, John Smith and Ann Lee",
        ),
        ("By Jane Doe & John Smith\n\nThe council met.", "Jane Doe & John Smith"),
        ("By Jane Doe, Associated Press\n\nThe council met.", "Jane Doe"),
        ("By Jan de Vries | Staff writer\n\nThe council met.", "Jan de Vries"),
        ("The council met.\n\nReporting by Jane Doe in London; Editing by John Roe", "Jane Doe"),
        (
            "The council met. Reporting by Jane Doe and Ann Lee; Editing by John Roe",
            "Jane Doe and Ann Lee",
        ),
        ("The council met.\n\n— Jane Doe, Reuters", "Jane Doe"),
        ("The council met.\n\n-- Jane Doe, The Daily Courier", "Jane Doe"),
        ("By the time the rain stopped, the river had risen.", None),
        ("The council met on Tuesday.", None),
        ("The council met.\n\n— Reuters", None),
    ],
)
def test_byline(body: str, byline: str | None) -> None:
    assert dateline_v2(deduped([body]))["byline"].to_list() == [byline]


def test_a_signature_credits_its_agency() -> None:
    row = dateline_v2(deduped(["The council met.\n\n— Jane Doe, AP"])).row(0, named=True)
    assert (row["dateline_agency"], row["byline"]) == ("AP", "Jane Doe")


# -- entities_v3 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mention", "name"),
    [
        ("the White House", "White House"),
        ("Russia's", "Russia"),
        ("Ms Beynon", "Beynon"),
        ("Dr. Ada Lin", "Ada Lin"),
        ("U.S.", "US"),
        ("  New\n York ", "New York"),
        ("harbour master", ""),
        ("'s", ""),
    ],
)
def test_entity_names_are_normalised(mention: str, name: str) -> None:
    assert normalised(mention) == name


def test_entities_of_an_english_article() -> None:
    row = entities_v3(deduped([ENGLISH])).row(0, named=True)
    # Lone surnames ("Holloway said") count for the full name, not as extra entries.
    assert row["people"] == ["Margaret Holloway", "John Carver"]
    assert {"European Union", "United Nations", "NATO"} <= set(row["organizations"])
    assert {"US", "Ukraine", "Washington", "Brussels"} <= set(row["places"])
    assert "U.S." not in row["places"]


def test_non_english_and_empty_bodies_get_no_entities() -> None:
    out = entities_v3(deduped([GERMAN, FRENCH, "", None]))
    assert out.rows() == [([], [], [], [])] * 4


def test_language_reads_the_head_of_the_body() -> None:
    from tasks.enrichers.language import MAX_CHARS

    english_head = (ENGLISH + "\n\n") * (MAX_CHARS // len(ENGLISH) + 1)
    german_tail = (GERMAN + "\n\n") * 20
    assert len(english_head) > MAX_CHARS  # only English is read...
    assert len(german_tail) > 2 * len(english_head)  # ...of a mostly German body
    out = language_v2(deduped([english_head + german_tail, german_tail + english_head]))
    assert out["language"].to_list() == ["en", "de"]


def test_entities_follow_the_language_column_when_present() -> None:
    # language_v2 ran and said German: the English model is not asked.
    frame = deduped([ENGLISH]).with_columns(language=pl.lit("de"))
    assert entities_v3(frame).row(0) == ([], [], [], [])


# -- keywords_v2 (more in test_keywords.py) ----------------------------------------


def test_keywords_in_the_body_language() -> None:
    english, german, empty = keywords_v2(deduped([ENGLISH, GERMAN, ""]))["keywords"].to_list()
    assert 3 <= len(english) <= 10
    assert "Margaret Holloway" in english
    # No phrase repeats half the words of a better one ("Holloway" after the full name).
    word_sets = [set(k.casefold().split()) for k in english]
    assert all(2 * len(a & b) < len(a) for i, a in enumerate(word_sets) for b in word_sets[:i])
    assert any(k in german for k in ("Bundesregierung", "Haushalt", "Bundestag"))
    assert empty == []


# A NewsAPI `content` teaser: cut mid-word, then the marker.
TEASER = (
    "LONDON (Reuters) - Prime Minister Margaret Holloway met U.S. President John Carver at "
    "the White House on Tuesday to discuss trade with the European Union and the war in "
    "Ukraine, officials said, before talks in Brussels with the NATO secretary gen… "
    "[+4047 chars]"
)


def test_a_teasers_marker_and_cut_word_are_never_keywords() -> None:
    teaser = (
        "Springfield council approved a new budget for public libraries on Monday; public "
        "libraries had waited after months of debate about the cost of renovat… [+4047 chars]"
    )
    (phrases,) = keywords_v2(deduped([teaser], body_truncated=[True]))["keywords"].to_list()
    assert "public libraries" in phrases  # the teaser's real phrases are there
    words = {w.casefold() for phrase in phrases for w in phrase.split()}
    assert not words & {"chars", "renovat", "renovat…", "[+4047"}


def test_a_teasers_cut_word_is_never_a_name() -> None:
    cut = TEASER.replace("the NATO secretary gen…", "Secretary General Jens Stolt…")
    row = entities_v3(deduped([cut], body_truncated=[True])).row(0, named=True)
    assert "Margaret Holloway" in row["people"]
    names = row["people"] + row["organizations"] + row["places"]
    assert not [n for n in names if "Stolt" in n or "chars" in n]  # "Jens Stolt" unflagged


# -- quality_v2 ----------------------------------------------------------------------

CLEAN = ENGLISH + (
    "\n\nThe two leaders also agreed to meet again in the spring, when a trade agreement "
    "could be ready for signature. Officials on both sides said the talks had been friendly "
    "but that several questions about farm subsidies were still open.\n\n"
    "Business groups welcomed the meeting and asked both governments to publish the details "
    "of the agreement before the summer, so that companies could prepare."
)
SYMBOLS = "#### $$$ @@@ *** ★★★ ### ... … ###\n\n• • • • •\n\n→ → → ###"
REPEATED = "\n\n".join(["Click here to subscribe"] * 6 + ["Share this"] * 4)


def test_quality_measures() -> None:
    body = "One two three four.\n\nOne two three four.\n\nFive six # seven\n\nEight nine ..."
    row = quality_v2(deduped([body])).row(0, named=True)
    assert row["duplicate_line_share"] == 0.25
    assert row["line_punctuation_share"] == 0.75
    assert row["symbol_word_ratio"] == pytest.approx(2 / 13)
    # 13 words ("#" and "..." are none) of 51 letters; punctuation is not counted.
    assert row["mean_word_length"] == pytest.approx(51 / 13)


def test_quality_score_orders_clean_text_above_junk() -> None:
    scores = quality_v2(deduped([CLEAN, SYMBOLS, REPEATED, "", None]))["quality_score"]
    clean, symbols, repeated, empty, missing = scores.to_list()
    assert all(0.0 <= s <= 1.0 for s in scores.to_list())
    assert clean > 0.9
    assert clean > repeated
    assert clean > symbols
    assert symbols == repeated == empty == missing == 0.0


def test_short_text_is_marked_down_not_zeroed() -> None:
    short = quality_v2(deduped(["The mayor opened the new bridge on Monday morning."]))
    assert 0.0 < short["quality_score"][0] < 0.5


def test_a_truncated_body_scores_half_of_the_same_complete_body() -> None:
    complete, truncated = quality_v2(deduped([CLEAN, CLEAN], body_truncated=[False, True]))[
        "quality_score"
    ].to_list()
    assert complete > 0.9
    assert truncated == pytest.approx(complete * TRUNCATED_FACTOR, abs=1e-4)


def test_a_teasers_marker_is_not_counted_as_a_symbol() -> None:
    teaser = CLEAN + " … [+2140 chars]"
    row = quality_v2(deduped([teaser], body_truncated=[True])).row(0, named=True)
    assert row["symbol_word_ratio"] == 0.0


def test_chinese_text_is_measured_by_its_characters() -> None:
    short, long = quality_v2(
        deduped(["北京市政府周三宣布了新的交通计划。", "北京市政府周三宣布了新的交通计划。" * 5])
    )["quality_score"].to_list()
    assert 0.0 < short < long  # 16 characters are marked down as 16 words would be
    assert long == 1.0


# An invented Korean news paragraph: spaced words that carry their particles.
KOREAN = (
    "서울시는 내년 3월부터 시내버스 노선 열두 개를 새로 개편한다고 월요일 밝혔다. 시는 출퇴근 "
    "시간대 혼잡을 줄이기 위해 배차 간격을 줄이고 지하철역과 연결되는 노선을 늘릴 계획이다. "
    "시민 단체들은 이번 개편이 외곽 지역 주민들의 불편을 키울 수 있다며 우려를 나타냈다. "
    "시 관계자는 주민 설명회를 열어 의견을 충분히 듣겠다고 말했다."
)


def test_korean_news_is_not_scored_as_junk() -> None:
    row = quality_v2(deduped([KOREAN])).row(0, named=True)
    # Particles are glued to their words: no stop word stands alone (quality_v1 gave 0).
    assert row["stop_word_ratio"] is None
    assert row["mean_word_length"] is None
    assert row["quality_score"] > 0.9


def test_stop_words_follow_the_language() -> None:
    out = quality_v2(deduped([GERMAN, FRENCH, "北京市政府周三宣布了新的交通计划。"]))
    german, french, chinese = out["stop_word_ratio"].to_list()
    assert german > 0.25  # German and French stop words were counted
    assert french > 0.25
    assert chinese is None  # no spaces between words: not measured, not penalised


@pytest.mark.parametrize(
    ("x", "bad", "good", "expected"),
    [(0, 0, 50, 0.0), (25, 0, 50, 0.5), (80, 0, 50, 1.0), (0.2, 0.3, 0.1, 0.5)],
)
def test_ramp(x: float, bad: float, good: float, expected: float) -> None:
    assert pl.select(ramp(pl.lit(x), bad, good)).item() == pytest.approx(expected)


# -- the registry --------------------------------------------------------------------


def test_enricher_columns_are_exactly_the_enriched_contract() -> None:
    added = [c for e in ENRICHERS.values() for c in e.columns]
    assert len(added) == len(set(added))
    assert set(added) == set(enriched_schema().names()) - set(DEDUPED.names()) - {"published_month"}
    assert all(name.rsplit("_v", 1)[1].isdigit() for name in ENRICHERS)


def test_enrich_frame_adds_columns_and_never_changes_the_article() -> None:
    rows = deduped([ENGLISH, GERMAN, ""], url=["https://www.example.org/a", None, None])
    out = enrich_frame(rows)
    assert out.schema == enriched_schema()
    assert out.select(DEDUPED.names()).equals(rows)
    assert out["language"].to_list() == ["en", "de", None]
    assert out["published_month"].to_list() == ["2021-12"] * 3


def test_a_run_selects_enrichers_by_name() -> None:
    seconds: dict[str, float] = {}
    picked = select_enrichers(["dateline_v2", "counts_v2"])
    assert [e.name for e in picked] == ["counts_v2", "dateline_v2"]  # registry order
    out = enrich_frame(deduped([ENGLISH]), picked, seconds)
    assert set(seconds) == {"counts_v2", "dateline_v2"}
    row = out.row(0, named=True)
    assert row["dateline_agency"] == "Reuters"
    assert row["word_count"] > 0
    unselected = [c for e in ENRICHERS.values() if e not in picked for c in e.columns]
    assert all(row[c] is None for c in unselected)
    assert out.schema == enriched_schema()


def test_unknown_enricher_names_fail() -> None:
    with pytest.raises(ValueError, match="unknown enrichers \\['language_v9'\\]"):
        select_enrichers(["counts_v2", "language_v9"])


def test_a_replaced_enricher_name_fails_naming_its_successor() -> None:
    with pytest.raises(ValueError, match="replaced: keywords_v1 -> keywords_v2"):
        select_enrichers(["counts_v2", "keywords_v1"])


def test_each_enricher_reads_the_body_it_declares() -> None:
    from tasks.enrich import read_by
    from tasks.enrichers import keywords, language

    declared = {e.name: e.body_chars for e in ENRICHERS.values()}
    assert declared["language_v2"] == language.MAX_CHARS
    assert declared["keywords_v2"] == keywords.BODY_CHARS
    assert declared["source_v2"] == 0  # reads the URL and site name, not the body
    rows = deduped(["x" * 5000])
    for enricher in ENRICHERS.values():
        body = read_by(enricher, rows)["body"][0]
        assert len(body) == min(
            5000, enricher.body_chars if enricher.body_chars is not None else 5000
        )


def test_enriched_files_record_the_enricher_versions(tmp_path: Path) -> None:
    from tasks.enrich import enricher_metadata

    picked = select_enrichers(["counts_v2", "language_v2"])
    out = enrich_frame(deduped([ENGLISH]), picked)
    [path] = Lake(tmp_path).write(out, "enriched", "b", "r", metadata=enricher_metadata(picked))
    meta = pq.read_schema(path).metadata
    assert meta[b"newsflow.enrichers"] == b"counts_v2,language_v2"
    models = json.loads(meta[b"newsflow.enricher_models"])
    assert list(models) == ["language_v2"]
    assert models["language_v2"].startswith("py3langid==")
    assert meta[b"newsflow.run_id"] == b"r"  # the standard keys are still there


def test_files_of_a_retired_enricher_or_older_schema_are_outdated(tmp_path: Path) -> None:
    from tasks.enrich import enricher_metadata, outdated_batches

    lake = Lake(tmp_path)
    picked = select_enrichers(["counts_v2"])
    out = enrich_frame(deduped([ENGLISH]), picked)
    current = enricher_metadata(picked)
    lake.write(out, "enriched", "subset", "r", metadata=current)
    lake.write(
        out,
        "enriched",
        "retired",
        "r",
        metadata={**current, "newsflow.enrichers": "counts_v2,entities_v1"},
    )
    [old] = lake.write(out, "enriched", "old_schema", "r", metadata=current)
    table = pq.read_table(old)
    meta = {**(table.schema.metadata or {}), b"newsflow.schema_version": b"1"}
    pq.write_table(table.replace_schema_metadata(meta), old)
    assert outdated_batches(lake) == {"retired", "old_schema"}


def rows_of(schema: pl.Schema, **columns: list[str | None]) -> pl.DataFrame:
    """A frame of `schema` holding these columns; every other column null."""
    given = pl.DataFrame(columns, schema={c: pl.String for c in columns})
    return given.select(
        pl.col(c) if c in columns else pl.lit(None, t).alias(c) for c, t in schema.items()
    )


def test_site_name_of_an_older_record_comes_from_any_copy_in_the_lake(tmp_path: Path) -> None:
    # deduped/ files written before records carried site_name.
    lake = Lake(tmp_path)
    cleaned = rows_of(
        CLEANED, doc_id=["kept", "copy", "other"], site_name=[None, "Daijiworld", None]
    )
    lake.write(cleaned, "cleaned", "b", "r")
    lake.write(rows_of(DUPLICATES, doc_id=["copy"], kept_doc_id=["kept"]), "duplicates", "b", "r")
    rows = deduped([ENGLISH, GERMAN]).with_columns(doc_id=pl.Series(["kept", "other"]))
    rows = rows.drop("site_name")
    assert with_site_names(rows, lake)["site_name"].to_list() == ["Daijiworld", None]


def test_cheap_enrichers_never_import_spacy() -> None:
    # Importing spaCy costs ~1 s per process (and per enrich worker); only NER needs it.
    # (wordfreq, ~0.2 s, is imported by the entities gazetteer at module import.)
    script = (
        "import sys, polars as pl\n"
        "from flows.pipeline import newsflow_pipeline\n"
        "from tasks.enrich import enrich_frame, select_enrichers\n"
        "from tasks.enrichers.quality import stop_words\n"
        "assert len(stop_words('en')) > 300 and len(stop_words('de')) > 300\n"
        "assert 'spacy' not in sys.modules, 'spacy was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_enricher_module_is_found_and_runs_in_position_order() -> None:
    import pkgutil

    import tasks.enrichers
    from tasks.enrichers import registered

    modules = [m.name for m in pkgutil.iter_modules(tasks.enrichers.__path__)]
    declaring = [
        m for m in modules if hasattr(importlib.import_module(f"tasks.enrichers.{m}"), "ENRICHER")
    ]
    assert {e.name for e in registered()} == {
        importlib.import_module(f"tasks.enrichers.{m}").ENRICHER.name for m in declaring
    }
    assert "workers" in modules
    assert "workers" not in declaring  # a helper module is no enricher
    positions = [e.position for e in registered()]
    assert positions == sorted(positions)
    assert list(ENRICHERS) == [e.name for e in registered()]


def test_the_enriched_contract_is_the_base_then_each_enrichers_declared_columns() -> None:
    from newsflow.schema import ENRICHED_BASE, descriptions

    declared = [(c.name, c.dtype) for e in ENRICHERS.values() for c in e.output]
    assert list(enriched_schema().items()) == [*ENRICHED_BASE.items(), *declared]
    meaning = descriptions()
    assert all(meaning[c.name] == c.description for e in ENRICHERS.values() for c in e.output)


def test_no_names_selects_the_default_enrichers_and_an_opt_in_one_only_by_name() -> None:
    from tasks.enrich import DEFAULT_ENRICHERS

    assert [e.name for e in select_enrichers()] == list(DEFAULT_ENRICHERS)
    assert [e.name for e in select_enrichers(None)] == [
        n for n, e in ENRICHERS.items() if e.default
    ]
    for name in set(ENRICHERS) - set(DEFAULT_ENRICHERS):
        assert [e.name for e in select_enrichers([name])] == [name]


def test_two_enrichers_with_one_position_or_name_are_refused() -> None:
    from dataclasses import replace

    from tasks.enrichers import in_order

    counts, source = ENRICHERS["counts_v2"], ENRICHERS["source_v2"]
    assert in_order([source, counts]) == (counts, source)
    with pytest.raises(ValueError, match="position"):
        in_order([counts, replace(source, position=counts.position)])
    with pytest.raises(ValueError, match="name"):
        in_order([counts, replace(source, name=counts.name)])


def test_replaced_names_come_from_the_enrichers_declarations() -> None:
    from tasks.enrich import REPLACED

    assert {old: e.name for e in ENRICHERS.values() for old in e.replaces} == REPLACED
    assert REPLACED["entities_v1"] == REPLACED["entities_v2"] == "entities_v3"
