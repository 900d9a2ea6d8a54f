"""The name of a lake's concurrency limit (one run per lake): readable, and never shared
by two lakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.lake_slot import LIMIT_PREFIX, lake_limit_name
from newsflow.config import lake_slug


def test_a_configured_name_names_the_limit() -> None:
    assert lake_limit_name("/srv/news/lake", "Production EU") == f"{LIMIT_PREFIX}production-eu"


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
