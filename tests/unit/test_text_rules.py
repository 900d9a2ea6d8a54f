"""The shared text rules (newsflow/text_rules.py): the stored hashes keep their byte
orders, dedupe's word count keeps its script set, and the dateline months differ only
where they are meant to."""

from __future__ import annotations

from hashlib import blake2b

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.text_rules import (
    DATELINE_MONTH,
    FINGERPRINT_UNSPACED_SCRIPTS,
    PROTECTED_DATELINE_MONTH,
    ByteOrder,
    hash64,
    stable_hash,
    word_rule,
)
from tasks.boilerplate import line_hash
from tasks.fingerprints import normalised, title_key


def blake2b_int(text: str, byte_order: ByteOrder) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), byte_order)


def one(expr: pl.Expr) -> object:
    return pl.select(expr).item()


@pytest.mark.parametrize("text", ["Copyright 2017 Example Ltd.", "東京で会議", "a"])
def test_the_stored_hashes_keep_their_byte_orders(text: str) -> None:
    # line_stats/ holds big-endian line hashes, dedupe_index/ little-endian keys: a
    # change of order would make every stored value miss the new ones.
    key = text.lower().replace("2017", "0")
    assert one(line_hash(pl.lit(text))) == blake2b_int(key, "big")
    folded = one(normalised(pl.lit(text)))
    assert isinstance(folded, str)
    assert one(title_key(pl.lit(text))) == blake2b_int(folded, "little")


@given(st.text(max_size=40))
def test_stable_hash_is_hash64_of_each_value(text: str) -> None:
    frame = pl.DataFrame({"t": [text, None]})
    hashed = frame.select(big=stable_hash(pl.col("t"), "big"))["big"].to_list()
    assert hashed == [hash64(text, "big"), None]
    assert hash64(text, "big") == blake2b_int(text, "big")
    assert hash64(text, "little") == blake2b_int(text, "little")


# What dedupe counted a normalised body's words with before the rule moved here.
_OLD_FINGERPRINT_WORD = rf"[{FINGERPRINT_UNSPACED_SCRIPTS}]|[^\s{FINGERPRINT_UNSPACED_SCRIPTS}]+"
PIECES = st.sampled_from(
    list("Mayor spoke 2024 東京で会議タクシーー รัฐบาล ཀཁག 서울 Москва ١٢ ., \n")
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=60)))
def test_the_fingerprint_word_rule_counts_normalised_bodies_as_before(text: str) -> None:
    body = normalised(pl.lit(text, dtype=pl.String))
    counts = pl.select(
        new=body.str.count_matches(word_rule(FINGERPRINT_UNSPACED_SCRIPTS)),
        old=body.str.count_matches(_OLD_FINGERPRINT_WORD),
    ).row(0)
    assert counts[0] == counts[1]


def whole(pattern: str, text: str) -> bool:
    return bool(one(pl.lit(text).str.contains(f"^(?:{pattern})$")))


@pytest.mark.parametrize("month", ["Dec", "Dec.", "December", "Sept", "Sept.", "May"])
def test_both_dateline_months_read_the_usual_forms(month: str) -> None:
    assert whole(DATELINE_MONTH, month)
    assert whole(PROTECTED_DATELINE_MONTH, month)


@pytest.mark.parametrize("month", ["dec", "DEC 8", "Monday"])
def test_neither_dateline_month_reads_other_words(month: str) -> None:
    assert not whole(DATELINE_MONTH, month)
    assert not whole(PROTECTED_DATELINE_MONTH, month)


def test_the_dateline_months_differ_where_named() -> None:
    # Protection keeps any letters (up to six more); extraction only lower-case ASCII.
    assert whole(PROTECTED_DATELINE_MONTH, "Decémbre") is True
    assert whole(DATELINE_MONTH, "Decémbre") is False
    assert whole(DATELINE_MONTH, "Marchioness") is True
    assert whole(PROTECTED_DATELINE_MONTH, "Marchioness") is False
