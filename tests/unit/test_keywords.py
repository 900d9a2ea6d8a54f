"""keywords_v2 on small invented texts: what becomes a key phrase, what never does, and
that an article's keywords do not depend on the batch it comes in."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.schema import DEDUPED
from tasks.enrich import ENRICHERS, enrich_frame, read_by, select_enrichers
from tasks.enrichers import keywords as kw
from tasks.enrichers.keywords import keywords, keywords_v2
from tasks.truncation import readable_body as readable_expr

STORY = (
    "The harbour authority of Port Velmar closed the northern quay on Monday after "
    "inspectors found cracks in the sea wall, harbour master Edith Calloway said.\n\n"
    "Calloway said repairs to the sea wall could take six weeks. Fishing boats will use "
    "the southern quay until then, and ferry timetables will change.\n\n"
    "Local fishermen said the closure would cost them dearly. Calloway promised "
    "compensation for lost catches once the sea wall is safe again."
)
TITLE = "Cracks in sea wall close Port Velmar quay"

ARTICLES = [
    (TITLE, STORY, False, "en"),
    (
        "Orchard growers fear late frost",
        "Apple growers in the Tavren valley fear a late frost will damage blossom. "
        "Growers said frost nets were sold out. The Tavren Growers Association asked "
        "the county for emergency help with frost protection.",
        False,
        "en",
    ),
    (
        "Stadtrat beschließt neuen Radweg",
        "Der Stadtrat von Kellbach hat am Dienstag einen neuen Radweg entlang der Uferstraße "
        "beschlossen. Der Radweg soll im Frühjahr fertig sein, sagte Bürgermeisterin Anna "
        "Rehberg. Anwohner hatten den Radweg seit Jahren gefordert.",
        False,
        "de",
    ),
    ("", "", False, None),
    (
        "Teaser",
        "The Velmar ferry company said ticket prices would rise by a fifth next month, and "
        "the harbour auth… [+2104 chars]",
        True,
        "en",
    ),
]


def frame_of(articles: list[tuple[str, str, bool, str | None]]) -> pl.DataFrame:
    """Deduped rows of these (title, body, truncated, language) articles."""
    n = len(articles)
    rows: dict[str, list[object]] = {
        "doc_id": [f"d{i}" for i in range(n)],
        "title": [a[0] for a in articles],
        "body": [a[1] for a in articles],
        "body_truncated": [a[2] for a in articles],
        "published_date": [dt.date(2021, 12, 8)] * n,
    }
    deduped = pl.DataFrame(
        {c: rows.get(c, [None] * n) for c in DEDUPED.names()}, schema=DEDUPED
    ).with_columns(source_files=pl.lit([], pl.List(pl.String)))
    return deduped.with_columns(language=pl.Series([a[3] for a in articles], dtype=pl.String))


def test_title_and_lead_decide_and_names_come_whole() -> None:
    found = keywords(TITLE, STORY, "en")
    assert 3 <= len(found) <= kw.TOP
    assert {"Port Velmar", "sea wall", "Edith Calloway"} <= set(found)
    # Her surname alone is counted for the full name, not listed again; the title before
    # her name ("harbour master") is not part of it.
    assert "Calloway" not in found
    # Common words ("said", "will") and stop words are never key phrases.
    assert not {"said", "will", "the", "Monday"} & {w for k in found for w in k.split()}


def test_other_languages_use_their_own_word_list() -> None:
    (_, body, _, _) = ARTICLES[2]
    found = keywords(ARTICLES[2][0], body, "de")
    assert "Radweg" in found
    assert not {"der", "den", "hat", "am"} & {w.casefold() for k in found for w in k.split()}


def test_a_language_without_a_word_list_still_gets_keywords() -> None:
    # Frisian (fy): no wordfreq table; frequency and position alone decide.
    body = "De gemeente Dokkum hat de nije brêge iepene. De brêge wie lang ticht."
    found = keywords("Nije brêge", body, "fy")
    assert any("brêge" in k for k in found)
    assert "De" not in found


@pytest.mark.parametrize("language", [None, "zh", "ja"])
def test_no_language_or_an_unspaced_script_gives_no_keywords(language: str | None) -> None:
    assert keywords("标题", "北京市政府周三宣布了新的交通计划。", language) == []


def readable_body(body: str, *, truncated: bool) -> str:
    """What keywords_v2 reads of one body (the enrichers' shared rule)."""
    frame = pl.DataFrame({"body": [body], "truncated": [truncated]})
    return str(frame.select(readable_expr(pl.col("body"), pl.col("truncated"))).item())


@pytest.mark.parametrize(
    ("body", "readable"),
    [
        (
            "Prices rose sharply on Monday, the gover… [+1197 chars]",
            "Prices rose sharply on Monday, the",
        ),
        (
            "Prices rose sharply on Monday, the gover... [+1197 chars]",
            "Prices rose sharply on Monday, the",
        ),
        (
            "Prices rose sharply on Monday, the government said …",
            "Prices rose sharply on Monday, the government",
        ),
        ("Prices rose sharply. Read more", "Prices rose sharply."),
        ("Prices rose sharply on Monday as the govern", "Prices rose sharply on Monday as the"),
    ],
)
def test_a_truncated_body_loses_its_marker_and_cut_word(body: str, readable: str) -> None:
    assert readable_body(body, truncated=True) == readable


def test_a_complete_body_keeps_its_last_word() -> None:
    assert readable_body("The quay reopened on Friday", truncated=False) == (
        "The quay reopened on Friday"
    )


def test_truncation_markers_are_never_keywords() -> None:
    body = (
        "Velmar ferry fares will rise next month, the Velmar ferry company said, blaming "
        "fuel. Ferry passengers protested at the harbou… [+2104 chars]"
    )
    found = keywords_v2(frame_of([("Ferry fares rise", body, True, "en")]))["keywords"][0]
    words = {w.casefold() for k in found for w in k.split()}
    assert "Velmar" in " ".join(found)
    assert not words & {"chars", "harbou", "…", "[+2104"}


def test_words_glued_to_digits_are_never_keywords() -> None:
    body = "Profits rose to $1.13bn. The 28-year-old chief said profits of 3bn were likely."
    found = keywords("Profits rise", body, "en")
    assert not {"bn", "year-old"} & {w for k in found for w in k.split()}


PIECES = [*"abcdefgh KLMN.,’'-1\n", "Velmar ", "sea wall ", "harbour ", "…", " [+12 chars]"]
ARTICLE = st.tuples(
    st.sampled_from([a[0] for a in ARTICLES] + ["Kite festival"]),
    st.lists(st.sampled_from(PIECES), max_size=120).map("".join)
    | st.sampled_from([a[1] for a in ARTICLES]),
    st.booleans(),
    st.sampled_from(["en", "de", "fy", None]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ARTICLE, min_size=1, max_size=12), st.data())
def test_keywords_are_the_same_however_the_rows_are_batched(
    articles: list[tuple[str, str, bool, str | None]], data: st.DataObject
) -> None:
    frame = frame_of(articles)
    whole = keywords_v2(frame)["keywords"].to_list()
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, frame.height - 1)), max_size=4)))
    bounds = [0, *[c for c in cuts if c < frame.height], frame.height]
    parts = [frame.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]
    shuffled = data.draw(st.permutations(range(len(parts))))
    by_part = {i: keywords_v2(parts[i])["keywords"].to_list() for i in shuffled}
    assert [k for i in range(len(parts)) for k in by_part[i]] == whole


