"""The lake readers read: one Delta table per record stage, committed once per run.

The pipeline's tasks write and read their own working copy (`_work/<stage>/`, see
Lake.stage_dir), which no reader is meant to see. When a run has finished its work and
passed its checks, `commit_tables` brings each table under `tables/<stage>/` up to date
with the working copy in one Delta commit per table: a working file that is not yet in
the table is added (hard-linked into the table folder under a name that says which
working file it is, so no data is copied; on object storage the server copies it), and a
table file whose working file was replaced or removed is removed. The commit is a diff
of two states, not a list of what this run wrote, so whatever an earlier run left
uncommitted (it failed, was cancelled or killed after writing) is committed by the next
run that finishes, never skipped.

Delta keeps removed files readable (time travel) until `vacuum` expires them, so a
reader during a run reads the previous versions, and a reader pinning a run reads each
table as of the versions its run manifest records (`Snapshot`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import polars as pl
import pyarrow.dataset as ds
from deltalake import CommitProperties, DeltaTable, Transaction
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from newsflow.faults import checkpoint
from newsflow.lake import PARTITION_KEYS, STAGES, Lake, LakeVersionError
from newsflow.lease import FENCE_APP_ID, writer_fence
from newsflow.schema import GROWING_STAGES, STAGE_SCHEMAS
from newsflow.storage import delta_storage_options, is_url
from newsflow.store import FileVersion

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


def storage_options(uri: str) -> dict[str, str] | None:
    """What deltalake and polars need for a table on object storage (None locally)."""
    return delta_storage_options(uri) or None


def open_table(uri: str, version: int | None = None) -> DeltaTable:
    return DeltaTable(uri, version=version, storage_options=storage_options(uri))


def _open(uri: str, version: int | None = None) -> DeltaTable | None:
    try:
        return open_table(uri, version)
    except TableNotFoundError:
        return None


def table_versions(lake_root: str | Path) -> dict[str, int | None]:
    """Each table's newest committed version (None: never committed)."""
    found = {stage: _open(table_uri(lake_root, stage)) for stage in TABLES}
    return {stage: None if t is None else t.version() for stage, t in found.items()}


# -- the commit ----------------------------------------------------------------------


def published_name(working: Any, version: FileVersion, stage_dir: Any) -> str:
    """The table path of a working file: its path in the stage folder, with a token of
    the file's version (mtime in ns, size; on object storage its ETag and size) before
    the suffix.

    The working copy's files are only ever replaced whole (a new file renamed over the
    old, lake.py), and each replacement has a new mtime, so a rewritten file gets a new
    name and a table version never points at bytes that changed under it. Not the
    inode: a copy of the lake that keeps mtimes (`cp -a`, `copytree`) then still
    matches its tables, and is not committed again in full."""
    identity = f"{version.token}:{version.size}".encode()
    token = hashlib.blake2b(identity, digest_size=8).hexdigest()
    relative: PurePath = working.relative_to(stage_dir)
    return relative.with_name(f"{relative.stem}.{token}{relative.suffix}").as_posix()


def _partition_values(stage: str, path: str) -> dict[str, str | None]:
    key = PARTITION_KEYS.get(stage)
    if key is None:
        return {}
    folder = path.split("/")[0]
    return {key: folder.removeprefix(f"{key}=")}


def _arrow_schema(stage: str) -> Any:
    empty = pl.DataFrame(schema=STAGE_SCHEMAS[stage])
    return empty.to_arrow(compat_level=pl.CompatLevel.oldest()).schema


def commit_properties(table: DeltaTable, lake_root: str | Path, run_id: str) -> CommitProperties:
    """What every table commit of `run_id` carries: the run id and, on object storage,
    the writer's fence (decision 0002). Raises `LeaseLost` if the run no longer holds the
    lake's lease or `table` was committed under a newer one."""
    fence = writer_fence(lake_root, run_id)
    if fence is None:
        return CommitProperties(custom_metadata={RUN_KEY: run_id})
    fence.check(table.transaction_version(FENCE_APP_ID))
    return CommitProperties(
        custom_metadata={RUN_KEY: run_id},
        app_transactions=[Transaction(FENCE_APP_ID, fence.generation)],
    )


