"""Operating the flow: one writer per lake, cached batches after a failure, partial runs."""

from __future__ import annotations

import contextvars
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from prefect.utilities.collections import visit_collection

import tasks.clean
from flows.pipeline import newsflow_pipeline
from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.lock import LakeBusyError, holder, lake_lock
from tasks.enrich import ENRICHERS

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]

CHEAP = ["counts_v2", "source_v2"]  # enrichers that need no model: these tests are about flow


def run(raw: Path, lake: Path, **options: Any) -> dict[str, Any]:
    options.setdefault("enrichers", CHEAP)
    return newsflow_pipeline(PipelineConfig(input_dir=raw, lake_dir=lake, **options))


def rows(lake: Path, stage: str) -> pl.DataFrame:
    frame = Lake(lake).scan(stage).collect()
    return frame.drop(c for c in ("run_id", "batch_id") if c in frame.columns).sort("doc_id")


@pytest.fixture
def holder_process(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """Another process holding the lake's lock, as a concurrent run would."""
    lake = tmp_path / "lake"
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from newsflow.lock import lake_lock
        with lake_lock(Path({str(lake)!r}), "other-run", 0):
            Path({str(ready)!r}).touch()
            time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, "the lock holder died before taking the lock"
            assert time.monotonic() < deadline, "the lock holder never took the lock"
            time.sleep(0.05)
        yield lake, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_a_busy_lake_refuses_with_the_holder_named(
    holder_process: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    lake, proc = holder_process
    with (
        pytest.raises(LakeBusyError, match=r"run other-run \(pid \d+") as busy,
        lake_lock(lake, "me", wait_seconds=0.3, poll_seconds=0.05),
    ):
        pass
    assert str(proc.pid) in str(busy.value)
    assert holder(lake)["run_id"] == "other-run"  # the loser did not overwrite the record


def test_a_killed_holder_releases_the_lock(
    holder_process: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    lake, proc = holder_process
    waits: list[str] = []
    os.killpg(proc.pid, signal.SIGKILL)  # a crashed run leaves no stale lock
    with lake_lock(lake, "me", wait_seconds=30, on_wait=waits.append, poll_seconds=0.05):
        assert holder(lake)["run_id"] == "me"


def test_a_second_run_waits_then_refuses_without_touching_the_lake(
    holder_process: tuple[Path, subprocess.Popen[bytes]], sample_raw: Path
) -> None:
    lake, _ = holder_process
    with pytest.raises(LakeBusyError, match="gave up after 0.5 s"):
        run(sample_raw, lake, lock_wait_seconds=0.5)
    assert not Lake(lake).files("ingested")
    assert not (lake / "runs").exists()


@pytest.mark.slow
def test_two_runs_started_together_write_one_runs_rows(sample_raw: Path, tmp_path: Path) -> None:
    together, alone = tmp_path / "together", tmp_path / "alone"
    # Threads start with an empty context: each runs in a copy of this one, which
    # points Prefect at the session's server (tests/prefect_server.py).
    contexts = [contextvars.copy_context() for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda ctx: ctx.run(run, sample_raw, together), contexts)
    run(sample_raw, alone)
    # Whichever went second found every file ingested already and did no stage work.
    assert sorted([first["counts"]["files_new"], second["counts"]["files_new"]]) == [0, 7]
    for stage in ("ingested", "cleaned", "deduped", "duplicates", "enriched"):
        got, want = rows(together, stage), rows(alone, stage)
        assert got.equals(want), stage
        assert got["doc_id"].is_unique().all()


def test_a_failed_run_is_retried_from_its_cached_batches(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    real_clean = tasks.clean.clean_frame
    calls = {"n": 0}

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise OSError("disk went away")

    monkeypatch.setattr(tasks.clean, "clean_frame", broken)
    with pytest.raises(OSError, match="disk went away"):
        run(sample_raw, lake, batch_size=3)
    assert calls["n"] >= 3  # clean was retried before the run gave up
    monkeypatch.setattr(tasks.clean, "clean_frame", real_clean)

    again = run(sample_raw, lake, batch_size=3)
    assert again["counts"]["batches"] == 3
    assert again["counts"]["batches_cached"] == 3  # ingest was not redone
    assert again["counts"]["ingested"] == 9
    assert again["counts"]["enriched"] == 7
    assert again["status"] == "completed"


@contextmanager
def walks_of(function: Callable[..., Any], argument: str) -> Iterator[list[tuple[str, ...]]]:
    """Every call of the recursive Python function `function`, as the type names of its
    `argument` from the outermost call down, in this thread and threads started
    meanwhile; seen by the interpreter's profiler, so nothing is replaced."""
    code = function.__code__
    walked: list[tuple[str, ...]] = []
    local = threading.local()

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if frame.f_code is not code:
            return
        stack: list[str] = local.__dict__.setdefault("stack", [])
        if event == "call":
            stack.append(type(frame.f_locals[argument]).__name__)
            walked.append(tuple(stack))
        elif event == "return":
            stack.pop()

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield walked
    finally:
        sys.setprofile(None)
        threading.setprofile(None)


@pytest.mark.slow
def test_prefect_does_not_walk_a_batchs_file_entries(sample_raw: Path, tmp_path: Path) -> None:
    """Prefect searches task arguments for futures with its public `visit_collection`,
    one call per element it walks into: it never walks into a quoted argument's parts,
    so never into a batch's file entries (36 ms per 500-file batch)."""
    with walks_of(visit_collection, "expr") as walked:
        done = run(sample_raw, tmp_path / "lake", stop_after="clean")
    assert done["counts"]["ingested"] == 9
    assert any(path[-1] == "quote" for path in walked)  # the watch sees quoted arguments
    # Prefect looks at the quoted value itself (and stops there), never at its parts.
    assert [path for path in walked if "quote" in path[:-2]] == []
    assert [path for path in walked if path[-1] == "InputFile"] == []


@pytest.mark.slow
def test_a_full_refresh_never_reuses_cached_results(sample_raw: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run(sample_raw, lake)
    refreshed = run(sample_raw, lake, full_refresh=True)
    assert refreshed["counts"].get("batches_cached", 0) == 0
    assert refreshed["counts"]["enriched"] == 7


@pytest.mark.slow
def test_stopping_after_clean_then_catching_up(sample_raw: Path, tmp_path: Path) -> None:
    partial, whole = tmp_path / "partial", tmp_path / "whole"
    first = run(sample_raw, partial, stop_after="clean")
    assert first["stages_run"] == ["ingest", "clean", "quality"]
    assert Lake(partial).count("cleaned") == 9
    assert not Lake(partial).files("deduped")

    second = run(sample_raw, partial, stop_after="dedupe")  # no new input: dedupe catches up
    assert second["stages_run"] == ["ingest", "dedupe", "quality"]
    assert not Lake(partial).files("enriched")
    third = run(sample_raw, partial)
    assert third["stages_run"] == ["ingest", "enrich", "quality"]
    fourth = run(sample_raw, partial)
    assert fourth["stages_run"] == ["ingest"]  # and now nothing is left to do

    run(sample_raw, whole)
    for stage in ("deduped", "duplicates", "enriched"):
        assert rows(partial, stage).equals(rows(whole, stage)), stage


@pytest.mark.slow
def test_re_enrich_applies_new_enrichers_to_every_batch(sample_raw: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    run(sample_raw, lake, enrichers=["counts_v2"])
    assert rows(lake, "enriched")["domain"].is_null().all()
    unchanged = run(sample_raw, lake, enrichers=CHEAP)  # nothing new: nothing re-enriched
    assert "enrich" not in unchanged["stages_run"]
    renamed = ["dateline_v2", "keywords_v2"]  # the successors of dateline_v1, keywords_v1
    again = run(sample_raw, lake, re_enrich=True, enrichers=[*CHEAP, *renamed])
    assert "enrich" in again["stages_run"]
    assert again["counts"]["enriched"] == 7
    enriched = rows(lake, "enriched")
    assert enriched.height == 7
    assert enriched["domain"].drop_nulls().to_list()  # source_v2 ran this time
    assert enriched["keywords"].list.len().sum() > 0
    # Every file now names the enrichers of this run, in registry order.
    for path in Lake(lake).files("enriched"):
        named = pq.read_schema(path).metadata[b"newsflow.enrichers"].decode().split(",")
        assert named == [name for name in ENRICHERS if name in [*CHEAP, *renamed]]


def test_lock_wait_is_an_option_of_the_command_line(
    holder_process: tuple[Path, subprocess.Popen[bytes]],
    sample_raw: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main

    lake, _ = holder_process
    argv = ["run", "--input", str(sample_raw), "--lake", str(lake), "--lock-wait", "0.5"]
    assert main([*argv, "--enrichers", ",".join(CHEAP)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "gave up after 0.5 s" in line
    assert not Lake(lake).files("ingested")
