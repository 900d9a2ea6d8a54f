"""authors in enriched/: the source's names, else the byline's (split by tasks.authors)."""

from __future__ import annotations

import polars as pl

from newsflow.schema import DEDUPED, enriched_schema
from tasks.enrich import ENRICHERS, enrich_frame, select_enrichers

ENGLISH = (
    "LONDON (Reuters) - The harbour board met on Tuesday and approved the new quay, "
    "officials said.\n\nWork starts in May and should take two years."
)


def deduped(bodies: list[str], authors: list[list[str]]) -> pl.DataFrame:
    """Deduped rows with these bodies and source authors; every other column null."""
    given = pl.DataFrame(
        {"doc_id": [f"d{i}" for i in range(len(bodies))], "body": bodies, "authors": authors},
        schema={"doc_id": pl.String, "body": pl.String, "authors": pl.List(pl.String)},
    )
    return given.select(
        pl.col(c) if c in given.columns else pl.lit(None, t).alias(c) for c, t in DEDUPED.items()
    )


BYLINED = "By Jane Doe and Sam Ito\n\n" + ENGLISH
# The enricher that finds bylines, whatever its version.
BYLINE_ENRICHERS = [e for e in ENRICHERS.values() if "byline" in e.columns]


def test_authors_fall_back_to_the_bylines_names_when_the_source_gave_none() -> None:
    rows = deduped([BYLINED, BYLINED, ENGLISH], authors=[[], ["Ann Roe"], []])
    out = enrich_frame(rows, BYLINE_ENRICHERS)
    assert out.schema == enriched_schema()
    assert out["byline"].to_list() == ["Jane Doe and Sam Ito"] * 2 + [None]  # as written
    assert out["authors"].to_list() == [["Jane Doe", "Sam Ito"], ["Ann Roe"], []]


def test_without_the_dateline_enricher_authors_are_the_sources() -> None:
    rows = deduped([BYLINED], authors=[[]])
    out = enrich_frame(rows, select_enrichers(["counts_v2"]))
    assert out["authors"].to_list() == [[]]
    assert out["byline"].to_list() == [None]


def test_the_article_columns_other_than_authors_never_change() -> None:
    rows = deduped([BYLINED], authors=[[]])
    out = enrich_frame(rows, BYLINE_ENRICHERS)
    others = [c for c in rows.columns if c != "authors"]
    assert out.select(others).equals(rows.select(others))
    assert isinstance(out["authors"].dtype, pl.List)