def commit_table(lake: Lake, stage: str, run_id: str) -> int:
    """Make the stage's table hold exactly the working copy's files, in one commit (none
    when they already match); returns the table's version."""
    uri = table_uri(lake.url, stage)
    folder = lake.root / TABLES_DIR / stage
    key = PARTITION_KEYS.get(stage)
    schema = _arrow_schema(stage)
    table = _open(uri)
    if table is None:
        table = DeltaTable.create(
            uri,
            schema,
            partition_by=[key] if key else None,
            name=stage,
            storage_options=storage_options(uri),
        )
    elif stage in GROWING_STAGES:
        _add_new_columns(table, schema, lake.url, run_id)
    stage_dir = lake.stage_dir(stage)
    working = lake.store.versions(stage_dir)
    wanted = {published_name(p, v, stage_dir): p for p, v in working.items()}
    committed = set(_committed_paths(table))
    added = sorted(wanted.keys() - committed)
    removed = sorted(committed - wanted.keys())
    if not added and not removed:
        return table.version()
    now = int(time.time() * 1000)
    actions: list[AddAction | RemoveAction] = []
    for name in added:
        lake.store.copy_in(wanted[name], folder / name)
        version = working[wanted[name]]  # the same bytes: a link, or the server's copy
        rows = lake.store.parquet_metadata(wanted[name]).num_rows
        actions.append(
            AddAction(
                name,
                version.size,
                _partition_values(stage, name),
                int(version.modified * 1000),
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
        commit_properties=commit_properties(table, lake.url, run_id),
    )
    table.update_incremental()
    return table.version()


def _add_new_columns(table: DeltaTable, schema: Any, lake_root: str | Path, run_id: str) -> None:
    """Columns the contract gained (a new enricher's) join the table, null in its earlier
    files: a metadata-only commit before the run's (fenced like it)."""
    have = set(table.schema().to_arrow().names)
    new = [field for field in DeltaSchema.from_arrow(schema).fields if field.name not in have]
    if new:
        properties = commit_properties(table, lake_root, run_id)
        table.alter.add_columns(new, commit_properties=properties)


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
        return open_table(table_uri(self.lake_root, stage), version=version)

    def scan(self, stage: str) -> pl.LazyFrame:
        """The stage's rows as of this snapshot, typed by the contract."""
        schema = STAGE_SCHEMAS[stage]
        version = self.versions.get(stage)
        if version is None:
            return pl.LazyFrame(schema=schema)
        uri = table_uri(self.lake_root, stage)
        lf = pl.scan_delta(uri, version=version, storage_options=storage_options(uri))
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
            raise KeyError(f"no run {run_id} recorded in {lake.url}/runs")
        if "tables" not in run:
            raise KeyError(f"run {run_id} was recorded before the lake had tables")
        return Snapshot(str(lake_root), run["tables"], run_id)
    pinned = [r for r in runs if "tables" in r]
    if pinned:
        newest = max(pinned, key=lambda r: str(r.get("started_at", "")))
        return Snapshot(str(lake_root), newest["tables"], newest["run_id"])
    return Snapshot(str(lake_root), table_versions(lake_root))


def vacuum(lake_root: str | Path, retain_hours: int, run_id: str) -> dict[str, int]:
    """Delete table files no version younger than `retain_hours` needs (and files no
    version ever committed); returns the files deleted per table. Versions older than
    that can no longer be read. Delta records a vacuum as commits: `run_id`'s, fenced
    like a run's (`LeaseLost` before a table is touched if the lease is no longer ours)."""
    deleted = {}
    for stage in TABLES:
        table = _open(table_uri(lake_root, stage))
        if table is None:
            continue
        # `full`: delta-rs's default looks only at files a commit removed, never at a file
        # a killed run copied in but did not commit (commit_table), which would stay forever.
        gone = table.vacuum(
            retain_hours,
            dry_run=False,
            enforce_retention_duration=False,
            commit_properties=commit_properties(table, lake_root, run_id),
            full=True,
        )
        table.cleanup_metadata()
        deleted[stage] = len(gone)
    return deleted


# -- the layout before tables ---------------------------------------------------------


def old_layout_folders(lake_root: str | Path) -> list[str]:
    """Stage folders of the old layout (`<lake>/enriched/…`) still in the lake."""
    lake = Lake(lake_root)
    return [s for s in (*STAGES, "manifest") if lake.store.is_dir(lake.root / s)]


def check_layout(lake_root: str | Path) -> None:
    """Refuse a lake of the old layout, in one line naming the command that converts it."""
    old = old_layout_folders(lake_root)
    if old:
        # migrate converts local lakes only: a remote one is an old local lake uploaded.
        how = (
            "migrate a local copy (`newsflow migrate --lake DIR`) and upload that"
            if is_url(str(lake_root))
            else f"run `newsflow migrate --lake {lake_root}` once"
        )
        raise OldLayoutError(
            f"lake {lake_root} has the folder layout before Delta tables ({', '.join(old)}/): "
            + how
        )


def migrate(lake_root: str | Path, run_id: str) -> dict[str, int]:
    """Move the old layout's stage folders into the working copy (a rename: no data is
    copied) and commit them as the tables' first versions. A migration cut short is
    finished by running it again."""
    lake = Lake(lake_root)
    for stage in old_layout_folders(lake_root):
        target = lake.stage_dir(stage)
        if lake.store.exists(target):  # never merge two copies of a stage: a person must choose
            raise OldLayoutError(f"lake {lake_root} has both {stage}/ and {target}: remove one")
        lake.store.move(lake.root / stage, target)
    return commit_tables(lake, run_id)
