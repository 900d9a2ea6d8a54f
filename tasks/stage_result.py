"""What a stage task returns: a small frozen record, not a dict read back by string keys.

Every per-batch stage task (ingest, clean, the quality gate, enrich) returns a
`StageResult` subclass: the batch, rows in and out, rows quarantined by rule and the
task's own seconds, plus what that stage alone reports. The flow's one collector
(flows/stage_runs.py) logs `line()` and hands the record to the run's books
(flows/books.py), so a misspelt count is a type error, not a silent zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class Reported(Protocol):
    """What the flow's collector needs of a task's result: whose it is (a batch, a
    group, a partition) and the log line that says what it did."""

    @property
    def batch_id(self) -> str: ...

    def line(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """One task run of a stage over one batch (or, for the gate, a group of batches)."""

    batch_id: str
    rows_in: int
    rows_out: int
    quarantined: int = 0
    quarantined_by_rule: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        """What the run's log says of this result after `<stage> i/n: `."""
        return f"batch {self.batch_id} -> {self.rows_out} rows, {self.quarantined} quarantined"
