"""Running `newsflow run` as a process, and comparing the lakes it leaves behind.

Runs talk to the session's Prefect server (`prefect_server`, tests/conftest.py):
booting Prefect's temporary server for each run would cost 10-15 s a run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from newsflow.faults import KILL_AT
from newsflow.lake import STAGES, Lake
from newsflow.tables import TABLES, snapshot

REPO = Path(__file__).resolve().parents[2]
NEWSFLOW = REPO / ".venv" / "bin" / "newsflow"
RUN_TIMEOUT_S = 600  # a hang guard for one run on a busy machine, not a speed test
# Every folder a run writes rows to, the file manifest included.
# dedupe_batches is the index's list of the batches it holds: one row per batch, so how
# the input was batched shows in it, not which documents the lake holds.
ROW_STAGES = (*(s for s in STAGES if s != "dedupe_batches"), "manifest")
# Columns that legitimately differ between two runs over the same input: which run
# wrote a row, and which batch its file landed in (batches depend on what was new).
RUN_COLUMNS = ("run_id", "batch_id")
UNIQUE_DOC_IDS = ("ingested", "cleaned", "deduped", "enriched", "duplicates", "dedupe_index")


BATCH_SIZE = "3"  # several batches from a small corpus, so kills land between them


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str  # stdout and stderr, interleaved

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def newsflow_run(
    env: dict[str, str], raw: Path, lake: Path, *args: str, kill_at: str | None = None
) -> Run:
    """`newsflow run` in its own process group, which is always gone afterwards."""
    env = {k: v for k, v in env.items() if k != KILL_AT}
    if kill_at:
        env[KILL_AT] = kill_at
    command = [str(NEWSFLOW), "run", "--input", str(raw), "--lake", str(lake), *args]
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        kill_group(proc)
    return Run(proc.returncode, output)


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process group of `proc` (its own session) and reap `proc`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows without run and batch ids, in a canonical order."""
    frame = frame.drop(c for c in RUN_COLUMNS if c in frame.columns)
    flat = [c for c, t in frame.schema.items() if not t.is_nested()]
    return frame.sort(flat, nulls_last=True)


def stage_rows(lake: Path | str, stage: str) -> pl.DataFrame:
    """A stage's rows in the pipeline's working copy, canonical (see `canonical`)."""
    lake_ = Lake(lake)
    frame = lake_.read_manifest() if stage == "manifest" else lake_.scan(stage).collect()
    return canonical(frame)


def table_rows(lake: Path | str, stage: str) -> pl.DataFrame:
    """A table's rows as readers see them (its newest committed version), canonical."""
    return canonical(snapshot(lake).scan(stage).collect())


def assert_same_rows(expected: Path | str, actual: Path | str) -> None:
    """Every stage of `actual` holds exactly the rows of `expected` (run/batch ids aside),
    in the working copy and in the tables readers read."""
    for stage in ROW_STAGES:
        want, got = stage_rows(expected, stage), stage_rows(actual, stage)
        assert got.height == want.height, f"{stage}: {got.height} rows, expected {want.height}"
        assert got.equals(want), f"{stage}: same row count, different rows"
    for stage in TABLES:
        want, got = table_rows(expected, stage), table_rows(actual, stage)
        assert got.height == want.height, f"table {stage}: {got.height} rows, not {want.height}"
        assert got.equals(want), f"table {stage}: same row count, different rows"


def assert_consistent(lake: Path | str) -> None:
    """No document twice in a stage; the dedupe index agrees with cleaned/ and deduped/."""
    rows = {stage: Lake(lake).scan(stage).collect() for stage in UNIQUE_DOC_IDS}
    for stage, frame in rows.items():
        assert frame["doc_id"].is_unique().all(), f"duplicate doc_ids in {stage}"
    index, cleaned = rows["dedupe_index"], rows["cleaned"]
    assert set(index["doc_id"]) == set(cleaned["doc_id"])
    assert set(index["kept_doc_id"]) == set(rows["deduped"]["doc_id"])
    assert index.height == rows["deduped"].height + rows["duplicates"].height
    assert set(rows["enriched"]["doc_id"]) == set(rows["deduped"]["doc_id"])
    # A completed run committed its work: the tables hold the working copy's rows.
    for stage in TABLES:
        assert table_rows(lake, stage).equals(stage_rows(lake, stage)), f"table {stage}"


def visible_parquet(lake: Path) -> list[Path]:
    """What a reader globbing `**/*.parquet` picks up."""
    return sorted(lake.glob("**/*.parquet"))


def assert_readable(lake: Path) -> None:
    """Every file a reader can see is whole, and temp files are hidden from readers."""
    for path in visible_parquet(lake):
        assert not path.name.startswith("."), f"hidden file matched *.parquet: {path}"
        pq.read_table(path)  # a half-written file fails here (no footer)
    for stage in ROW_STAGES:
        folder = Lake(lake).stage_dir(stage)
        if folder.is_dir():
            pq.read_table(folder)  # a folder read, as pandas does: hidden files skipped
    for stage in TABLES:  # each table's newest version reads whole
        snapshot(lake).scan(stage).collect()


def temp_files(lake: Path) -> list[Path]:
    return sorted(p for p in lake.rglob("*.tmp"))
