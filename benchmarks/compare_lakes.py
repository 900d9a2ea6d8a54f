"""Do two lakes hold the same rows? (Checks that a speed-up changed no output.)

Usage (from the repository root):

    .venv/bin/python -m benchmarks.compare_lakes LAKE_A LAKE_B [--stages cleaned,deduped,enriched]

Each stage is read whole from both lakes, the columns that name the run (`run_id`) are
dropped, rows are sorted by `doc_id`, and the two frames must be equal
(`polars.testing.assert_frame_equal`; floats compared exactly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

RUN_COLUMNS = ("run_id",)


def stage_rows(lake: Path, stage: str) -> pl.DataFrame:
    hive = stage == "enriched"
    frame = pl.read_parquet(lake / stage / "**" / "*.parquet", hive_partitioning=hive)
    return frame.drop([c for c in RUN_COLUMNS if c in frame.columns]).sort("doc_id")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--stages", default="ingested,cleaned,deduped,duplicates,enriched")
    args = parser.parse_args()
    same = True
    for stage in args.stages.split(","):
        a, b = stage_rows(args.a, stage), stage_rows(args.b, stage)
        try:
            assert_frame_equal(a, b, check_exact=True)
            print(f"{stage}: {a.height:,} rows x {a.width} columns, identical")
        except AssertionError as exc:
            same = False
            print(f"{stage}: DIFFERENT ({a.height:,} vs {b.height:,} rows): {exc}"[:600])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
