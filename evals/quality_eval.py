"""What the quality suites catch on real corpora, and how fast they validate.

Usage (from the repository root; each lake is made by `newsflow run` when it is empty):

    .venv/bin/python -m evals.quality_eval \
        --news-cluster ../shared/corpus/newsplease_5w1h/news_cluster --news-lake /tmp/lake-q \
        --dragnet ../shared/corpus/dragnet_meta/meta --dragnet-lake /tmp/lake-qd

news_cluster: of the articles whose date_publish, text/maintext or title is None, how
many each expectation (or an ingest/clean quarantine rule) catches; how many of the
files the source lists as damaged are caught. dragnet: the 1970 dates against
date_not_epoch. Then the validation speed on ~10k rows of a real cleaned stage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl

from expectations.validate import StageValidation, validate_stage
from newsflow.lake import Lake
from newsflow.quality_config import QualityConfig

RECORD_STAGES = ("ingested", "cleaned")


def ensure_lake(input_dir: Path, lake_dir: Path) -> Lake:
    """Run the pipeline into `lake_dir` unless it already holds a run."""
    lake = Lake(lake_dir)
    if lake.last_run() is None:
        env = {
            **os.environ,
            "PREFECT_HOME": "/tmp/pfh-q",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        }
        cli = Path(sys.executable).parent / "newsflow"
        command = [str(cli), "run", "--input", str(input_dir), "--lake", str(lake_dir)]
        subprocess.run(command, check=True, env=env)
    return lake


def validate_lake(lake: Lake, run_date: dt.date) -> dict[str, StageValidation]:
    config = QualityConfig()
    return {s: validate_stage(s, lake.scan(s).collect(), config, run_date) for s in RECORD_STAGES}


def caught_by_file(lake: Lake, results: dict[str, StageValidation]) -> dict[str, set[str]]:
    """source_file -> every ingest/clean quarantine rule and failing expectation on it."""
    caught: dict[str, set[str]] = {}
    for file, rule in lake.scan("quarantine").select("source_file", "rule").collect().iter_rows():
        caught.setdefault(file, set()).add(f"quarantine:{rule}")
    for stage, result in results.items():
        files = dict(lake.scan(stage).select("doc_id", "source_file").collect().iter_rows())
        for rule, doc_ids in result.failing.items():
            for doc_id in doc_ids:
                caught.setdefault(files[doc_id], set()).add(rule)
    return caught


def _none(record: dict[str, object], *fields: str) -> bool:
    present = [record.get(f) for f in fields if f in record]
    return all(v is None or str(v).strip() in ("", "None") for v in present)


def news_cluster(input_dir: Path, lake: Lake, run_date: dt.date) -> None:
    results = validate_lake(lake, run_date)
    caught = caught_by_file(lake, results)
    records = {}
    for path in sorted(input_dir.glob("*.json")):
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        records[path.name] = json.loads(text) if text else None
    groups = {
        "date_publish None": lambda r: _none(r, "date_publish"),
        "text/maintext None": lambda r: _none(r, "maintext", "text"),
        "title None": lambda r: _none(r, "title"),
    }
    print(f"news_cluster: {len(records)} files, {sum(r is None for r in records.values())} empty")
    print(f"{'field missing':20} {'files':>5} {'caught':>6}  by")
    for name, test in groups.items():
        files = [f for f, r in records.items() if r is not None and test(r)]
        by = Counter(rule for f in files for rule in caught.get(f, set()))
        hit = sum(1 for f in files if caught.get(f))
        print(f"{name:20} {len(files):5} {hit:6}  {dict(sorted(by.items()))}")
    damaged_list = input_dir.parent / f"{input_dir.name}_damaged_files.txt"
    damaged = [line.strip() for line in damaged_list.read_text().splitlines() if line.strip()]
    hit = [f for f in damaged if caught.get(f)]
    by = Counter(rule for f in damaged for rule in caught.get(f, set()))
    print(f"damaged files: {len(hit)} of {len(damaged)} caught; by rule {dict(sorted(by.items()))}")
    missed = [f for f in damaged if not caught.get(f)]
    print(f"  not caught: {len(missed)} {missed[:5]}{' ...' if len(missed) > 5 else ''}")


def dragnet(input_dir: Path, lake: Lake, run_date: dt.date) -> None:
    raw_1970 = set()
    for path in sorted(input_dir.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if str(record.get("dt_published") or "").startswith("1970"):
            raw_1970.add(path.name)
    results = validate_lake(lake, run_date)
    cleaned = lake.scan("cleaned").select("source_file", "date_flag").collect()
    flagged = set(cleaned.filter(pl.col("date_flag") == "epoch_1970")["source_file"])
    quarantined = dict(lake.scan("quarantine").select("source_file", "rule").collect().iter_rows())
    print(f"dragnet: {len(list(input_dir.glob('*.json')))} files, {len(raw_1970)} dated 1970")
    print(
        f"  quarantined before quality (no body): {Counter(quarantined.get(f) for f in raw_1970)}"
    )
    print(f"  clean date_flag epoch_1970 (rows left in cleaned): {len(flagged & raw_1970)}")
    for stage, result in results.items():
        files = dict(lake.scan(stage).select("doc_id", "source_file").collect().iter_rows())
        failing = {files[d] for d in result.failing.get("date_not_epoch", [])}
        print(
            f"  {stage}: date_not_epoch fails on {len(failing & raw_1970)} of "
            f"{len(raw_1970 & set(files.values()))} 1970 rows present; "
            f"on {len(failing - raw_1970)} other files"
        )


def timing(lake: Lake, run_date: dt.date, target_rows: int = 10_000) -> None:
    cleaned = lake.scan("cleaned").collect()
    copies = -(-target_rows // cleaned.height)
    frame = pl.concat(
        [cleaned.with_columns(doc_id=pl.col("doc_id") + f"-{i}") for i in range(copies)]
    ).head(target_rows)
    config = QualityConfig()
    validate_stage("cleaned", frame.head(100), config, run_date)  # GX import and context
    for stage_rows in (frame.height,):
        started = time.perf_counter()
        result = validate_stage("cleaned", frame, config, run_date)
        seconds = time.perf_counter() - started
        print(
            f"validate cleaned: {stage_rows} rows, {len(result.summary)} rules, "
            f"{seconds:.2f} s -> {stage_rows / seconds:,.0f} rows/s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news-cluster", type=Path, required=True)
    parser.add_argument("--news-lake", type=Path, required=True)
    parser.add_argument("--dragnet", type=Path, required=True)
    parser.add_argument("--dragnet-lake", type=Path, required=True)
    args = parser.parse_args()
    run_date = dt.date.today()
    news_lake = ensure_lake(args.news_cluster, args.news_lake)
    news_cluster(args.news_cluster, news_lake, run_date)
    dragnet(args.dragnet, ensure_lake(args.dragnet, args.dragnet_lake), run_date)
    timing(news_lake, run_date)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
