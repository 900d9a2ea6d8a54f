"""Which per-batch results Prefect persists: a local lake's ingest and clean are cached
on the batch; a lake on object storage persists no task result (decision 0002)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.cache_policies import NO_CACHE

from newsflow.task_cache import CACHE_EXPIRATION, CLEAN_CACHE, INGEST_CACHE, batch_cache
from tasks.clean import clean
from tasks.ingest import ingest


@pytest.mark.parametrize(
    ("stage", "task", "policy"), [("ingest", ingest, INGEST_CACHE), ("clean", clean, CLEAN_CACHE)]
)
def test_a_local_lake_caches_each_batch(
    stage: str, task: object, policy: object, tmp_path: Path
) -> None:
    options = batch_cache(stage, tmp_path / "lake")
    configured = task.with_options(**options)  # type: ignore[attr-defined]
    assert configured.cache_policy is policy
    assert configured.persist_result is True
    assert configured.cache_expiration == CACHE_EXPIRATION


@pytest.mark.parametrize("stage", ["ingest", "clean"])
def test_a_lake_on_object_storage_persists_no_task_result(stage: str) -> None:
    task = {"ingest": ingest, "clean": clean}[stage]
    configured = task.with_options(**batch_cache(stage, "s3://bucket/lake"))  # type: ignore[attr-defined]
    assert configured.persist_result is False
    assert configured.cache_policy is NO_CACHE
