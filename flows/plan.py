"""Planning a run: which input files are new, in which batches, and what cannot be read.

`plan_run` is a Prefect task (retried, shown in the UI) that lists and hashes the input,
diffs it with the lake's file manifest, cuts the new files into batches and quarantines
the files it could not read. It runs in the flow's own thread (`stage_runs.call`), and
keeps no result and no cache key: at 1M files its plan is a 1M-entry list, which Prefect
must neither hash (a cache key over the inputs) nor persist (a result file), nor ship to
and from a Dask worker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.run_names import labels_from_manifest
from newsflow.config import PipelineConfig
from newsflow.inputs import Batch, InputFile, Rejected, plan_batches
from newsflow.lake import UNBATCHED, Lake
from newsflow.object_inputs import list_any_inputs
from newsflow.progress import run_logger
from newsflow.schema import QUARANTINE
from newsflow.tables import check_layout
from newsflow.task_cache import lake_generation
from tasks.enrich import warm_up

# New input between these sizes starts the enrichers' worker processes early. Less
# enriches too few rows for workers (tasks/enrichers/workers.py); more runs long enough
# that their start-up (~2 s) is lost in it, while their memory (~100 MB each) would
# sit through dedupe, the run's peak.
WARM_UP_BYTES = (1_000_000, 256_000_000)


@dataclass(frozen=True)
class RunPlan:
    """What a run will ingest. `batches` holds every new file's entry (a million at 1M
    files): it travels as this object, by reference, never as a task argument Prefect
    walks (stage_runs.unwalked) or a result it stores."""

    batches: tuple[Batch, ...]
    files_seen: int
    files_new: int
    rejected_by_rule: Mapping[str, int]
    # Readable names of every batch the lake knows and of this run's (flows/run_names.py).
    labels: Mapping[str, str]
    # Batches a run killed before its commit left, not planned again: to roll back.
    left_uncommitted: tuple[str, ...]

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_rule.values())

    def summary(self, run_id: str, input_shown: str) -> str:
        return (
            f"Run {run_id}: {self.files_seen} files in {input_shown}; {self.files_new} new in "
            f"{len(self.batches)} batches, {self.files_seen - self.files_new} already "
            f"ingested, {self.rejected} unreadable"
        )


def prepare_lake(lake: Lake, full_refresh: bool) -> None:
    """Refuse an old-layout lake (migrated once, by `newsflow migrate`) or one of another
    schema version; clear the stage outputs on a full refresh."""
    check_layout(lake.root)
    if full_refresh:
        run_logger().info("Full refresh: clearing stage outputs under %s", lake.root)
        lake.clear_outputs()
        lake_generation(lake.root, renew=True)  # no cached task result outlives the refresh
    lake.check_schema_version()  # a lake of another schema version is refreshed, not mixed
    lake_generation(lake.root)  # made once here, before parallel tasks ask for it


def new_files(files: Iterable[InputFile], seen: set[str]) -> list[InputFile]:
    """The files whose content the lake's file manifest does not hold."""
    return [f for f in files if f.content_hash not in seen]


def rejected_rows(rejected: list[Rejected], run_id: str) -> pl.DataFrame:
    """Quarantine rows of the files that could not be listed or read."""
    rows = [
        {
            "source_file": r.path,
            "record_index": None,
            "stage": "ingest",
            "rule": r.rule,
            "detail": r.detail,
            "doc_id": None,
            "run_id": run_id,
            "batch_id": UNBATCHED,
        }
        for r in rejected
    ]
    return pl.DataFrame(rows, schema=QUARANTINE)


@task(name="plan", retries=1, retry_delay_seconds=1, cache_policy=NO_CACHE, persist_result=False)
def plan_run(config: PipelineConfig, run_id: str) -> RunPlan:
    """List and hash the input, diff it with the file manifest, batch the new files and
    quarantine the unreadable ones."""
    lake = Lake(config.lake_dir)
    manifest = lake.read_manifest()
    seen = set(manifest["content_hash"].to_list())
    files, rejected = list_any_inputs(config.input_dir, lake.root, seen)
    new = new_files(files, seen)
    batches = plan_batches(new, batch_size=config.batch_size, max_bytes=config.batch_max_bytes)
    left = lake.uncommitted_batches() - {b.batch_id for b in batches}
    lake.write(rejected_rows(rejected, run_id), "quarantine", f"ingest-{UNBATCHED}", run_id)
    return RunPlan(
        batches=tuple(batches),
        files_seen=len(files),
        files_new=len(new),
        rejected_by_rule=dict(Counter(r.rule for r in rejected)),
        labels=labels_from_manifest(manifest, batches),
        left_uncommitted=tuple(sorted(left)),
    )


def warm_up_enrichers(config: PipelineConfig, batches: Iterable[Batch], tasks_here: bool) -> None:
    """Start the enrichers' worker processes and their models now: they load in other
    processes while ingest and clean, which leave a core idle part of the time, run.
    Only when tasks run in this process (threads): Dask's workers enrich in their own.
    (GX is not warmed so: its import holds this process's GIL, and ingest slowed by
    as much as the quality gate gained.)"""
    low, high = WARM_UP_BYTES
    size = sum(b.size for b in batches)
    if tasks_here and config.stop_after == "enrich" and low <= size < high:
        warm_up(config.enrichers)
