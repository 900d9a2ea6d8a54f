"""The only code that touches storage: stage folders, atomic Parquet writes, manifests.

Every Parquet file is written to a hidden temp file in its final folder and renamed
into place, so a reader globbing `*.parquet` never sees half a file. Each file
carries key-value metadata naming the schema version, the run and the code version.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pyarrow.parquet as pq

from newsflow import __version__
from newsflow.faults import checkpoint
from newsflow.schema import (
    CONTRACT_SINCE,
    GROWING_STAGES,
    REWRITTEN_WHEN_OUTDATED,
    SCHEMA_VERSION,
    STAGE_SCHEMAS,
    conform,
)

STAGES = (
    "ingested",
    "cleaned",
    "deduped",
    "enriched",
    "duplicates",
    "quarantine",
    "line_docs",
    "line_stats",
    "dedupe_index",
    "metadata_only",
)
# Folders whose files are hive-partitioned by one column, kept out of the file itself
# (pyarrow refuses a dataset whose partition key is also a file column).
PARTITION_KEYS = {"enriched": "published_month"}
UNKNOWN_PARTITION = "unknown"
MANIFEST_FILE = "files.parquet"  # in the working copy's manifest/ folder
# The pipeline's working copy of every stage: what its tasks write and read back. Readers
# read the Delta tables committed from it (newsflow/tables.py), never this folder.
WORK_DIR = "_work"
# The files one batch writes before the run commits it (adds its input files to the
# manifest): `<stage>/<batch_id>.parquet`, and `quarantine/<prefix><batch_id>.parquet`
# for ingest's, clean's and the quality gate's quarantine. Ingested last in the tuple:
# a batch is removed in this order, so its ingested/ file, which names its documents,
# outlives the others until the removal is complete.
BATCH_STAGES = ("metadata_only", "cleaned", "ingested")
BATCH_QUARANTINE_PREFIXES = ("quality-", "clean-", "ingest-")
# The batch id of input entries no batch holds (unreadable at listing): its quarantine
# file is rewritten by every run, so it is never a batch to commit or roll back.
UNBATCHED = "unbatched"
# Footer entry of an enriched/ file naming the run that wrote the deduped/ file it came from.
DEDUPED_RUN_KEY = "newsflow.deduped_run_id"
# Working files a stage's tasks hand each other within one run (not a stage: no reader
# looks here, and the stage removes its own when it is done).
SCRATCH_DIR = "_scratch"


class LakeVersionError(RuntimeError):
    """The lake holds files of another schema version: refresh it before writing to it."""


class Written(NamedTuple):
    """What the footers of one name's files in a stage say."""

    runs: frozenset[str]
    rows: int


def _folder_of(path: Path) -> str:
    """The lake folder a file belongs to (`enriched`, not `published_month=2021-12`)."""
    return path.parent.parent.name if "=" in path.parent.name else path.parent.name


