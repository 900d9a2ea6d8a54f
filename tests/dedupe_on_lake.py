"""The shipped dedupe stage (tasks/dedupe_stage.py) run on a temporary lake, for tests
that start from cleaned rows: no second implementation, the phases run in-process."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl

import tasks.dedupe_phases
from newsflow.config import DedupeConfig
from newsflow.lake import Lake
from tasks.dedupe_rules import VerifyPacking
from tasks.dedupe_stage import run_dedupe


class DedupeLake:
    """A temporary lake fed cleaned rows run after run (`add`, then `run`)."""

    def __init__(self, root: Path | None = None) -> None:
        self._tmp = None if root else tempfile.mkdtemp(prefix="newsflow-dedupe-test-")
        self.root = root or Path(str(self._tmp))
        self.lake = Lake(self.root)

    def add(self, rows: pl.DataFrame) -> None:
        """Write cleaned rows as cleaned/<batch_id> files (appended to a batch already
        there, as a batch that gained rows)."""
        for (batch,), part in rows.group_by("batch_id", maintain_order=True):
            path = self.lake.stage_dir("cleaned") / f"{batch}.parquet"
            if path.exists():
                part = pl.concat([pl.read_parquet(path), part], how="vertical_relaxed")
            self.lake.write(part, "cleaned", str(batch), "r0")

    def run(self, run_id: str = "r", config: DedupeConfig | None = None) -> dict[str, Any]:
        return run_dedupe(str(self.root), run_id, config, submit=False)

    def stage(self, name: str) -> pl.DataFrame:
        return self.lake.scan(name).collect().sort("doc_id")

    def stage_rows(self, name: str) -> pl.DataFrame:
        """Every row of a stage or index table, in a canonical order (any columns)."""
        frame = self.lake.scan(name).collect()
        return frame.sort([c for c, t in frame.schema.items() if not t.is_nested()])

    def __enter__(self) -> DedupeLake:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


def dedupe_frame(
    cleaned: pl.DataFrame, run_id: str = "r", config: DedupeConfig | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(deduped, duplicates) the dedupe stage writes for `cleaned` on a fresh lake,
    sorted by doc_id."""
    with DedupeLake() as lake:
        lake.add(cleaned)
        lake.run(run_id, config)
        return lake.stage("deduped"), lake.stage("duplicates")


def recorded_packing(monkeypatch: Any) -> list[pl.DataFrame]:
    """The buckets the routes phase places from now on, each with its verify partitions
    (`part`): so a test can tell that its run cut or packed buckets at all."""
    placed: list[pl.DataFrame] = []

    class Recorded(VerifyPacking):
        def place(self, pairs: pl.DataFrame) -> pl.DataFrame:
            placed.append(super().place(pairs))
            return placed[-1]

    monkeypatch.setattr(tasks.dedupe_phases, "VerifyPacking", Recorded)
    return placed
