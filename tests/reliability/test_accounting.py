"""The books can fail: a row lost at any stage fails the run, naming the identity.

Every run checks its books (README: files in = ingested + quarantined files, records
in = ingested + quarantined records, ingested = cleaned + metadata-only + quarantined
at clean, cleaned = deduped + duplicates, deduped = enriched). Here one stage is made to lose
one row, in the process, and the run must fail with AccountingError naming the
identity that broke and record it in the run manifest, while the others balance.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import tasks.clean
import tasks.dedupe_phases
import tasks.enrich
import tasks.ingest
from flows.pipeline import AccountingError, newsflow_pipeline
from newsflow.config import PipelineConfig
from tests.conftest import SAMPLE_RAW

pytestmark = pytest.mark.flow


def without_last(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.head(frame.height - 1)


def lose_ingested_row(real: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps ingest's chunk generator: the last chunk of a batch loses its last row."""

    def lossy(*args: Any, **kwargs: Any) -> Any:
        chunks = list(real(*args, **kwargs))
        if chunks:
            chunks[-1] = without_last(chunks[-1])
        yield from chunks

    return lossy


def lose_first_of_pair(real: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a stage function returning (rows, other rows...): loses one of `rows`."""

    def lossy(*args: Any, **kwargs: Any) -> Any:
        rows, *others = real(*args, **kwargs)
        return (without_last(rows), *others)

    return lossy


def lose_frame_row(real: Callable[..., Any]) -> Callable[..., Any]:
    def lossy(*args: Any, **kwargs: Any) -> Any:
        return without_last(real(*args, **kwargs))

    return lossy


# (module, function, how it loses a row, the identity that must break)
LOSSES = {
    "ingest": (tasks.ingest, "ingested_chunks", lose_ingested_row, "records_in = ingested + "),
    "clean": (tasks.clean, "clean_frame", lose_first_of_pair, "ingested = cleaned + "),
    "dedupe": (
        tasks.dedupe_phases,
        "merge_clusters",
        lose_first_of_pair,
        "lake_cleaned = deduped + ",
    ),
    "enrich": (tasks.enrich, "enrich_frame", lose_frame_row, "deduped = enriched"),
}


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize("stage", sorted(LOSSES))
@pytest.mark.slow
def test_a_row_lost_at_a_stage_fails_the_run_naming_the_identity(
    stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, name, lossy, identity = LOSSES[stage]
    monkeypatch.setattr(module, name, lossy(getattr(module, name)))
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    shutil.copytree(SAMPLE_RAW, raw)
    # Only the cheap enrichers: what is checked here is the counting, not the enriching.
    config = PipelineConfig(input_dir=raw, lake_dir=lake, enrichers=["counts_v2"])
    with pytest.raises(AccountingError, match=re.escape(identity)):
        newsflow_pipeline(config)

    [manifest] = (lake / "runs").glob("*.json")
    run = json.loads(manifest.read_text(encoding="utf-8"))
    assert run["status"] == "unbalanced"
    broken = [c["identity"] for c in run["accounting"] if not c["balanced"]]
    assert len(broken) == 1
    assert broken[0].startswith(identity)