def test_enrich_frame_gives_keywords_the_body_it_declares() -> None:
    enricher = ENRICHERS[kw.NAME]
    assert enricher.body_chars == kw.BODY_CHARS
    long = frame_of([("Title", "word " * kw.BODY_CHARS, False, "en")])
    assert read_by(enricher, long)["body"].str.len_chars()[0] == kw.BODY_CHARS
    out = enrich_frame(long, select_enrichers([kw.NAME]))
    assert out["keywords"].equals(keywords_v2(read_by(enricher, long))["keywords"])


def test_keywords_are_the_same_in_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Enough rows for map_chunks to use worker processes (spawned, each with its own
    # wordfreq table), against the same rows in this process.
    from tasks.enrichers import workers

    frame = frame_of([ARTICLES[i % len(ARTICLES)] for i in range(workers.MIN_ROWS)])
    monkeypatch.setenv(workers.WORKERS_ENV, "1")
    in_process = keywords_v2(frame)
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    try:
        in_workers = keywords_v2(frame)
        assert workers._pool is not None  # the rows did go to worker processes
    finally:
        if workers._pool is not None:
            workers._discard(workers._pool)
    assert in_workers.equals(in_process)
    assert in_process["keywords"].list.len().sum() > 0


def test_addresses_and_repeated_words_are_never_keywords() -> None:
    body = (
        "Sightings poured in to meteors.com and to jane@skywatch.org overnight, and "
        "skywatch.org said sightings of the meteor came from six states. Meteor Meteor "
        "sightings were logged until dawn, when the meteor sightings stopped."
    )
    found = keywords("Meteor sightings", body, "en")
    words = {w.casefold() for k in found for w in k.split()}
    assert "meteor" in words  # the topic is found...
    assert not words & {"com", "org", "jane", "skywatch"}  # ...addresses are not
    assert "Meteor Meteor" not in found
