"""Does language_v2 agree with the language news-please recorded for each article?

Usage (from the repository root):

    .venv/bin/python -m evals.language_eval ../shared/corpus/newsplease_5w1h [--details]

The folder goes through our ingest and clean (`ingest_files` + `clean_frame`, no
Prefect, no lake), so language_v2 sees the bodies a run would enrich. Each row is
joined by file to the JSON's own `language` field; rows whose file has none
("None" or missing) are counted but not scored. `--details` prints every
disagreement (file, recorded, detected, confidence, body length) to the terminal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.enrichers.language import language_v2
from tasks.ingest import ingest_files

TARGET = 0.97


def recorded_language(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("language")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) and value not in ("", "None") else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()

    files, _ = list_inputs(args.folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, args.folder, PipelineConfig(), "eval").ingested
    cleaned, _, _ = clean_frame(ingested, dt.date.today())
    started = time.perf_counter()
    detected = language_v2(cleaned)
    seconds = time.perf_counter() - started
    rows = pl.concat([cleaned.select("source_file", "body"), detected], how="horizontal")
    rows = rows.with_columns(
        recorded=pl.col("source_file").map_elements(
            lambda f: recorded_language(args.folder / f), return_dtype=pl.String
        )
    )
    scored = rows.filter(pl.col("recorded").is_not_null())
    agree = scored.filter(pl.col("recorded") == pl.col("language"))
    share = agree.height / scored.height if scored.height else float("nan")
    print(
        f"{rows.height} cleaned articles, {scored.height} with a recorded language "
        f"({scored['recorded'].value_counts(sort=True).rows()})"
    )
    print(f"detected: {rows['language'].value_counts(sort=True).rows()}")
    print(
        f"agreement: {agree.height} / {scored.height} = {share:.3f} "
        f"(target >= {TARGET}: {'met' if share >= TARGET else 'NOT met'})"
    )
    confidence = scored["language_confidence"]
    print(
        f"confidence over scored rows: median {confidence.median():.4f}, "
        f"min {confidence.min():.4f}; language_v2 took {seconds:.2f} s "
        f"({rows.height / seconds:,.0f} docs/s)"
    )
    misses = scored.filter(pl.col("recorded") != pl.col("language"))
    if args.details and misses.height:
        print("\ndisagreements:")
        for r in misses.iter_rows(named=True):
            print(
                f"  {r['source_file']}: recorded {r['recorded']}, detected {r['language']} "
                f"({r['language_confidence']:.3f}), body {len(r['body'])} chars"
            )


if __name__ == "__main__":
    main()
