"""entities_v3's rules on small invented texts.

Most tests hand `entity_records` the NER spans themselves (start, end, label per line),
so each pins one rule whatever the model would say; a few run the real model.
"""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.schema import enriched_schema
from tasks.enrichers.entities import (
    entities_v3,
    entity_records,
    entity_rows,
    is_results_line,
    lines_of,
    may_name,
)
from tests.unit.test_enrich import deduped

Spans = list[tuple[int, int, str]]


def spans(line: str, *named: tuple[str, str]) -> Spans:
    """NER spans for the first occurrence of each (text, label) in `line`."""
    out = []
    for text, label in named:
        start = line.index(text)
        out.append((start, start + len(text), label))
    return out


def records(title: str, body: str, *per_line: Spans) -> list[dict[str, object]]:
    """entity_records over `title` + `body`, with the given spans per line (title first
    when there is one; lines without spans given get none)."""
    lines = lines_of(title, body)
    docs = [*per_line, *[[] for _ in range(len(lines) - len(per_line))]]
    return entity_records(title, body, docs)


def typed(found: list[dict[str, object]]) -> set[tuple[object, object]]:
    return {(r["text"], r["type"]) for r in found}


# -- lines and spans -------------------------------------------------------------------


def test_each_paragraph_is_read_on_its_own_with_its_offset() -> None:
    body = "Anna Moss spoke here.\n\nApex Corp did too."
    lines = lines_of("The title", body)
    assert [(line.text, line.offset) for line in lines] == [
        ("The title", None),
        ("Anna Moss spoke here.", 0),
        ("Apex Corp did too.", 23),
    ]


def test_only_sentences_that_could_hold_a_name_are_read_at_their_offsets() -> None:
    body = (
        "It was late. The talks in Geneva ended. Then it stopped. But Anna Moss did.\n"
        "it rained all day.\n"
        "Australia will play three matches."
    )
    read = [(line.text, line.offset) for line in lines_of("", body)]
    assert read == [
        ("The talks in Geneva ended.", body.index("The talks")),
        ("But Anna Moss did.", body.index("But Anna")),
        ("Australia will play three matches.", body.index("Australia")),
    ]


def test_a_capital_anywhere_but_a_common_opening_word_may_start_a_name() -> None:
    assert may_name("Australia will play.")  # a country opening the sentence
    assert may_name("the head of Apex spoke.")
    assert may_name('"Moss said so," he added.')
    assert not may_name("The talks ended.")
    assert not may_name('"It was late," he said.')
    assert not may_name("there was nothing to add.")


def test_a_line_in_capitals_or_of_results_is_read_whole() -> None:
    body = "THE MARKET CLOSED. IT FELL.\nAtlanta 5 Houston 3. It was over."
    assert [line.text for line in lines_of("", body)] == body.split("\n")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Kiev", "it", "The", "said", "Anna Moss", ".", "!", "\n", "rain", '"']),
        min_size=1,
        max_size=40,
    )
)
def test_every_capital_but_an_opening_common_word_is_read_where_it_stands(
    words: list[str],
) -> None:
    body = " ".join(words)
    lines = [line for line in lines_of("", body) if line.offset is not None]
    for line in lines:
        start = line.offset
        assert start is not None
        assert body[start : start + len(line.text)] == line.text
    covered = {
        i
        for line in lines
        if line.offset is not None
        for i in range(line.offset, line.offset + len(line.text))
    }
    for name in re.finditer(r"Kiev|Anna Moss", body):
        assert name.start() in covered


def test_a_span_is_cut_at_a_sentence_end_and_loses_number_tokens() -> None:
    line = "Talks ended early. Borislav Kemp left. Durham 114 all out"
    found = records("", line, spans(line, ("early. Borislav Kemp", "PERSON")))
    assert ("Borislav Kemp", "person") in typed(found)
    assert not any("." in str(r["text"]) or "early" in str(r["text"]) for r in found)


def test_no_entity_crosses_a_paragraph_break_with_the_real_model() -> None:
    body = (
        "The contract was signed on Monday by Helena Castellano\n\n"
        "Meanwhile Vostok Industries said its profits had fallen sharply."
    )
    found = entity_rows([("", body)])[0]
    assert found, "the model found nothing: the test would pass vacuously"
    for r in found:
        assert "\n" not in str(r["text"])
        assert not {"Castellano", "Meanwhile"} <= set(str(r["text"]).split())


def test_all_capitals_body_lines_are_read_title_cased_but_names_keep_their_case() -> None:
    found = entity_rows([("", "LONDON 2024-05-01\n\nThe minister resigned on Friday.")])[0]
    assert ("LONDON", "place") in typed(found)


