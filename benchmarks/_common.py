"""Shared pieces of the dedupe benchmarks: run the pipeline's pure stages, read clusters.

The stages run as a pipeline run would run them, without Prefect: ingest per batch,
line statistics over everything ingested, clean per batch, then dedupe over every
cleaned row (the dedupe stage's phases in-process, on a temporary lake: `dedupe_frame`).
Each stage is timed on its own.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from newsflow.config import DedupeConfig, PipelineConfig
from newsflow.inputs import InputFile, plan_batches
from newsflow.lake import Lake
from newsflow.schema import LINE_DOCS
from tasks.clean import clean_frame
from tasks.dedupe_stage import run_dedupe
from tasks.ingest import ingest_files
from tasks.line_stats import document_lines, domain_lines, merged_documents

RUN_DATE = dt.date.today()


def dedupe_frame(
    cleaned: pl.DataFrame, run_id: str, config: DedupeConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(deduped, duplicates) of the dedupe stage over `cleaned`, on a temporary lake."""
    with tempfile.TemporaryDirectory(prefix="bench-dedupe-") as tmp:
        lake = Lake(tmp)
        for (batch,), part in cleaned.group_by("batch_id", maintain_order=True):
            lake.write(part, "cleaned", str(batch), run_id)
        run_dedupe(tmp, run_id, config, submit=False)
        deduped = lake.scan("deduped").collect().sort("doc_id")
        return deduped, lake.scan("duplicates").collect().sort("doc_id")


@dataclass
class StageRun:
    """What ingest, clean and dedupe made of a set of files, and the seconds each took."""

    ingested: pl.DataFrame
    cleaned: pl.DataFrame
    quarantined: pl.DataFrame
    duplicates: pl.DataFrame
    deduped_rows: int
    seconds: dict[str, float] = field(default_factory=dict)

    def timing_line(self) -> str:
        s = self.seconds
        rate = self.cleaned.height / s["dedupe"] if s["dedupe"] else float("inf")
        return (
            f"time: ingest {s['ingest']:.2f} s, line_stats {s['line_stats']:.2f} s, "
            f"clean {s['clean']:.2f} s, dedupe {s['dedupe']:.2f} s "
            f"({self.cleaned.height:,} docs -> {rate:,.0f} docs/s); "
            f"total {sum(s.values()):.2f} s"
        )


def run_stages(
    root: Path, files: list[InputFile], run_id: str, config: PipelineConfig | None = None
) -> StageRun:
    """Ingest, clean and dedupe `files` (paths relative to `root`) as one run would."""
    config = config or PipelineConfig(input_dir=root)
    batches = plan_batches(files, batch_size=config.batch_size, max_bytes=config.batch_max_bytes)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    ingested, quarantined = [], []
    for batch in batches:
        result = ingest_files(batch, root, config, run_id)
        ingested.append(result.ingested)
        quarantined.append(result.quarantined)
    seconds["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    new = [document_lines(rows, run_id) for rows in ingested]
    documents = merged_documents(pl.DataFrame(schema=LINE_DOCS), pl.concat([*new]))
    stats = domain_lines(documents)
    seconds["line_stats"] = time.perf_counter() - started

    started = time.perf_counter()
    cleaned = []
    for rows in ingested:
        kept, _, rejected = clean_frame(rows, RUN_DATE, stats, config.domain_repeat)
        cleaned.append(kept)
        quarantined.append(rejected)
    seconds["clean"] = time.perf_counter() - started

    all_cleaned = pl.concat(cleaned)
    started = time.perf_counter()
    deduped, duplicates = dedupe_frame(all_cleaned, run_id)
    seconds["dedupe"] = time.perf_counter() - started
    return StageRun(
        ingested=pl.concat(ingested),
        cleaned=all_cleaned,
        quarantined=pl.concat(quarantined),
        duplicates=duplicates,
        deduped_rows=deduped.height,
        seconds=seconds,
    )


def cluster_ids(doc_ids: Iterable[str], merged: Iterable[tuple[str, str]]) -> dict[str, str]:
    """doc_id -> the cluster it ended in, from the duplicates' (doc_id, kept_doc_id) rows.

    Union-find rather than reading `kept_doc_id` directly, so the scores stay right
    if a dedupe ever writes chains (a -> b -> c) instead of stars.
    """
    parent = {d: d for d in doc_ids}

    def root(d: str) -> str:
        while parent.setdefault(d, d) != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for a, b in merged:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {d: root(d) for d in list(parent)}


def ratio(hits: int, total: int) -> float | None:
    return hits / total if total else None


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
