"""The lake readers read: one Delta table per record stage, committed once per run.

The pipeline's tasks write and read their own working copy (`_work/<stage>/`, see
Lake.stage_dir), which no reader is meant to see. When a run has finished its work and
passed its checks, `commit_tables` brings each table under `tables/<stage>/` up to date
with the working copy in one Delta commit per table: a working file that is not yet in
the table is added (hard-linked into the table folder under a name that says which
working file it is, so no data is copied), and a table file whose working file was
replaced or removed is removed. The commit is a diff of two states, not a list of what
this run wrote, so whatever an earlier run left uncommitted (it failed, was cancelled or
killed after writing) is committed by the next run that finishes, never skipped.

Delta keeps removed files readable (time travel) until `vacuum` expires them, so a
reader during a run reads the previous versions, and a reader pinning a run reads each
table as of the versions its run manifest records (`Snapshot`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from newsflow.faults import checkpoint
from newsflow.lake import PARTITION_KEYS, STAGES, Lake, LakeVersionError
from newsflow.schema import GROWING_STAGES, STAGE_SCHEMAS

TABLES_DIR = "tables"
# Stages readers read. The others (line statistics, the dedupe index, the file
# manifest) are the pipeline's bookkeeping and stay in its working copy.
TABLES = (
    "ingested",
    "cleaned",
    "metadata_only",
    "deduped",
    "enriched",
    "duplicates",
    "quarantine",
)
RUN_KEY = "newsflow.run_id"


class OldLayoutError(LakeVersionError):
    """The lake still has the stage folders of the layout before Delta tables."""


def table_uri(lake_root: str | Path, stage: str) -> str:
    """Where a stage's Delta table lives (a path or URI string, as deltalake takes it)."""
    return f"{str(lake_root).rstrip('/')}/{TABLES_DIR}/{stage}"


def _open(uri: str, version: int | None = None) -> DeltaTable | None:
    try:
        return DeltaTable(uri, version=version)
    except TableNotFoundError:
        return None


def table_versions(lake_root: str | Path) -> dict[str, int | None]:
    """Each table's newest committed version (None: never committed)."""
    found = {stage: _open(table_uri(lake_root, stage)) for stage in TABLES}
    return {stage: None if t is None else t.version() for stage, t in found.items()}


# -- the commit ----------------------------------------------------------------------


def published_name(working: Path, stage_dir: Path) -> str:
    """The table path of a working file: its path in the stage folder, with a token of
    the file's version (mtime in ns, size) before the suffix.

    The working copy's files are only ever replaced whole (a new file renamed over the
    old, lake.py), and each replacement has a new mtime, so a rewritten file gets a new
    name and a table version never points at bytes that changed under it. Not the
    inode: a copy of the lake that keeps mtimes (`cp -a`, `copytree`) then still
    matches its tables, and is not committed again in full."""
    st = working.stat()
    identity = f"{st.st_mtime_ns}:{st.st_size}".encode()
    token = hashlib.blake2b(identity, digest_size=8).hexdigest()
    relative = working.relative_to(stage_dir)
    return relative.with_name(f"{relative.stem}.{token}{relative.suffix}").as_posix()


def _link(source: Path, target: Path) -> None:
    """Put `source` at `target` without copying its bytes where the file system can."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)  # left by a commit cut short before its log entry
    try:
        os.link(source, target)
    except OSError:  # no hard links here (another device, some network file systems)
        shutil.copy2(source, target)


def _partition_values(stage: str, path: str) -> dict[str, str | None]:
    key = PARTITION_KEYS.get(stage)
    if key is None:
        return {}
    folder = path.split("/")[0]
    return {key: folder.removeprefix(f"{key}=")}


def _arrow_schema(stage: str) -> Any:
    empty = pl.DataFrame(schema=STAGE_SCHEMAS[stage])
    return empty.to_arrow(compat_level=pl.CompatLevel.oldest()).schema


def commit_table(lake: Lake, stage: str, run_id: str) -> int:
    """Make the stage's table hold exactly the working copy's files, in one commit (none
    when they already match); returns the table's version."""
    uri = table_uri(lake.root, stage)
    folder = Path(uri)
    key = PARTITION_KEYS.get(stage)
    schema = _arrow_schema(stage)
    table = _open(uri)
    if table is None:
        table = DeltaTable.create(uri, schema, partition_by=[key] if key else None, name=stage)
    elif stage in GROWING_STAGES:
        _add_new_columns(table, schema)
    stage_dir = lake.stage_dir(stage)
    wanted = {published_name(p, stage_dir): p for p in lake.files(stage)}
    committed = set(_committed_paths(table))
    added = sorted(wanted.keys() - committed)
    removed = sorted(committed - wanted.keys())
    if not added and not removed:
        return table.version()
    now = int(time.time() * 1000)
    actions: list[AddAction | RemoveAction] = []
    for name in added:
        _link(wanted[name], folder / name)
        st = (folder / name).stat()
        rows = pq.ParquetFile(folder / name).metadata.num_rows
        actions.append(
            AddAction(
                name,
                st.st_size,
                _partition_values(stage, name),
                int(st.st_mtime * 1000),
                True,
                f'{{"numRecords": {rows}}}',
            )
        )
    actions += [
        RemoveAction(name, True, now, None, _partition_values(stage, name)) for name in removed
    ]
    checkpoint(f"commit.{stage}")
    table.create_write_transaction(
        actions,
        mode="append",
        schema=schema,
        partition_by=[key] if key else None,
        commit_properties=CommitProperties(custom_metadata={RUN_KEY: run_id}),
    )
    table.update_incremental()
    return table.version()