# -- types: gazetteer and context ------------------------------------------------------


def test_the_gazetteer_turns_cities_the_model_calls_people_into_places() -> None:
    body = "Officials in Lisbon spoke of Kiev and Geneva. Kiev answered."
    found = records("", body, spans(body, ("Kiev", "PERSON"), ("Geneva", "PERSON")))
    assert {("Kiev", "place"), ("Geneva", "place")} <= typed(found)
    assert not [r for r in found if r["type"] == "person"]


def test_a_country_the_model_calls_an_organisation_is_a_place() -> None:
    body = "The talks with Moldova resumed."
    assert typed(records("", body, spans(body, ("Moldova", "ORG")))) == {("Moldova", "place")}


def test_a_person_after_a_place_preposition_or_with_a_place_word_is_a_place() -> None:
    body = "Trains between Bramley Vale and the coast stop. The harbour at Orrin Cove is shut."
    line = spans(body, ("Bramley Vale", "PERSON"), ("Orrin Cove", "PERSON"))
    assert typed(records("", body, line)) == {("Bramley Vale", "place"), ("Orrin Cove", "place")}


def test_a_city_named_before_a_score_on_a_results_line_is_a_team() -> None:
    prose = "Fans in Atlanta celebrated."
    results = "Atlanta 5 Houston 3"
    body = f"{prose}\n\n{results}\n\nKansas City 4 Colorado 2"
    found = records(
        "",
        body,
        spans(prose, ("Atlanta", "GPE")),
        spans(results, ("Atlanta", "GPE"), ("Houston", "GPE")),
        [],  # the model missed both teams of the third line
    )
    assert {
        ("Atlanta", "place"),
        ("Atlanta", "organization"),
        ("Houston", "organization"),
        ("Kansas City", "organization"),
        ("Colorado", "organization"),
    } == typed(found)


def test_results_lines_are_lines_of_numbers() -> None:
    assert is_results_line("Atlanta 5 Houston 3")
    assert is_results_line("Surrey 468 (C. Lewis 94, M. Butcher 70, G. Kersey 63).")
    assert not is_results_line("The index rose 2.5 percent on Friday to close the week higher.")


def test_a_person_with_an_initial_on_a_results_line_stays_a_person() -> None:
    line = "Norfolk 230 (J. Pardew 88, T. Olawale 41)"
    found = records("", line, spans(line, ("J. Pardew", "PERSON"), ("T. Olawale", "PERSON")))
    assert {("J. Pardew", "person"), ("T. Olawale", "person")} <= typed(found)


# -- junk --------------------------------------------------------------------------------


def test_junk_is_dropped() -> None:
    body = (
        "DOWNLOAD the app. Ministers met their allies and the Allies replied. "
        "The dialogue on Strategic Stability went on. Attendance was low. "
        "MagSafe chargers and the Nintendo Switch sold out, Nintendo said. Ooooh."
    )
    line = spans(
        body,
        ("DOWNLOAD", "ORG"),
        ("Allies", "ORG"),
        ("Strategic Stability", "ORG"),
        ("Attendance", "PERSON"),
        ("MagSafe", "PERSON"),
        ("Nintendo Switch", "PERSON"),
        ("Ooooh", "PERSON"),
    )
    company = body.index("Nintendo said")
    found = records("", body, [*line, (company, company + len("Nintendo"), "ORG")])
    assert typed(found) == {("Nintendo", "organization")}


def test_a_one_word_person_named_once_is_dropped_but_not_one_named_twice() -> None:
    body = "Ravensworth spoke first. Later Ravensworth spoke again. Then Quillon left."
    found = records(
        "",
        body,
        [(0, 11, "PERSON"), (31, 42, "PERSON"), (61, 68, "PERSON")],
    )
    assert typed(found) == {("Ravensworth", "person")}


# -- canonical forms, mentions, salience, offsets --------------------------------------------


def test_a_surname_joins_its_full_name_and_the_is_dropped() -> None:
    body = "Anna Velasquez visited the White House. Velasquez said Velasquez would return."
    line = spans(body, ("Anna Velasquez", "PERSON"), ("the White House", "ORG"))
    rest = [(m.start(), m.end(), "ORG") for m in re.finditer("Velasquez", body)][1:]
    found = records("", body, [*line, *rest])
    assert typed(found) == {("Anna Velasquez", "person"), ("White House", "organization")}
    assert next(r for r in found if r["type"] == "person")["mentions"] == 3


