"""`newsflow vacuum --lake s3://…` against the test server (SeaweedFS), as a user runs it:
after two runs, the files only superseded versions used leave the bucket, the newest
version of every table and the newest run's pinned reads keep their rows, and a vacuum
while another run holds the lake's lease refuses in one line, deleting nothing.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from app.cli import main
from newsflow.lake import Lake
from newsflow.lease import FENCE_APP_ID, Lease, LeaseLost
from newsflow.tables import (
    TABLES,
    Snapshot,
    open_table,
    snapshot,
    storage_options,
    table_uri,
    table_versions,
    vacuum,
)
from tests.reliability.lakes import canonical
from tests.s3_server import S3Server

pytestmark = [pytest.mark.flow, pytest.mark.s3, pytest.mark.usefixtures("prefect_server")]

ENRICHERS = "counts_v2,source_v2"
WORDS = re.findall(
    r"\S+",
    "river valley orchard apples cider press harvest farmers co-op tractor fields barn "
    "rain forecast road closure bridge repairs parish council mayor library opening hours "
    "volunteers cyclists race route village green fair bakery bread prize judges",
)


def story(n: int, near_copy: bool = False) -> dict[str, Any]:
    """An invented article (seed `n`); `near_copy` gives the same body on another page
    with one more sentence, so it joins the original's cluster and changes it."""
    pick = random.Random(n).choice
    body = "\n\n".join(
        " ".join(pick(WORDS) for _ in range(40)).capitalize() + "." for _ in range(3)
    )
    if near_copy:
        body += "\n\nThe council said the work would finish before the autumn fair."
    page = "copy-" if near_copy else ""
    return {
        "title": f"Valley news {n}",
        "date": f"2024-0{1 + n % 9}-1{n % 10}",
        "url": f"https://valley-herald.example.org/{page}story-{n}",
        "body": body,
    }


def _run(raw: Path, lake: str) -> dict[str, Any]:
    args = ["run", "--input", str(raw), "--lake", lake, "--batch-size", "1"]
    assert main([*args, "--enrichers", ENRICHERS]) == 0
    run = Lake(lake).last_run()
    assert run is not None
    return run


def _table_files(s3: S3Server, lake: str) -> dict[str, set[str]]:
    """Each table's data files in the bucket (paths relative to the table)."""
    fs = s3.filesystem()
    found: dict[str, set[str]] = {}
    for stage in TABLES:
        root = table_uri(lake, stage).removeprefix("s3://")
        keys = fs.find(root) if fs.exists(root) else []
        found[stage] = {
            key.removeprefix(f"{root}/") for key in keys if "/_delta_log/" not in key
        } - {""}
    return found


def _newest_files(lake: str) -> dict[str, set[str]]:
    """The files each table's newest version reads (its add actions)."""
    found: dict[str, set[str]] = {}
    for stage in TABLES:
        uri = table_uri(lake, stage)
        try:
            table = open_table(uri)
        except Exception:  # a table never committed (no metadata-only rows)
            found[stage] = set()
            continue
        found[stage] = set(pl.DataFrame(table.get_add_actions(flatten=True))["path"])
    return found


def _rows(snap: Snapshot) -> dict[str, pl.DataFrame]:
    return {stage: canonical(snap.scan(stage).collect()) for stage in TABLES}


def _newest(lake: str) -> Snapshot:
    """Every table at its newest version (a vacuum adds versions of its own)."""
    return Snapshot(lake, table_versions(lake))


