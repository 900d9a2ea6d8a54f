"""A lake's slug (run names) and the name of its concurrency limit (one run per lake)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.lake_names import LIMIT_PREFIX, lake_limit_name, lake_slug, slug


def test_an_unnamed_lake_is_named_after_its_last_two_folders(tmp_path: Path) -> None:
    assert lake_slug("/srv/News Data/Lake_2026") == "news-data-lake-2026"
    assert lake_slug(tmp_path / "nightly" / "lake") == "nightly-lake"
    assert lake_slug("s3://bucket/newsflow/lake/") == "newsflow-lake"


def test_a_configured_name_wins() -> None:
    assert lake_slug("/srv/news/lake", "Production EU") == "production-eu"
    assert lake_limit_name("/srv/news/lake", "Production EU") == f"{LIMIT_PREFIX}production-eu"
    # A name with nothing to slug is no name.
    assert lake_slug("/srv/news/lake", "!!") == "news-lake"


def test_lakes_that_end_alike_get_their_own_limits(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "news" / "lake", tmp_path / "b" / "news" / "lake"
    assert lake_slug(one) == lake_slug(two)
    assert lake_limit_name(one) != lake_limit_name(two)
    assert lake_limit_name(one).startswith(f"{LIMIT_PREFIX}news-lake-")


def test_a_relative_path_names_the_same_lake_as_its_absolute_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert lake_limit_name("data/lake") == lake_limit_name(tmp_path / "data" / "lake")


@given(st.text())
def test_a_slug_is_lower_case_letters_digits_and_single_dashes(text: str) -> None:
    made = slug(text)
    assert all(c.isascii() and (c.isdigit() or c.islower() or c == "-") for c in made)
    assert "--" not in made
    assert not made.startswith("-")
    assert not made.endswith("-")
    assert slug(made) == made