def test_salience_headline_then_lead_then_mentions() -> None:
    title = "Borne Dynamics wins contract"
    lead = "The deal was signed in Ostrava."
    later = "Mira Lenk praised it. Lenk said Tallis Group had bid. Mira Lenk, Tallis Group."
    body = f"{lead}\n\n{later}"
    found = records(
        title,
        body,
        spans(title, ("Borne Dynamics", "ORG")),
        spans(lead, ("Ostrava", "GPE")),
        [
            (m.start(), m.end(), label)
            for label, name in (("PERSON", "Mira Lenk"), ("ORG", "Tallis Group"))
            for m in re.finditer(name, later)
        ],
    )
    assert [r["text"] for r in found] == ["Borne Dynamics", "Ostrava", "Mira Lenk", "Tallis Group"]
    assert [r["mentions"] for r in found] == [1, 1, 2, 2]


def test_first_offset_points_at_the_first_mention_in_the_body_and_is_null_for_the_title() -> None:
    title = "Borne Dynamics wins contract"
    body = "Shares rose.\n\nThe firm hired Mira Lenk from Ostrava. Mira Lenk starts soon."
    second = body.split("\n\n")[1]
    found = records(
        title,
        body,
        spans(title, ("Borne Dynamics", "ORG")),
        [],
        [*spans(second, ("Mira Lenk", "PERSON"), ("Ostrava", "GPE")), (37, 46, "PERSON")],
    )
    by_text = {r["text"]: r["first_offset"] for r in found}
    assert by_text["Borne Dynamics"] is None
    for name in ("Mira Lenk", "Ostrava"):
        offset = by_text[name]
        assert isinstance(offset, int)
        assert body[offset : offset + len(name)] == name
        assert offset == body.index(name)


# -- the enricher's columns ---------------------------------------------------------------


def test_the_lists_are_the_entities_column_by_type_in_its_order() -> None:
    body = (
        "Prime Minister Margaret Holloway met President John Carver in Washington on "
        "Tuesday.\n\nHolloway and Carver discussed the European Union and NATO in Brussels."
    )
    out = entities_v3(deduped([body], title=["Holloway meets Carver"]))
    assert out.schema["entities"] == enriched_schema()["entities"]
    row = out.row(0, named=True)
    assert row["people"] == ["Margaret Holloway", "John Carver"]
    for column, kind in (("people", "person"), ("organizations", "organization")):
        assert row[column] == [e["text"] for e in row["entities"] if e["type"] == kind]
    assert row["places"] == [e["text"] for e in row["entities"] if e["type"] == "place"]
    assert {"Washington", "Brussels"} <= set(row["places"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Kiev", "Anna Moss", "said", "the", "3", "Apex Corp", ".", "\n\n"]),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["PERSON", "ORG", "GPE"]),
)
def test_offsets_always_point_into_the_body_at_the_name(words: list[str], label: str) -> None:
    body = " ".join(words).strip()
    lines = lines_of("", body)
    docs = [
        [(m.start(), m.end(), label) for m in re.finditer(r"[A-Z]\w+(?: [A-Z]\w+)?", line.text)]
        for line in lines
    ]
    for r in entity_records("", body, docs):
        offset, text = r["first_offset"], str(r["text"])
        assert isinstance(offset, int)
        # The first mention may be a short form of the name ("Moss" of "Anna Moss").
        first_word = re.match(r"\w+", body[offset:])
        assert first_word
        assert first_word.group() in text.split()
        assert "\n" not in text


def test_entities_of_non_english_rows_are_empty_lists() -> None:
    out = entities_v3(deduped(["Die Regierung in Berlin hat am Mittwoch getagt, sagte er.", None]))
    assert out["entities"].to_list() == [[], []]
    lists = {c: pl.List(pl.String) for c in ("people", "organizations", "places")}
    assert out.schema == pl.Schema({**lists, "entities": enriched_schema()["entities"]})


def test_an_honorific_and_surname_join_the_full_name() -> None:
    body = "Rhian Beynon spoke first. Ms Beynon said the plan would work."
    found = records("", body, spans(body, ("Rhian Beynon", "PERSON"), ("Ms Beynon", "PERSON")))
    assert [(r["text"], r["type"], r["mentions"]) for r in found] == [("Rhian Beynon", "person", 2)]


def test_a_one_word_organisation_named_once_after_a_place_preposition_is_dropped() -> None:
    body = "He condemned the attacks against Zelmora. The Kremlin and Vantor said nothing."
    line = spans(body, ("Zelmora", "ORG"), ("Kremlin", "ORG"), ("Vantor", "ORG"))
    assert typed(records("", body, line)) == {
        ("Kremlin", "organization"),
        ("Vantor", "organization"),
    }