def _atomic_replace(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Temp files of this path that a killed writer left behind: hidden from readers, but
    # litter. One run writes a path from one task at a time (the lake lock keeps other
    # runs out), so any that exist now are orphans.
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        orphan.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        checkpoint(f"before_rename.{_folder_of(path)}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# Rows per Parquet row group, and converted to Arrow at a time.
WRITE_ROWS = 100_000


def write_parquet(df: pl.DataFrame, path: Path, metadata: dict[str, str]) -> None:
    """Write `df` as zstd Parquet with key-value metadata, atomically.

    Strings are written as plain (large) strings, not views, so every reader
    (pandas, DuckDB, Spark) understands the file. Rows are converted to Arrow (a copy)
    `WRITE_ROWS` at a time: a 1M-document dedupe index is ~1.5 GB in one piece.
    """
    schema = df.head(0).to_arrow(compat_level=pl.CompatLevel.oldest()).schema
    schema = schema.with_metadata({**(schema.metadata or {}), **metadata})

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for rows in df.iter_slices(WRITE_ROWS):
                writer.write_table(rows.to_arrow(compat_level=pl.CompatLevel.oldest()))

    _atomic_replace(path, write)


def write_json(obj: Any, path: Path) -> None:
    """Write `obj` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)
    _atomic_replace(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


class Lake:
    """A lake rooted at one local folder; the pipeline works in
    `<root>/_work/<stage>/<name>.parquet` and readers read `<root>/tables/<stage>`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def stage_dir(self, stage: str) -> Path:
        return self.root / WORK_DIR / stage

    def file_metadata(self, run_id: str) -> dict[str, str]:
        return {
            "newsflow.schema_version": SCHEMA_VERSION,
            "newsflow.run_id": run_id,
            "newsflow.code_version": __version__,
        }

    def write(
        self,
        df: pl.DataFrame,
        stage: str,
        name: str,
        run_id: str,
        metadata: Mapping[str, str] | None = None,
    ) -> list[Path]:
        """Conform `df` to the stage's contract and write it as `<stage>/<name>.parquet`.

        A partitioned stage gets one file per partition value. `metadata` adds
        key-value pairs to the standard ones (enrich names its enrichers). Returns
        the paths.
        """
        df = conform(df, STAGE_SCHEMAS[stage], name=stage)
        meta = {**(metadata or {}), **self.file_metadata(run_id)}
        key = PARTITION_KEYS.get(stage)
        if key is None:
            path = self.stage_dir(stage) / f"{name}.parquet"
            write_parquet(df, path, meta)
            return [path]
        paths = []
        df = df.with_columns(pl.col(key).fill_null(UNKNOWN_PARTITION))
        # One call splits the frame (iterating a group_by gathers each part apart: ~8x slower).
        parts = df.partition_by(key, maintain_order=True, include_key=False, as_dict=True)
        for (value,), part in parts.items():
            path = self.stage_dir(stage) / f"{key}={value}" / f"{name}.parquet"
            write_parquet(part, path, meta)
            paths.append(path)
        return paths

    def write_chunks(
        self, chunks: Iterable[pl.DataFrame], stage: str, name: str, run_id: str
    ) -> int:
        """Write frames as they come into one `<stage>/<name>.parquet`, atomically.

        Each frame is conformed and written as its own row group, so a stage whose rows
        arrive as a stream (ingest of a large file) never holds them all. Unpartitioned
        stages only. Returns the number of rows written.
        """
        schema = STAGE_SCHEMAS[stage]
        if stage in PARTITION_KEYS:
            raise ValueError(f"{stage} is partitioned; write_chunks writes one file")
        empty = pl.DataFrame(schema=schema).to_arrow(compat_level=pl.CompatLevel.oldest())
        arrow_schema = empty.schema.with_metadata(self.file_metadata(run_id))
        path = self.stage_dir(stage) / f"{name}.parquet"
        written = 0

        def write(tmp: Path) -> None:
            nonlocal written
            with pq.ParquetWriter(tmp, arrow_schema, compression="zstd") as writer:
                for chunk in chunks:
                    rows = conform(chunk, schema, name=stage)
                    writer.write_table(rows.to_arrow(compat_level=pl.CompatLevel.oldest()))
                    written += rows.height

        _atomic_replace(path, write)
        return written

    def files(self, stage: str) -> list[Path]:
        """The visible Parquet files of a stage, in a stable order."""
        folder = self.stage_dir(stage)
        if not folder.exists():
            return []
        return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith("."))

    def scan(self, stage: str) -> pl.LazyFrame:
        """All rows of a stage in the working copy (this run's uncommitted work
        included: tasks read their inputs so), typed by the contract (empty when
        nothing is written). Readers use `newsflow.tables.snapshot`."""
        schema = STAGE_SCHEMAS[stage]
        files = self.files(stage)
        if not files:
            return pl.LazyFrame(schema=schema)
        key = PARTITION_KEYS.get(stage)
        # A file written before an enricher existed reads its columns as null.
        grows = stage in GROWING_STAGES
        lf = pl.scan_parquet(
            files,
            hive_partitioning=key is not None,
            schema=pl.Schema({c: t for c, t in schema.items() if c != key}) if grows else None,
            missing_columns="insert" if grows else "raise",
        )
        return lf.select(pl.col(c).cast(t) for c, t in schema.items())

    def run_of(self, path: Path) -> str:
        """The run id in a Parquet file's footer ('' if none)."""
        meta: dict[bytes, bytes] = pq.ParquetFile(path).metadata.metadata or {}
        return meta.get(b"newsflow.run_id", b"").decode()

    def written(self, stage: str, key: str = "newsflow.run_id") -> dict[str, Written]:
        """File name (`<batch_id>`) -> the runs that wrote its files and their rows, from
        the footers (a partitioned stage has several files per name). `key` names the
        footer entry holding the run (enriched/ files also name their deduped/ run)."""
        runs: dict[str, set[str]] = {}
        rows: dict[str, int] = {}
        for path in self.files(stage):
            meta = pq.ParquetFile(path).metadata
            run = (meta.metadata or {}).get(key.encode(), b"").decode()
            runs.setdefault(path.stem, set()).add(run)
            rows[path.stem] = rows.get(path.stem, 0) + meta.num_rows
        return {name: Written(frozenset(runs[name]), rows[name]) for name in runs}

    def count(self, stage: str) -> int:
        """Rows in a stage, from the Parquet footers."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files(stage))

    def remove_except(
        self, stage: str, keep: Iterable[Path], names: Iterable[str] | None = None
    ) -> int:
        """Delete the stage's files not in `keep` (after a stage was rewritten whole).

        With `names`, only files named `<name>.parquet` for one of them are candidates:
        the stage was rewritten for those batches only.
        """
        kept = {p.resolve() for p in keep}
        only = None if names is None else {f"{n}.parquet" for n in names}
        stale = [
            p
            for p in self.files(stage)
            if p.resolve() not in kept and (only is None or p.name in only)
        ]
        for path in stale:
            path.unlink()
        for folder in sorted(self.stage_dir(stage).glob("*/"), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return len(stale)

    def scratch(self, name: str) -> Scratch:
        """The working area `<root>/_scratch/<name>/` of one stage in one run."""
        return Scratch(self.root / SCRATCH_DIR / name)

    def schema_versions(self) -> dict[str, set[str]]:
        """Folder -> the schema versions named by the footers of its oldest and newest
        file ('' where none).

        Two footers a folder, not all (a footer read costs ~2 ms: 20 s for a lake of
        10,000 files): every run checks before it writes, so an old lake shows in its
        oldest files, and an older newsflow writing into a newer lake in its newest.
        """
        versions: dict[str, set[str]] = {}
        for stage in (*STAGES, "manifest"):
            files = self.files(stage)
            if not files:
                continue
            by_age = sorted(files, key=lambda p: p.stat().st_mtime_ns)
            for path in {by_age[0], by_age[-1]}:
                meta = pq.read_schema(path).metadata or {}
                version = meta.get(b"newsflow.schema_version", b"").decode()
                versions.setdefault(stage, set()).add(version)
        return versions

    def check_schema_version(self) -> None:
        """Raise `LakeVersionError` (one line) when a folder holds files written to
        another contract than this code's: older than its CONTRACT_SINCE version, or
        newer than SCHEMA_VERSION.

        Such files are never mixed into a folder, and not migrated: their missing
        columns (the source's authors, tags, ...) can only come from the input, so the
        lake is rebuilt from it. enriched/ is the exception: the run re-enriches its
        outdated files from deduped/.
        """
        current = int(SCHEMA_VERSION)
        old: dict[str, list[str]] = {}
        for stage, found in self.schema_versions().items():
            if stage in REWRITTEN_WHEN_OUTDATED:
                continue
            since = CONTRACT_SINCE.get(stage, current)
            wrong = [v for v in found if not v.isdigit() or not since <= int(v) <= current]
            if wrong:
                old[stage] = sorted(v or "unknown" for v in wrong)
        if old:
            where = ", ".join(f"{stage}/ ({'/'.join(v)})" for stage, v in sorted(old.items()))
            raise LakeVersionError(
                f"lake {self.root} was written by schema version "
                f"{'/'.join(sorted({v for vs in old.values() for v in vs}))} "
                f"(in {where}); this newsflow writes version {SCHEMA_VERSION}: "
                "run again with --full-refresh to rebuild it from the input"
            )

    def batch_files(self, batch_ids: Iterable[str]) -> list[Path]:
        """The files written for these batches before their commit, in removal order."""
        wanted = set(batch_ids)
        found = []
        for prefix in BATCH_QUARANTINE_PREFIXES:
            found += [
                p
                for p in self.files("quarantine")
                if p.stem.startswith(prefix) and p.stem.removeprefix(prefix) in wanted
            ]
        for stage in BATCH_STAGES:
            found += [p for p in self.files(stage) if p.stem in wanted]
        return found

    def batches_written(self) -> set[str]:
        """Every batch id with a file in BATCH_STAGES or a batch quarantine file."""
        ids = {p.stem for stage in BATCH_STAGES for p in self.files(stage)}
        for path in self.files("quarantine"):
            for prefix in BATCH_QUARANTINE_PREFIXES:
                if path.stem.startswith(prefix):
                    ids.add(path.stem.removeprefix(prefix))
        return ids - {UNBATCHED}

    def uncommitted_batches(self) -> set[str]:
        """Batches with files written but no input file in the manifest: a run that
        failed before its commit, or was killed, left them."""
        committed = set(self.read_manifest()["batch_id"].to_list())
        return self.batches_written() - committed

    def clear_outputs(self) -> None:
        """Forget every stage output and the file manifest (a full refresh); keep runs/."""
        for stage in (*STAGES, "manifest"):
            shutil.rmtree(self.stage_dir(stage), ignore_errors=True)

    # -- the file manifest: which inputs were seen, by content hash ----------------

    def read_manifest(self) -> pl.DataFrame:
        path = self.stage_dir("manifest") / MANIFEST_FILE
        if not path.exists():
            return pl.DataFrame(schema=STAGE_SCHEMAS["manifest"])
        return conform(pl.read_parquet(path), STAGE_SCHEMAS["manifest"], name="manifest")

    def add_to_manifest(self, rows: pl.DataFrame, run_id: str) -> None:
        merged = pl.concat([self.read_manifest(), rows], how="vertical_relaxed")
        merged = merged.unique("content_hash", keep="last", maintain_order=True)
        merged = conform(merged, STAGE_SCHEMAS["manifest"], name="manifest")
        path = self.stage_dir("manifest") / MANIFEST_FILE
        write_parquet(merged, path, self.file_metadata(run_id))

    # -- run manifests ---------------------------------------------------------------

    def write_run(self, run: dict[str, Any]) -> Path:
        path = self.root / "runs" / f"{run['run_id']}.json"
        write_json(run, path)
        return path

    def runs(self) -> list[dict[str, Any]]:
        """Every run manifest, oldest first by start time."""
        loaded = [
            json.loads(p.read_text(encoding="utf-8")) for p in (self.root / "runs").glob("*.json")
        ]
        return sorted(loaded, key=lambda r: str(r.get("started_at", "")))

    def write_report_table(self, df: pl.DataFrame, path: str, run_id: str) -> Path:
        """Write a report's table (not a stage: `quality/<run_id>/failing_rows.parquet`)
        at `path` under the lake, atomically, with the standard footer."""
        target = self.root / path
        write_parquet(df, target, self.file_metadata(run_id))
        return target

    def last_run(self) -> dict[str, Any] | None:
        """The newest run manifest, by its start time."""
        runs = sorted((self.root / "runs").glob("*.json"))
        if not runs:
            return None
        loaded: list[dict[str, Any]] = [json.loads(p.read_text(encoding="utf-8")) for p in runs]
        return max(loaded, key=lambda r: str(r.get("started_at", "")))


class Scratch:
    """Parquet files a stage's tasks hand each other, on the lake's storage so that
    workers on other machines share them: `<area>/<folder>/.../<name>.parquet`.

    A partition is a folder; each task writing to it writes its own file, and a task
    reading it reads every file in name order. Files are written atomically, so a
    retried task simply writes its file again. `io` counts files written and read per
    top folder (for tests of what a run touches).
    """

    io: Counter[tuple[str, str]] = Counter()

    def __init__(self, area: Path) -> None:
        self.area = area

    def write(self, df: pl.DataFrame, *path: str) -> None:
        """Write `df` as `<area>/<path...>.parquet` (lz4: read once, soon)."""
        target = self.area.joinpath(*path[:-1], f"{path[-1]}.parquet")
        _atomic_replace(target, lambda tmp: df.write_parquet(tmp, compression="lz4"))
        self.io["write", path[0]] += 1

    def files(self, *folder: str) -> list[Path]:
        where = self.area.joinpath(*folder)
        if not where.is_dir():
            return []
        return sorted(p for p in where.glob("*.parquet") if not p.name.startswith("."))

    def folders(self, *folder: str) -> list[str]:
        """Names of the partitions (sub-folders) of a folder, sorted."""
        where = self.area.joinpath(*folder)
        return sorted(p.name for p in where.iterdir() if p.is_dir()) if where.is_dir() else []

    def read(self, schema: pl.Schema, *path: str) -> pl.DataFrame:
        """The rows of `<path...>.parquet`, or of every file in the folder `<path...>`
        (empty with `schema`'s columns when there is none)."""
        single = self.area.joinpath(*path[:-1], f"{path[-1]}.parquet")
        files = [single] if single.exists() else self.files(*path)
        self.io["read", path[0]] += len(files)
        if not files:
            return pl.DataFrame(schema=schema)
        frames = [pl.read_parquet(p) for p in files]
        return pl.concat(frames, how="vertical_relaxed").select(
            pl.col(c).cast(t) for c, t in schema.items()
        )

    def clear(self) -> None:
        """Remove the area, and the folders above it up to `_scratch/` once empty."""
        shutil.rmtree(self.area, ignore_errors=True)
        for folder in self.area.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (another area), or already gone
                break
            if folder.name == SCRATCH_DIR:
                break
