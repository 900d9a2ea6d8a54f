"""tasks.authors: a source's author field -> a list of names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.authors import ROLE_WORDS, author_names, tag_list

# A name: one to three capitalised words, none of them a separator, a role or "By".
WORD = st.from_regex(r"[A-Z][a-z\u00e0-\u00ff'\-]{1,9}", fullmatch=True).filter(
    lambda w: w.casefold() not in {*ROLE_WORDS, "and", "by"}
)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
SEPARATOR = st.sampled_from([", ", ",", "; ", " ; ", " & ", "&", " and ", " AND ", "  and\n"])


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("Ada Quill", ["Ada Quill"]),
        ("Ada Quill and Ben Marsh", ["Ada Quill", "Ben Marsh"]),
        (
            "Ada Quill, Ben Marsh & Cora Vale; Dev Okafor",
            ["Ada Quill", "Ben Marsh", "Cora Vale", "Dev Okafor"],
        ),
        ("By Ada Quill", ["Ada Quill"]),
        ("BY: Ada Quill and by Ben Marsh", ["Ada Quill", "Ben Marsh"]),
        ("Sandy Anderson", ["Sandy Anderson"]),  # "and" inside a word is no separator
        ("Byron Ames", ["Byron Ames"]),
        ("Ada Quill, Staff Writer", ["Ada Quill, Staff Writer"]),
        ("Grant Tinsley, PhD and Ben Marsh", ["Grant Tinsley, PhD", "Ben Marsh"]),
        ("Ada Quill, Ada Quill", ["Ada Quill"]),
        ("  Ada   Quill \n", ["Ada Quill"]),
        (["Ada Quill", "Ben Marsh and Cora Vale"], ["Ada Quill", "Ben Marsh", "Cora Vale"]),
        ([" , ", "", None, 5], []),
        (None, []),
        ("", []),
    ],
)
def test_author_names(field: object, names: list[str]) -> None:
    assert author_names(field) == names


def test_tag_list() -> None:
    assert tag_list("ports, ferries;harbour, ports,") == ["ports", "ferries", "harbour"]
    assert tag_list([" ports ", "ferries, harbour", 3, None]) == ["ports", "ferries", "harbour"]
    assert tag_list(None) == []


@given(names=st.lists(NAME, min_size=1, max_size=6, unique=True), data=st.data())
def test_names_joined_by_any_separators_come_back_in_order(
    names: list[str], data: st.DataObject
) -> None:
    separators = data.draw(st.lists(SEPARATOR, min_size=len(names) - 1, max_size=len(names) - 1))
    prefix = data.draw(st.sampled_from(["", "By ", "by: "]))
    field = prefix + names[0] + "".join(s + n for s, n in zip(separators, names[1:], strict=True))
    assert author_names(field) == names


@given(st.one_of(st.text(max_size=80), st.lists(st.text(max_size=30), max_size=4)))
def test_splitting_is_idempotent_and_keeps_names_as_written(field: str | list[str]) -> None:
    names = author_names(field)
    assert author_names(names) == names
    assert len(set(names)) == len(names)
    parts = [field] if isinstance(field, str) else field
    joined = " ".join(" ".join(part.split()) for part in parts)
    for name in names:
        assert name
        assert name == name.strip()
        # Every name is text of the field (whitespace collapsed), never invented.
        assert all(word in joined for word in name.replace(",", " ").split())
