"""SIGKILL at the worst moments, then run again: the lake ends as if nothing had happened.

`newsflow run` is a real process here, killed by the fault hook in newsflow/faults.py
(NEWSFLOW_KILL_AT names the point): no `finally`, retry or exit handler runs. Each
chain kills runs on one lake at later and later points, so every run after the first
is a re-run after a crash; the last run finishes. Then the lake must hold exactly
the rows of one uninterrupted run, with no temp file left and no document twice.
After every kill, whatever a reader can see must read cleanly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.articles import LIBRARY, body
from tests.prefect_server import PrefectServer
from tests.reliability.corpus import copy_lake
from tests.reliability.lakes import (
    BATCH_SIZE,
    Run,
    assert_consistent,
    assert_readable,
    assert_same_rows,
    newsflow_run,
    temp_files,
)

pytestmark = pytest.mark.flow

# In the order one run reaches them.
FIRST_RUN_KILLS = (
    "ingest.file:5",  # during ingest: some batches written, the others not
    "dedupe.before_index",  # deduped/ and duplicates/ written, the dedupe index not
    "before_rename.enriched:2",  # a Parquet temp file written, not renamed; a batch half enriched
    "commit.enriched",  # the tables before enriched committed, enriched and the rest not
)
# A run that adds documents to a lake with an index, killed while rewriting deduped/.
ADDING_RUN_KILL = "before_rename.deduped:2"


def kill(server: PrefectServer, raw: Path, lake: Path, kill_at: str) -> Run:
    run = newsflow_run(server.env, raw, lake, "--batch-size", BATCH_SIZE, kill_at=kill_at)
    assert run.killed, f"not killed at {kill_at} (exit {run.returncode}):\n{run.output[-3000:]}"
    assert_readable(lake)
    return run


def assert_killed_between_write_and_rename(lake: Path) -> None:
    """The kill left a temp file (more when other threads were writing too), all hidden."""
    left = temp_files(lake)
    assert left, "no temp file left: the kill point was not between write and rename"
    assert all(p.name.startswith(".") for p in left)


def finish(server: PrefectServer, raw: Path, lake: Path, reference: Path) -> None:
    run = newsflow_run(server.env, raw, lake, "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output[-3000:]
    assert_readable(lake)
    assert temp_files(lake) == []
    assert_consistent(lake)
    assert_same_rows(reference, lake)


@pytest.mark.slow
def test_the_reference_lake_is_consistent(reference: tuple[Path, Run]) -> None:
    lake, _ = reference
    assert_readable(lake)
    assert_consistent(lake)
    assert temp_files(lake) == []


@pytest.mark.slow
def test_kills_during_first_runs_then_a_rerun_give_the_rows_of_one_clean_run(
    prefect_server: PrefectServer, corpus: Path, reference: tuple[Path, Run], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    for kill_at in FIRST_RUN_KILLS:
        kill(prefect_server, corpus, lake, kill_at)
        if kill_at.startswith("before_rename."):  # (the next run tidies its temp files)
            assert_killed_between_write_and_rename(lake)
    finish(prefect_server, corpus, lake, reference[0])


@pytest.mark.slow
def test_a_kill_while_adding_to_a_lake_then_a_rerun_give_the_rows_of_one_clean_run(
    prefect_server: PrefectServer,
    corpus: Path,
    reference: tuple[Path, Run],
    first_half: Path,
    tmp_path: Path,
) -> None:
    lake = copy_lake(first_half, tmp_path / "lake")
    kill(prefect_server, corpus, lake, ADDING_RUN_KILL)
    assert_killed_between_write_and_rename(lake)
    finish(prefect_server, corpus, lake, reference[0])


@pytest.mark.slow
def test_a_kill_while_rolling_back_a_failed_run_then_the_fixed_run_gives_the_rows_of_one_clean_run(
    prefect_server: PrefectServer, corpus: Path, reference: tuple[Path, Run], tmp_path: Path
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    shutil.copytree(corpus, raw)
    # Mostly unreadable dates: date_parseable, a critical expectation, fails the run's
    # new rows, so the run rolls them back, and is killed while removing them.
    undated = [
        {"title": f"Notice {i}", "date": "the day after market day", "body": body(LIBRARY)}
        for i in range(100)
    ]
    (raw / "zz_undated.jsonl").write_text("\n".join(json.dumps(r) for r in undated) + "\n")
    kill(prefect_server, raw, lake, "roll_back.remove:2")
    # The fix: the bad file goes. Its batch, half removed, is planned no more.
    (raw / "zz_undated.jsonl").unlink()
    finish(prefect_server, raw, lake, reference[0])