def _add_new_columns(table: DeltaTable, schema: Any) -> None:
    """Columns the contract gained (a new enricher's) join the table, null in its earlier
    files: a metadata-only commit before the run's."""
    have = set(table.schema().to_arrow().names)
    new = [field for field in DeltaSchema.from_arrow(schema).fields if field.name not in have]
    if new:
        table.alter.add_columns(new)


def _committed_paths(table: DeltaTable) -> list[str]:
    """The paths (relative to the table) of the table version's files."""
    return pl.DataFrame(table.get_add_actions(flatten=True))["path"].to_list()


def commit_tables(lake: Lake, run_id: str) -> dict[str, int]:
    """Commit every table (one Delta commit each); returns their versions."""
    return {stage: commit_table(lake, stage, run_id) for stage in TABLES}


# -- readers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every table of a lake as of one run (or the newest versions): what a reader who
    must not mix runs reads. `versions` None for a table never committed."""

    lake_root: str
    versions: Mapping[str, int | None]
    run_id: str | None = None

    def delta_table(self, stage: str) -> DeltaTable | None:
        version = self.versions.get(stage)
        if version is None:
            return None
        return DeltaTable(table_uri(self.lake_root, stage), version=version)

    def scan(self, stage: str) -> pl.LazyFrame:
        """The stage's rows as of this snapshot, typed by the contract."""
        schema = STAGE_SCHEMAS[stage]
        version = self.versions.get(stage)
        if version is None:
            return pl.LazyFrame(schema=schema)
        lf = pl.scan_delta(table_uri(self.lake_root, stage), version=version)
        # A version from before an enricher existed has no column of it: null, as in
        # a run that did not select it.
        have = lf.collect_schema().names()
        return lf.select(
            pl.col(c).cast(t) if c in have else pl.lit(None, t).alias(c) for c, t in schema.items()
        )

    def dataset(self, stage: str) -> ds.Dataset:
        """The stage as an Arrow dataset (for DuckDB, pandas, anything Arrow reads)."""
        table = self.delta_table(stage)
        if table is None:
            return ds.dataset(pl.DataFrame(schema=STAGE_SCHEMAS[stage]).to_arrow())
        return table.to_pyarrow_dataset()


def describe(snap: Snapshot) -> str:
    """One line: each committed table's version and rows in `snap` (rows from the log)."""
    parts = []
    for stage in TABLES:
        table = snap.delta_table(stage)
        if table is None:
            continue
        rows = int(pl.DataFrame(table.get_add_actions(flatten=True))["num_records"].sum())
        parts.append(f"{stage} v{table.version()} ({rows:,})")
    return "  tables:  " + (", ".join(parts) or "none committed yet")


def snapshot(lake_root: str | Path, run_id: str | None = None) -> Snapshot:
    """The tables as of run `run_id` (its manifest's versions), or, without one, as of
    the newest run that recorded versions (the newest versions if none did)."""
    lake = Lake(lake_root)
    runs = lake.runs()
    if run_id is not None:
        run = next((r for r in runs if r["run_id"] == run_id), None)
        if run is None:
            raise KeyError(f"no run {run_id} recorded in {lake.root / 'runs'}")
        if "tables" not in run:
            raise KeyError(f"run {run_id} was recorded before the lake had tables")
        return Snapshot(str(lake_root), run["tables"], run_id)
    pinned = [r for r in runs if "tables" in r]
    if pinned:
        newest = max(pinned, key=lambda r: str(r.get("started_at", "")))
        return Snapshot(str(lake_root), newest["tables"], newest["run_id"])
    return Snapshot(str(lake_root), table_versions(lake_root))


def vacuum(lake_root: str | Path, retain_hours: int) -> dict[str, int]:
    """Delete table files no version younger than `retain_hours` needs (and files no
    version ever committed); returns the files deleted per table. Versions older than
    that can no longer be read."""
    deleted = {}
    for stage in TABLES:
        table = _open(table_uri(lake_root, stage))
        if table is None:
            continue
        gone = table.vacuum(retain_hours, dry_run=False, enforce_retention_duration=False)
        table.cleanup_metadata()
        deleted[stage] = len(gone)
    return deleted


# -- the layout before tables ---------------------------------------------------------


def old_layout_folders(lake_root: str | Path) -> list[str]:
    """Stage folders of the old layout (`<lake>/enriched/…`) still in the lake."""
    root = Path(lake_root)
    return [s for s in (*STAGES, "manifest") if (root / s).is_dir()]


def check_layout(lake_root: str | Path) -> None:
    """Refuse a lake of the old layout, in one line naming the command that converts it."""
    old = old_layout_folders(lake_root)
    if old:
        raise OldLayoutError(
            f"lake {lake_root} has the folder layout before Delta tables ({', '.join(old)}/): "
            f"run `newsflow migrate --lake {lake_root}` once"
        )


def migrate(lake_root: str | Path, run_id: str) -> dict[str, int]:
    """Move the old layout's stage folders into the working copy (a rename: no data is
    copied) and commit them as the tables' first versions. A migration cut short is
    finished by running it again."""
    root = Path(lake_root)
    lake = Lake(root)
    for stage in old_layout_folders(root):
        target = lake.stage_dir(stage)
        if target.exists():  # never merge two copies of a stage: a person must choose
            raise OldLayoutError(f"lake {root} has both {stage}/ and {target}: remove one")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / stage, target)
    return commit_tables(lake, run_id)
