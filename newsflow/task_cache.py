"""Prefect cache keys for the per-batch tasks: a batch whose input is unchanged is skipped.

A batch id already hashes every file's path and content, so a key is the batch id
plus everything else the task's output depends on: the settings it reads, the
code version, and the lake's *generation*. The generation is a random token in
the lake, renewed on every full refresh (and missing in a new lake), so a cached
result can never stand in for output that has since been deleted.

Runs that see only known files never submit a batch at all (the file manifest
says they are ingested); the cache is what lets a run that was interrupted, or a
flow run retried from the UI, skip the batches it had already finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE, CacheKeyFnPolicy
from prefect.context import TaskRunContext

from newsflow import __version__
from newsflow.lake import Lake
from newsflow.storage import is_url, location_key

GENERATION_FILE = ".generation"
# Long enough for any retry of a run; short enough that old results do not pile up.
CACHE_EXPIRATION = timedelta(days=7)
# The shape of a cached task result: changed when a task returns another type (dicts
# became frozen records, tasks/stage_result.py), so no older result is read back.
RESULT_SHAPE = "stage-result-v1"


def lake_generation(lake_root: Path, renew: bool = False) -> str:
    """The lake's generation token, created on first use and replaced when `renew`."""
    path = lake_root / GENERATION_FILE
    if not renew:
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            pass
    token = uuid.uuid4().hex
    lake_root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{GENERATION_FILE}.{token}.tmp")
    tmp.write_text(token, encoding="utf-8")
    try:
        if renew:
            tmp.replace(path)
            return token
        # Tasks asking at once for a new lake's token must all get the same one: the
        # first link wins, the others read it.
        try:
            os.link(tmp, path)
            return token
        except FileExistsError:
            return path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)


def _key(stage: str, lake_dir: Any, batch_id: str, settings: Any) -> str:
    lake_root = Path(lake_dir).resolve()
    material = json.dumps(
        [
            stage,
            RESULT_SHAPE,
            __version__,
            str(lake_root),
            lake_generation(lake_root),
            batch_id,
            settings,
        ],
        sort_keys=True,
        default=str,
    )
    return f"newsflow-{stage}-{hashlib.blake2b(material.encode(), digest_size=16).hexdigest()}"


def ingest_key(_: TaskRunContext, inputs: dict[str, Any]) -> str:
    config = inputs["config"]
    settings = config.model_dump(
        mode="json", include={"input_dir", "max_file_bytes", "stream_min_bytes", "field_mappings"}
    )
    settings["input_dir"] = location_key(config.input_dir)
    return _key("ingest", config.lake_dir, inputs["batch"].batch_id, settings)


def _ingested_by(lake_dir: Any, batch_id: str) -> str:
    lake = Lake(lake_dir)
    path = lake.stage_dir("ingested") / f"{batch_id}.parquet"
    return lake.run_of(path) if path.exists() else ""


def clean_key(_: TaskRunContext, inputs: dict[str, Any]) -> str:
    # The run date decides which dates are "in the future"; the thresholds decide
    # which lines are boilerplate.
    thresholds = inputs.get("thresholds")
    settings = {
        "run_date": str(inputs["run_date"]),
        "thresholds": thresholds.model_dump(mode="json") if thresholds else None,
        # The run that wrote the batch's ingested/ file: the same files read with
        # other settings (a new field mapping after a failed run) are cleaned again.
        "ingested_by": _ingested_by(inputs["lake_dir"], inputs["batch_id"]),
    }
    return _key("clean", inputs["lake_dir"], inputs["batch_id"], settings)


INGEST_CACHE = CacheKeyFnPolicy(cache_key_fn=ingest_key)
CLEAN_CACHE = CacheKeyFnPolicy(cache_key_fn=clean_key)
_POLICIES = {"ingest": INGEST_CACHE, "clean": CLEAN_CACHE}


def batch_cache(stage: str, lake_dir: Path | str) -> dict[str, Any]:
    """The task options of a per-batch stage (`ingest`, `clean`): cached on the batch
    and persisted for a local lake; for a lake on object storage, nothing persisted.

    There the Dask workers may be other machines, and Prefect persists results where
    the task runs (each worker's own PREFECT_HOME), so a cache would only hit on the
    worker that wrote it, and stale results could outlive the lake's state. What is
    done is read from the lake instead (committed tables, the working copy's batches);
    task results are small and reach the flow through Dask (decision 0002).
    """
    if is_url(str(lake_dir)):
        return {"cache_policy": NO_CACHE, "persist_result": False}
    return {
        "cache_policy": _POLICIES[stage],
        "persist_result": True,
        "cache_expiration": CACHE_EXPIRATION,
    }
