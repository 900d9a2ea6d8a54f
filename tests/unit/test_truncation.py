"""readable_body: what enrichers read of a truncated body."""

from __future__ import annotations

import polars as pl
import pytest

from tasks.truncation import readable_body


def readable(body: str | None, truncated: bool | None) -> str | None:
    frame = pl.DataFrame(
        {"body": [body], "truncated": [truncated]},
        schema={"body": pl.String, "truncated": pl.Boolean},
    )
    body_read: str | None = frame.select(readable_body(pl.col("body"), pl.col("truncated"))).item()
    return body_read


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("The mayor said the plan wou… [+1197 chars]", "The mayor said the plan"),
        ("The mayor said the plan would ... [+1197 chars]", "The mayor said the plan"),
        ("The mayor resigned. … [+1197 chars]", "The mayor resigned."),
        ("The mayor said the plan would be reviewed…", "The mayor said the plan would be"),
        ("The council met on Monday [...]", "The council met on"),
        ("The mayor spoke first. Read more »", "The mayor spoke first."),
        ("The mayor spoke first. Continue reading...", "The mayor spoke first."),
        ("The mayor, who met the owners on Monday,", "The mayor, who met the owners on Monday,"),
        ("The mayor said that the plan wou", "The mayor said that the plan"),
        ("東京で会議が開かれ…", "東京で会議が開か"),  # a letter is a word there
        ("เมื่อวันจันทร์…", "เมื่อวันจันท"),  # the last letter, with its marks
        ("Cut… [+10 chars]", ""),
        ("", ""),
    ],
)
def test_a_truncated_body_loses_its_marker_and_cut_word(body: str, expected: str) -> None:
    assert readable(body, True) == expected


@pytest.mark.parametrize("truncated", [False, None])
def test_a_complete_body_is_read_as_it_is(truncated: bool | None) -> None:
    body = "The mayor said the plan would be reviewed… [+1197 chars]"
    assert readable(body, truncated) == body


def test_a_missing_body_stays_missing() -> None:
    assert readable(None, True) is None
