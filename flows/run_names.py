"""Names that make a run findable in the Prefect UI: flow runs named by the lake and
newsflow's run id, task runs by short batch labels, artifact keys per lake.

The run id is made once, when Prefect names the flow run (before the flow's body
starts), and read back from that name by the flow, so the UI, the run manifest
(`runs/<run_id>.json`) and the logs all say the same id.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar, cast

import polars as pl

from newsflow.config import PipelineConfig, lake_slug
from newsflow.inputs import Batch

if TYPE_CHECKING:
    from prefect import Task

RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
# Characters of the first file's name a batch label keeps: enough to recognise a
# file in the UI's narrow task boxes.
LABEL_NAME_CHARS = 24
ID_CHARS = 6
T = TypeVar("T", bound="Task[Any, Any]")


def new_run_id() -> str:
    """Sortable by start time, unique across machines."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def lake_label(config: Any) -> str:
    """The lake's name for run names and keys, from a PipelineConfig or its dict form."""
    if isinstance(config, Mapping):
        config = PipelineConfig(**config)
    config = config if isinstance(config, PipelineConfig) else PipelineConfig()
    return lake_slug(config.lake_dir, config.lake_name)


def flow_run_name() -> str:
    """`<lake> <run id>`, e.g. `data-lake 20261206T235901Z-3fa2c1d0`: what Prefect names
    each run of the flow. Never fails: a name is not worth a crashed run."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    try:
        lake = lake_label(((context.parameters if context else None) or {}).get("config"))
    except Exception:
        lake = "lake"
    return f"{lake} {new_run_id()}"


def current_run_id() -> str:
    """The run id in this flow run's name (see flow_run_name); a new one outside a run
    or when the run was named otherwise."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    name = context.flow_run.name if context and context.flow_run else ""
    found = RUN_ID.search(name or "")
    return found.group(0) if found else new_run_id()


def flow_run_ui_url() -> str | None:
    """This flow run's page in the Prefect UI (the page the run's "View at" log line
    names); None without a server that outlives the run (Prefect's temporary server
    has no UI to come back to)."""
    from prefect.context import FlowRunContext
    from prefect.utilities.urls import url_for

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    try:
        return url_for("flow-run", obj_id=context.flow_run.id)
    except Exception:  # a link is not worth a failed run
        return None


def artifact_key(name: str, config: PipelineConfig) -> str:
    """An artifact key per lake: two lakes' runs never overwrite each other's tables."""
    return f"{name}-{lake_slug(config.lake_dir, config.lake_name)}"


def batch_label(first_file: str, files: int, batch_id: str) -> str:
    """A batch as people recognise it: its first file's name, shortened, how many more
    files it holds, and the start of its id (`bbc_001.txt+499-3fa2c1`)."""
    name = PurePosixPath(first_file).name
    if len(name) > LABEL_NAME_CHARS:
        name = name[: LABEL_NAME_CHARS - 1] + "~"
    more = f"+{files - 1}" if files > 1 else ""
    return f"{name}{more}-{batch_id[:ID_CHARS]}"


def named(task: T, stage: str, batch_id: str, labels: Mapping[str, str]) -> T:
    """`task` whose run shows as `<stage>-<batch label>` (a copy; the name travels
    with the task, so it holds under Dask too)."""
    label = labels.get(batch_id) or f"batch-{batch_id[:ID_CHARS]}"
    return cast(T, task.with_options(task_run_name=f"{stage}-{label}"))


def labels_from_manifest(manifest: pl.DataFrame, batches: Iterable[Batch]) -> dict[str, str]:
    """Labels of every batch the lake knows (its file manifest: earlier runs' batches,
    which enrich may revisit) and of this run's planned `batches`."""
    known = manifest.group_by("batch_id", maintain_order=True).agg(
        pl.col("source_file").first(), pl.len().alias("files")
    )
    labels = {
        b: batch_label(first, files, b)
        for b, first, files in known.select("batch_id", "source_file", "files").iter_rows()
    }
    for batch in batches:
        labels[batch.batch_id] = batch_label(batch.files[0].path, len(batch.files), batch.batch_id)
    return labels
