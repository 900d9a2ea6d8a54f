"""roll_back: remove the files of batches a run wrote but did not commit.

A run commits its new batches by adding their input files to the file manifest, right
after the quality gate. Until then a batch's files (ingested/, cleaned/,
metadata_only/ and its quarantine files) are provisional: a run the gate fails (a
critical expectation, unbalanced books) removes them before it fails, so readers never
see rows the run rejected and the run after the fix ingests those files exactly once.
A run killed before its commit leaves them behind; the next run removes those it does
not plan again (the batches it plans again it simply rewrites).

Crash-safe by order: the lake's task-cache generation is renewed first (no cached
ingest or clean may later claim a removed file is written), the documents are taken
out of the line statistics while the ingested/ file still names them, and the
ingested/ file goes last. A removal cut short is finished by the next run, which
still finds the batch uncommitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.faults import checkpoint
from newsflow.lake import Lake
from newsflow.task_cache import lake_generation
from tasks.line_stats import forget_documents


@dataclass(frozen=True)
class RolledBack:
    """What a roll-back removed."""

    batches: int
    files: int
    documents: int
    uncounted: int  # documents taken out of the line statistics


@task(name="roll_back", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def roll_back(batch_ids: list[str], lake_dir: str, run_id: str) -> RolledBack:
    """Remove every uncommitted file of `batch_ids`; returns what went."""
    lake = Lake(lake_dir)
    files = lake.batch_files(batch_ids)
    if not files:
        return RolledBack(batches=0, files=0, documents=0, uncounted=0)
    present = set(batch_ids) & lake.batches_written()
    ingested = [p for p in lake.files("ingested") if p.stem in present]
    doc_ids = pl.concat(
        [pl.Series("doc_id", [], pl.String)]
        + [pl.read_parquet(p, columns=["doc_id"])["doc_id"] for p in ingested]
    )
    lake_generation(lake.root, renew=True)
    uncounted = forget_documents(lake, doc_ids, run_id)
    for path in files:
        checkpoint("roll_back.remove")
        path.unlink(missing_ok=True)
    return RolledBack(
        batches=len(present),
        files=len(files),
        documents=doc_ids.n_unique(),
        uncounted=uncounted,
    )