def _assert_refused_without_the_lease(
    lake: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """While another run holds the lake's lease, vacuum waits `--lock-wait`, saying so
    like a run, then gives up in one line naming the holder (exit 1); a vacuum whose
    lease is gone (here: never taken) is fenced like a run's commit."""
    holder = Lease(lake, "other-run")
    holder.acquire(wait_s=0)
    try:
        assert main(["vacuum", "--lake", lake, "--retain", "0", "--lock-wait", "1"]) == 1
    finally:
        holder.release()
    out, err = capsys.readouterr()
    # It logs that it waits (to stderr or wherever the logging setup sends it), then
    # gives up in one line.
    waited = [w for w in f"{err}\n{caplog.text}".splitlines() if "Waiting for the lake: " in w]
    assert waited
    assert all("held by run other-run" in w for w in waited)
    *_, line = err.strip().splitlines()
    assert [e for e in err.splitlines() if e.startswith("newsflow:")] == [line]
    assert line.startswith("newsflow: vacuum failed: LeaseHeld: ")
    assert "held by run other-run" in line
    assert "gave up after 1 s" in line
    assert out == ""
    with pytest.raises(LeaseLost, match="stale-vacuum no longer holds"):
        vacuum(lake, 0, "stale-vacuum")


def test_vacuum_on_s3_deletes_superseded_files_and_keeps_the_newest_versions(
    s3_env: S3Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw, lake = tmp_path / "raw", f"s3://{s3_env.new_bucket('vacuum')}/lake"
    raw.mkdir()
    (raw / "one.json").write_text(json.dumps([story(n) for n in range(4)]), encoding="utf-8")
    first = _run(raw, lake)
    copies = [story(n, near_copy=True) for n in range(2)]
    (raw / "two.json").write_text(json.dumps(copies), encoding="utf-8")
    second = _run(raw, lake)
    assert first["counts"]["enriched"] == 4
    assert second["counts"]["files_new"] == 1

    # What a run killed between copying a file into a table and committing it leaves
    # (tables.commit_table): a file no version ever read. Vacuum deletes it too.
    enriched = table_uri(lake, "enriched").removeprefix("s3://")
    kept = min(_newest_files(lake)["enriched"])
    s3_env.filesystem().copy(f"{enriched}/{kept}", f"{enriched}/{kept}.killed-run.parquet")

    before, newest = _table_files(s3_env, lake), _newest_files(lake)
    superseded = {stage: before[stage] - newest[stage] for stage in TABLES}
    # The second run changed two clusters: deduped and enriched have files only the
    # first run's versions read.
    assert superseded["enriched"] - {f"{kept}.killed-run.parquet"}
    assert superseded["deduped"]
    assert all(newest[stage] <= before[stage] for stage in TABLES)
    rows, pinned = _rows(_newest(lake)), _rows(snapshot(lake, second["run_id"]))
    second_generation = open_table(table_uri(lake, "enriched")).transaction_version(FENCE_APP_ID)
    assert second_generation is not None
    capsys.readouterr()

    _assert_refused_without_the_lease(lake, capsys, caplog)
    assert _table_files(s3_env, lake) == before  # refused: nothing deleted

    assert main(["vacuum", "--lake", lake, "--retain", "0"]) == 0
    out, err = capsys.readouterr()
    deleted = sum(len(files) for files in superseded.values())
    assert out.splitlines() == [f"vacuum: {deleted} files deleted (0 h of versions kept)"]
    assert s3_env.secret_key not in out + err
    assert _table_files(s3_env, lake) == newest  # only what the newest versions read
    after, after_pinned = _rows(_newest(lake)), _rows(snapshot(lake, second["run_id"]))
    for stage in TABLES:
        assert after[stage].equals(rows[stage]), stage
        assert after_pinned[stage].equals(pinned[stage]), stage  # the run's own versions
        uri = table_uri(lake, stage)
        if newest[stage]:  # polars reads the newest version straight from the bucket
            direct = pl.scan_delta(uri, storage_options=storage_options(uri)).collect()
            assert sorted(direct["doc_id"]) == sorted(rows[stage]["doc_id"]), stage
    with pytest.raises(Exception, match="(?i)not found|no such file|does not exist|404"):
        snapshot(lake, first["run_id"]).scan("enriched").collect()
    seen = Lease(lake, "reader").read()
    assert seen is not None
    assert seen.holder["released"]  # vacuum let the lake go
    # Its commits carry its generation: a run holding an older lease cannot commit after.
    fenced = open_table(table_uri(lake, "enriched")).transaction_version(FENCE_APP_ID)
    assert fenced is not None
    assert fenced == seen.holder["generation"] > second_generation

    assert main(["report", "--lake", lake]) == 0  # reads as of the newest run: still there
    assert f"enriched v{second['tables']['enriched']} (4)" in capsys.readouterr().out
    # The lake runs on after vacuum's commits: a new copy changes a cluster again.
    (raw / "three.json").write_text(json.dumps([story(2, near_copy=True)]), encoding="utf-8")
    vacuumed = table_versions(lake)
    third = _run(raw, lake)
    assert third["tables"]["enriched"] > (vacuumed["enriched"] or 0)
    newer = open_table(table_uri(lake, "enriched")).transaction_version(FENCE_APP_ID)
    assert newer is not None
    assert newer > fenced
