"""Profile the pipeline's own work on one folder: every stage in one thread, no Prefect.

Usage (from the repository root):

    .venv/bin/python benchmarks/profile_stages.py /tmp/nf/c10k/docs \
        [--enrichers cheap|all|name,name] [--enrich-limit 500] [--out /tmp/nf/profile]

The stages run as a run runs them (ingest per batch, line statistics, clean per
batch, one dedupe), then enrich over the deduped rows (the first
`--enrich-limit` of them when given: all enrichers over 7k rows take ~10 minutes).
The whole run is sampled by pyinstrument (it samples the thread it starts on, which
is why the stages do not run under Prefect's thread pool here); the profile is
written as text and HTML into `--out`, and the seconds per stage are printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
from _common import RUN_DATE, dedupe_frame
from pyinstrument import Profiler
from run_flow import enricher_names

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.schema import LINE_DOCS
from tasks.clean import clean_frame
from tasks.enrich import enrich_frame, select_enrichers
from tasks.ingest import ingest_files
from tasks.line_stats import document_lines, domain_lines, merged_documents


def stages(folder: Path, enrichers: str, limit: int | None) -> dict[str, float]:
    """Run every stage over `folder`; returns seconds per stage (and per enricher)."""
    config = PipelineConfig(input_dir=folder)
    seconds: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        seconds[name] = now - mark
        mark = now

    files, _ = list_inputs(folder)
    batches = plan_batches(files, batch_size=config.batch_size, max_bytes=config.batch_max_bytes)
    lap("list_inputs")
    ingested = [ingest_files(b, folder, config, "profile").ingested for b in batches]
    lap("ingest")
    new = pl.concat([document_lines(rows, "profile") for rows in ingested])
    stats = domain_lines(merged_documents(pl.DataFrame(schema=LINE_DOCS), new))
    lap("line_stats")
    cleaned = pl.concat([clean_frame(rows, RUN_DATE, stats)[0] for rows in ingested])
    lap("clean")
    deduped, _ = dedupe_frame(cleaned, "profile")
    lap("dedupe")
    rows = deduped.head(limit) if limit else deduped
    per_enricher: dict[str, float] = {}
    enrich_frame(rows, select_enrichers(enricher_names(enrichers)), per_enricher)
    lap("enrich")
    seconds["docs"], seconds["enriched_docs"] = cleaned.height, rows.height
    return seconds | {f"  {k}": v for k, v in per_enricher.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--enrichers", default="cheap")
    parser.add_argument("--enrich-limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/nf/profile"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    profiler = Profiler(interval=0.005)
    profiler.start()
    seconds = stages(args.folder, args.enrichers, args.enrich_limit)
    profiler.stop()

    stem = args.out / f"profile-{args.enrichers.replace(',', '+')}"
    stem.with_suffix(".html").write_text(profiler.output_html())
    stem.with_suffix(".txt").write_text(profiler.output_text(unicode=True, show_all=False))
    for name, value in seconds.items():
        print(f"{name}: {value:,.2f}")
    print(f"profile: {stem}.txt / .html")


if __name__ == "__main__":
    main()
