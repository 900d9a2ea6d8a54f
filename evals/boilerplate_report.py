"""What the clean stage's boilerplate rules remove from real corpus folders.

Usage (from the repository root):

    .venv/bin/python -m evals.boilerplate_report ../shared/corpus/newsplease_5w1h \
        ../shared/corpus/bbc_fulltext/raw [--sample 15] [--json out.json]

Runs the pipeline's own pure steps (ingest, line statistics, clean) over all folders
together, without Prefect, as one run would: line statistics are counted over every
ingested row before anything is cleaned. Prints rows and paragraphs in, paragraphs
removed per rule (and per folder), documents emptied, and a seeded random sample of
removed paragraphs per rule to read for false positives. Removed text is printed to
the terminal only; never paste corpus text into the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.schema import LINE_DOCS
from tasks.clean import clean_frame
from tasks.ingest import ingest_files
from tasks.line_stats import document_lines, domain_lines, merged_documents

RUN_DATE = dt.date.today()


def ingested(folders: list[Path], config: PipelineConfig) -> pl.DataFrame:
    frames = []
    for folder in folders:
        files, _ = list_inputs(folder)
        for batch in plan_batches(files, batch_size=config.batch_size, max_bytes=10**12):
            rows = ingest_files(batch, folder, config, "report").ingested
            frames.append(rows.with_columns(folder=pl.lit(folder.name)))
    return pl.concat(frames)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--sample", type=int, default=15, help="removed paragraphs per rule")
    parser.add_argument("--json", type=Path, help="also write every removal as JSON here")
    args = parser.parse_args(argv)
    config = PipelineConfig()

    t0 = time.perf_counter()
    rows = ingested(args.folders, config)
    t1 = time.perf_counter()
    documents = merged_documents(pl.DataFrame(schema=LINE_DOCS), document_lines(rows, "report"))
    stats = domain_lines(documents)
    t2 = time.perf_counter()
    cleaned, _, quarantined = clean_frame(
        rows.drop("folder"), RUN_DATE, stats, config.domain_repeat
    )
    t3 = time.perf_counter()

    folder_of = rows.select("doc_id", "folder")
    removed = (
        cleaned.select("doc_id", "url", "removed_lines")
        .explode("removed_lines")
        .drop_nulls("removed_lines")
        .unnest("removed_lines")
        .join(folder_of, on="doc_id")
    )
    paragraphs = int(rows["body"].fill_null("").str.count_matches("\n\n").sum()) + rows.height
    print(f"rows ingested {rows.height}, paragraphs about {paragraphs}")
    print(f"documents with a domain {documents.height} in {documents['domain'].n_unique()} domains")
    print(f"domains with >= {config.domain_repeat.min_domain_docs} documents:")
    totals = documents.group_by("domain").len().sort("len", descending=True)
    print(totals.filter(pl.col("len") >= config.domain_repeat.min_domain_docs))
    print(
        f"cleaned {cleaned.height}, quarantined {quarantined.height}",
        quarantined["rule"].value_counts().rows(),
    )
    print(f"timings: ingest {t1 - t0:.2f} s, line stats {t2 - t1:.2f} s, clean {t3 - t2:.2f} s")
    print("\nremoved paragraphs per rule and folder:")
    with pl.Config(tbl_rows=50):
        print(removed.group_by("rule", "folder").len().sort("rule", "folder"))
        print(
            removed.group_by("rule").agg(docs=pl.col("doc_id").n_unique(), n=pl.len()).sort("rule")
        )
    for (rule,), group in removed.group_by("rule", maintain_order=True):
        print(f"\n=== {rule}: sample of {min(args.sample, group.height)} of {group.height}")
        for url, text in (
            group.sample(min(args.sample, group.height), seed=1).select("url", "text").iter_rows()
        ):
            print(f"  [{(url or '-')[:45]}] {text[:200]}")
    if args.json:
        args.json.write_text(
            json.dumps(removed.select("folder", "url", "rule", "text").to_dicts(), indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
