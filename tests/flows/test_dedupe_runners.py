"""The dedupe stage's phase tasks spread by Prefect task runners (threads with 1 and 4
workers, a local Dask cluster of 2 processes) write the files an in-process run writes,
for a first run and for a run that adds documents to the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import make_task_runner
from newsflow.lake import Lake
from tasks.dedupe_index import PARTITIONED
from tasks.dedupe_stage import run_dedupe
from tests.articles import FERRY, FERRY_OTHER_WRITER, MARKET, SCATTERED_COPIES, body, cleaned
from tests.dedupe_on_lake import DedupeLake

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

FIRST = cleaned(
    *SCATTERED_COPIES,
    {"doc_id": "z", "body": body(MARKET[2:]) + "\n\nA paragraph of its own.", "batch_id": "b3"},
    {"doc_id": "w", "body": body(FERRY_OTHER_WRITER), "batch_id": "b5"},
)
LATER = cleaned(
    {"doc_id": "n", "body": body(FERRY[2:11]), "batch_id": "b9"},
    {"doc_id": "m", "body": body(MARKET), "batch_id": "b9"},
)


def lake_files(root: Path) -> dict[str, pl.DataFrame]:
    return {
        f"{stage}/{p.name}": pl.read_parquet(p)
        for stage in ("deduped", "duplicates", *PARTITIONED, "dedupe_batches")
        for p in sorted(Lake(root).stage_dir(stage).glob("*.parquet"))
    }


def two_runs(root: Path, dedupe: Any) -> dict[str, pl.DataFrame]:
    """A first run over FIRST, then one that adds LATER; the files after each."""
    lake = DedupeLake(root)
    lake.add(FIRST)
    dedupe(str(root), "r1")
    first = {f"r1:{name}": frame for name, frame in lake_files(root).items()}
    lake.add(LATER)
    dedupe(str(root), "r2")
    return first | {f"r2:{name}": frame for name, frame in lake_files(root).items()}


def on_runner(runner: Any) -> Any:
    @flow(task_runner=runner)
    def dedupe_only(lake_dir: str, run_id: str) -> dict[str, Any]:
        return run_dedupe(lake_dir, run_id)

    return dedupe_only


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    root = tmp_path_factory.mktemp("in-process")
    return two_runs(root, lambda lake, run: run_dedupe(lake, run, submit=False))


def assert_same_files(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    assert got.keys() == want.keys()
    assert any(name.startswith("r2:duplicates/") for name in want)
    for name, frame in want.items():
        assert got[name].equals(frame), name


@pytest.mark.parametrize("workers", [1, 4])
def test_threads_write_the_files_of_an_in_process_run(
    tmp_path: Path, in_process: dict[str, pl.DataFrame], workers: int
) -> None:
    dedupe = on_runner(ThreadPoolTaskRunner(max_workers=workers))
    assert_same_files(two_runs(tmp_path, dedupe), in_process)


@pytest.mark.slow
def test_a_dask_cluster_writes_the_files_of_an_in_process_run(
    tmp_path: Path, in_process: dict[str, pl.DataFrame]
) -> None:
    dedupe = on_runner(make_task_runner("dask", workers=2))
    assert_same_files(two_runs(tmp_path, dedupe), in_process)
