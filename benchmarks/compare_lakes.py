"""Do two lakes hold the same rows? (Checks that a speed-up changed no output.)

Usage (from the repository root):

    .venv/bin/python -m benchmarks.compare_lakes LAKE_A LAKE_B [--stages cleaned,deduped,enriched]

Each stage is read whole from both lakes through `Lake.scan` (typed by the contract),
the columns that name the run (`run_id`) are dropped, rows are sorted by `doc_id`, and
the two frames must be equal (`polars.testing.assert_frame_equal`; floats compared
exactly). `dask_vs_threads` uses `differing_stages` for the same check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from newsflow.lake import Lake

RUN_COLUMNS = ("run_id",)
STAGES = ("ingested", "cleaned", "deduped", "duplicates", "enriched")


def stage_rows(lake: Path, stage: str) -> pl.DataFrame:
    frame = Lake(lake).scan(stage).collect()
    return frame.drop(RUN_COLUMNS, strict=False).sort("doc_id")


def differing_stages(
    a: Path, b: Path, stages: tuple[str, ...] | list[str] = STAGES
) -> dict[str, str]:
    """Stage -> how it differs between the two lakes; empty when every stage is equal."""
    differences = {}
    for stage in stages:
        rows_a, rows_b = stage_rows(a, stage), stage_rows(b, stage)
        try:
            assert_frame_equal(rows_a, rows_b, check_exact=True)
        except AssertionError as exc:
            differences[stage] = f"{rows_a.height:,} vs {rows_b.height:,} rows: {exc}"[:600]
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--stages", default="ingested,cleaned,deduped,duplicates,enriched")
    args = parser.parse_args()
    stages = args.stages.split(",")
    differences = differing_stages(args.a, args.b, stages)
    for stage in stages:
        rows = stage_rows(args.a, stage)
        if stage in differences:
            print(f"{stage}: DIFFERENT ({differences[stage]})")
        else:
            print(f"{stage}: {rows.height:,} rows x {rows.width} columns, identical")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
