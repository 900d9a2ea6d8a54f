"""pii_v1: an opt-in enricher in one file, found and run through the enrich stage."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.schema import DEDUPED, enriched_schema
from tasks.enrich import DEFAULT_ENRICHERS, ENRICHERS, enrich_frame, select_enrichers
from tasks.enrichers.pii import NAME, pii_v1


def counts(body: str | None) -> tuple[int, int, int]:
    row = pii_v1(pl.DataFrame({"body": [body]}, schema={"body": pl.String})).row(0)
    return row[0], row[1], row[2]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Readers may write to letters@example-paper.co.uk or j.roe+tips@example.org.", (2, 0, 0)),
        ("The helpline is 0800 123 456 and the desk 020 7946 0958.", (0, 2, 0)),
        ("Call +44 20 7946 0000, +1-202-555-0143 or (202) 555-0143.", (0, 3, 0)),
        ("Her office, 202-555-0143, did not answer; nor did 202.555.0143.", (0, 2, 0)),
        ("The server at 192.0.2.1 logged 10.0.0.255 twice.", (0, 0, 2)),
    ],
)
def test_contact_details_are_counted(body: str, expected: tuple[int, int, int]) -> None:
    assert counts(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "Follow @harbour_desk for updates.",  # a handle, no address
        "Sales rose from 1,200,000 to 1,350,000 in 2004-2005.",  # amounts, a span of years
        "The team won 3-1; the reference is 20794600000.",  # a score, a bare digit run
        "Version 1.2.3 shipped; turnover was 12 345 678 euros.",
        "On 01 02 2005 the index fell 0.5 per cent.",
        "",
        None,
    ],
)
def test_numbers_that_are_no_contact_details_count_nothing(body: str | None) -> None:
    assert counts(body) == (0, 0, 0)


@given(st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=200))
def test_adding_an_address_adds_exactly_one(text: str) -> None:
    emails, phones, addresses = counts(text)
    assert counts(f"{text} Write to desk@example.org or call 020 7946 0958.") == (
        emails + 1,
        phones + 1,
        addresses,
    )


def test_it_is_opt_in_and_its_columns_join_the_contract_null_by_default() -> None:
    assert NAME in ENRICHERS
    assert NAME not in DEFAULT_ENRICHERS
    row = dict.fromkeys(DEDUPED.names()) | {"doc_id": "a", "body": "Mail tips@example.org."}
    rows = pl.DataFrame([row], schema=DEDUPED)
    without = enrich_frame(rows, select_enrichers(["counts_v2"]))
    chosen = enrich_frame(rows, select_enrichers(["counts_v2", NAME]))
    assert without.schema == chosen.schema == enriched_schema()
    assert without["email_count"].to_list() == [None]
    assert chosen["email_count"].to_list() == [1]
    assert chosen["word_count"].to_list() == [2]  # counts_v2 ran beside it
