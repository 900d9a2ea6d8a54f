"""Keywords old and new, side by side: keywords_v1 (YAKE) against keywords_v2.

Usage (from the repository root):

    POLARS_MAX_THREADS=1 NEWSFLOW_ENRICH_WORKERS=1 \\
        .venv/bin/python -m evals.keywords_eval ../shared/corpus/bbc_fulltext/raw \\
        [--show 20] [--timed 300] [--seed 7]

Ingests and cleans the folder (not timed), detects the language (language_v2, as a
run would before keywords), prints `--show` articles picked at random (seeded) with
their title and both keyword lists, then times both methods in this process on the
first `--timed` articles and prints ms per article (wall and CPU). Nothing of the corpus is stored:
the script reads it at run time. YAKE is a dev dependency now; `yake_keywords` below is
keywords_v1's logic as it shipped (YAKE 1-2-grams, the calendar and half-overlap
filters, the body's first 20,000 characters), kept here only as the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.enrichers import keywords
from tasks.enrichers.language import language_v2
from tasks.ingest import ingest_files
from tasks.truncation import readable_body

V1_TOP, V1_MAX_CHARS = 10, 20_000


@cache
def _yake(language: str) -> Any:
    import yake

    return yake.KeywordExtractor(lan=language, n=2, top=V1_TOP * 4, dedup_lim=0.99)


def yake_keywords(title: str, body: str, language: str | None) -> list[str]:
    """keywords_v1 as it shipped (the title was not read)."""
    del title
    if not body.strip():
        return []
    phrases: list[str] = []
    taken: list[set[str]] = []
    for phrase, _score in _yake(language or "en").extract_keywords(body[:V1_MAX_CHARS]):
        words = set(phrase.casefold().split())
        if words <= keywords.CALENDAR or any(2 * len(words & t) >= len(words) for t in taken):
            continue
        phrases.append(phrase)
        taken.append(words)
        if len(phrases) == V1_TOP:
            break
    return phrases


def v2_keywords(title: str, body: str, truncated: bool, language: str | None) -> list[str]:
    frame = pl.DataFrame({"body": [body[: keywords.BODY_CHARS]], "cut": [truncated]})
    readable = frame.select(readable_body(pl.col("body"), pl.col("cut"))).item()
    return keywords.keyword_rows([(title, readable, language)])[0]


def cleaned_rows(folder: Path) -> pl.DataFrame:
    files, _ = list_inputs(folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, folder, PipelineConfig(), "eval").ingested
    cleaned, _, _ = clean_frame(ingested, dt.date.today())
    return cleaned.with_columns(language_v2(cleaned))


def ms_per_article(
    rows: list[dict[str, Any]], method: Callable[[dict[str, Any]], object]
) -> tuple[float, float]:
    """(wall, CPU) milliseconds per article; CPU moves less with other load."""
    method(rows[0])  # loads (YAKE's stop words, wordfreq's table) are not counted
    wall, cpu = time.perf_counter(), time.process_time()
    for row in rows:
        method(row)
    n = len(rows)
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--show", type=int, default=20)
    parser.add_argument("--timed", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    frame = cleaned_rows(args.folder)
    rows = frame.select(
        "title", "body", "language", truncated=pl.col("body_truncated").fill_null(False)
    ).to_dicts()

    def old(row: dict[str, Any]) -> list[str]:
        return yake_keywords(row["title"] or "", row["body"] or "", row["language"])

    def new(row: dict[str, Any]) -> list[str]:
        return v2_keywords(row["title"] or "", row["body"] or "", row["truncated"], row["language"])

    shown = frame.with_row_index().sample(min(args.show, frame.height), seed=args.seed)
    for i in shown["index"].to_list():
        row = rows[i]
        print(f"\n## {row['title']}  ({len(row['body'] or '')} chars)")
        print(f"  old (YAKE): {'; '.join(old(row))}")
        print(f"  new (v2):   {'; '.join(new(row))}")

    timed = rows[: args.timed]
    print(f"\nms per article, first {len(timed)} articles, one process:")
    print("| method | ms/article (wall) | ms/article (CPU) |\n| --- | --- | --- |")
    for label, method in (("keywords_v1 (YAKE)", old), ("keywords_v2", new)):
        wall, cpu = ms_per_article(timed, method)
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
