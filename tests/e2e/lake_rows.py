"""A lake's rows in a form two runs can be compared by: what differs only because it is
another run (the run id) is dropped, and rows are put in a stable order."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from newsflow.lake import STAGES, Lake

# Columns that name the run which wrote a row; every other column is the row's content.
RUN_COLUMNS = ("run_id",)


def comparable_rows(lake: Path, stage: str) -> pl.DataFrame:
    rows = Lake(lake).scan(stage).collect().drop(RUN_COLUMNS, strict=False)
    flat = [c for c, t in rows.schema.items() if not t.is_nested()]
    return rows.sort(flat, nulls_last=True)


def differing_stages(lake_a: Path, lake_b: Path) -> dict[str, str]:
    """Stage -> how it differs between the two lakes; empty when every stage is equal."""
    differences = {}
    for stage in STAGES:
        a, b = comparable_rows(lake_a, stage), comparable_rows(lake_b, stage)
        if not a.equals(b, null_equal=True):
            differences[stage] = f"{a.height} rows vs {b.height} rows"
    return differences
