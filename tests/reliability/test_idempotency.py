"""The same input gives the same lake, however it arrives: twice, or in two halves.

tests/flows/test_dedupe_runs.py checks dedupe's clusters over runs on invented
documents. Here the whole lake is compared, every folder a run writes (ingested,
cleaned with its quarantine, line statistics, the dedupe index, the file manifest,
enriched), through `newsflow run` processes on a corpus with real articles, bad
files and other batch sizes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.tables import table_versions
from tests.prefect_server import PrefectServer
from tests.reliability.corpus import copy_lake
from tests.reliability.lakes import (
    BATCH_SIZE,
    Run,
    assert_consistent,
    assert_same_rows,
    newsflow_run,
    visible_parquet,
)

pytestmark = pytest.mark.flow

LISTING_QUARANTINE = "_work/quarantine/ingest-unbatched.parquet"


@pytest.mark.slow
def test_the_input_in_two_halves_gives_the_rows_of_one_run(
    prefect_server: PrefectServer,
    corpus: Path,
    reference: tuple[Path, Run],
    first_half: Path,
    tmp_path: Path,
) -> None:
    lake = copy_lake(first_half, tmp_path / "lake")
    # Another batch size too: which batch a document lands in must not change it.
    run = newsflow_run(prefect_server.env, corpus, lake, "--batch-size", "2")
    assert run.returncode == 0, run.output[-3000:]
    assert_consistent(lake)
    assert_same_rows(reference[0], lake)


def test_the_same_input_twice_rewrites_nothing(
    prefect_server: PrefectServer, corpus: Path, reference: tuple[Path, Run], tmp_path: Path
) -> None:
    lake = copy_lake(reference[0], tmp_path / "lake")
    before = {p: p.read_bytes() for p in visible_parquet(lake)}
    versions = table_versions(lake)
    run = newsflow_run(prefect_server.env, corpus, lake, "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output[-3000:]
    after = {p: p.read_bytes() for p in visible_parquet(lake)}
    # Not only the same rows: no file is rewritten, so readers see no churn. Entries
    # rejected while listing the input are listed (and quarantined) by every run anew:
    # that file alone changes, and the quarantine table alone gets a new version.
    changed = {str(p.relative_to(lake)) for p in before if after[p] != before[p]}
    assert changed <= {LISTING_QUARANTINE}
    added = {str(p.relative_to(lake)) for p in after.keys() - before.keys()}
    assert all(p.startswith("tables/quarantine/ingest-unbatched.") for p in added), added
    newer = {stage for stage, version in table_versions(lake).items() if version != versions[stage]}
    assert newer <= {"quarantine"}
    assert_same_rows(reference[0], lake)
