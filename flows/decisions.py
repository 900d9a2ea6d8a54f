"""The flow's decisions after the commit, each a named function: which stages a run
wants, whether dedupe has work, which batches to enrich, which enriched files go.

Dedupe and enrich work on lake totals: a lake whose dedupe outputs or index are behind
cleaned/ is brought up to date even without new input (`tasks.dedupe_lake.dedupe_behind`,
from the footers; dedupe's plan phase then asks `rebuild_reason` whether to continue
from the index or rebuild it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.books import STAGES_IN_ORDER
from newsflow.lake import Lake
from tasks.dedupe_lake import dedupe_behind, unenriched_batches
from tasks.enrich import outdated_batches


@dataclass(frozen=True)
class Deduped:
    """What dedupe did, over the whole lake (tasks/dedupe_stage.py `run_dedupe`)."""

    # Batches whose deduped/ files dedupe rewrote (to enrich again), and rewrote or removed.
    batches: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    rebuilt: str | None = None  # why the index was rebuilt, if it was
    cleaned: int = 0
    deduped: int = 0
    duplicates: int = 0
    new: int = 0
    clusters_rewritten: int = 0

    @classmethod
    def of(cls, result: Mapping[str, Any]) -> Deduped:
        return cls(**{name: result[name] for name in cls.__dataclass_fields__})

    def line(self) -> str:
        return (
            f"{self.new} new of {self.cleaned} cleaned rows; {self.clusters_rewritten} "
            f"clusters rewritten in {len(self.touched)} batches; lake holds {self.deduped} "
            f"records, {self.duplicates} duplicates"
        )


NOT_DEDUPED = Deduped()


def stages_wanted(stop_after: str, committed: bool) -> tuple[str, ...]:
    """The stages after ingest this run goes to: up to `stop_after`, or only clean when
    the gate failed (its batches were rolled back: nothing new reaches dedupe)."""
    if not committed:
        return STAGES_IN_ORDER[:1]
    return STAGES_IN_ORDER[: STAGES_IN_ORDER.index(stop_after) + 1]


def dedupe_due(new_batches: bool, lake: Lake) -> bool:
    """New input, or a lake whose dedupe outputs or index are behind cleaned/."""
    return new_batches or dedupe_behind(lake)


def pending_enrich(lake: Lake) -> set[str]:
    """Deduped batches whose enriched files are missing, partial, stale or left over (a
    run stopped early): footers name the run and count the rows, mtimes can do neither.
    Also those written by an enricher or schema this code no longer has."""
    return unenriched_batches(lake) | outdated_batches(lake)


def batches_to_enrich(
    lake: Lake, deduped: Deduped | None, due: bool, re_enrich: bool, wants: tuple[str, ...]
) -> list[str]:
    """What dedupe rewrote (`deduped`, None when it did not run), what an earlier run
    that stopped early left behind, or (`re_enrich`) every deduped batch."""
    todo = deduped.batches if deduped is not None else []
    if deduped is not None or not due:
        todo = sorted({*todo, *pending_enrich(lake)})
    if re_enrich and "dedupe" in wants:
        todo = [p.stem for p in lake.files("deduped")]
    return todo


def superseded_names(deduped: Deduped, re_enrich: bool, todo: list[str]) -> list[str] | None:
    """The batches whose enriched files not written by this run go: those dedupe touched
    and those enriched here; None (every stale file) after an index rebuild, which may
    rename batches, or a re-enrich of all."""
    return None if deduped.rebuilt or re_enrich else [*deduped.touched, *todo]
