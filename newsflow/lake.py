"""The only code that touches storage: stage folders, atomic Parquet writes, manifests.

A lake is a local folder or an object-store URL (`s3://bucket/lake/`); the file
operations on either are newsflow/store.py's. Every file is written whole and then put
in place (a rename, or one upload), so a reader never sees half a file. Each Parquet
file carries key-value metadata naming the schema version, the run and the code version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from newsflow import __version__
from newsflow.schema import (
    CONTRACT_SINCE,
    GROWING_STAGES,
    REWRITTEN_WHEN_OUTDATED,
    SCHEMA_VERSION,
    STAGE_SCHEMAS,
    conform,
)
from newsflow.store import LakePath, Store, atomic_write

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
    "dedupe_bands",
    "dedupe_keys",
    "dedupe_clusters",
    "dedupe_batches",
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


# Rows per Parquet row group, and converted to Arrow at a time.
WRITE_ROWS = 100_000


def write_parquet(
    df: pl.DataFrame, path: LakePath, metadata: dict[str, str], store: Store | None = None
) -> None:
    """Write `df` as zstd Parquet with key-value metadata, atomically (in `store`, a
    local file without one).

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

    if store is None:
        atomic_write(Path(path), write)
    else:
        store.write(path, write)


class Lake:
    """A lake rooted at one local folder or object-store URL; the pipeline works in
    `<root>/_work/<stage>/<name>.parquet` and readers read `<root>/tables/<stage>`.

    `root` is a path in the lake's store (`Path` locally, `bucket/prefix` remotely);
    `url` is the location as given, `store` does the file operations."""

    def __init__(self, root: Path | str) -> None:
        self.store = Store(root)
        self.root: Any = self.store.root
        self.url = self.store.url
        self.remote = self.store.remote

    @property
    def location(self) -> str:
        """Where the lake is, as a run manifest records it: the URL, or the full path."""
        return self.url if self.remote else str(Path(self.root).resolve())

    def stage_dir(self, stage: str) -> Any:
        return self.root / WORK_DIR / stage

    def file_path(self, stage: str, name: str) -> Any:
        """The working file `<stage>/<name>.parquet` of an unpartitioned stage."""
        return self.stage_dir(stage) / f"{name}.parquet"

    def exists(self, stage: str, name: str) -> bool:
        return self.store.exists(self.file_path(stage, name))

    def read(self, stage: str, name: str, columns: list[str] | None = None) -> pl.DataFrame:
        """`columns` (default all) of `<stage>/<name>.parquet`, typed by the contract;
        empty when the file does not exist."""
        schema = STAGE_SCHEMAS[stage]
        wanted = pl.Schema({c: schema[c] for c in columns or schema.names()})
        path = self.file_path(stage, name)
        if not self.store.exists(path):
            return pl.DataFrame(schema=wanted)
        frame = self.store.read_parquet(path, columns=wanted.names())
        return frame.select(pl.col(c).cast(t) for c, t in wanted.items())

    def scan_file(self, stage: str, name: str) -> pl.LazyFrame:
        """`<stage>/<name>.parquet` lazily, typed by the contract."""
        schema = STAGE_SCHEMAS[stage]
        lf = self.store.scan_parquet([self.file_path(stage, name)])
        return lf.select(pl.col(c).cast(t) for c, t in schema.items())

    def read_file(self, stage: str, path: Any) -> pl.DataFrame:
        """The rows of one file of a stage (a partition's value from its folder), typed
        by the contract."""
        schema = STAGE_SCHEMAS[stage]
        lf = self.store.scan_parquet([path], hive=stage in PARTITION_KEYS)
        return lf.select(pl.col(c).cast(t) for c, t in schema.items()).collect()

    def read_chunks(self, stage: str, name: str, rows: int) -> Iterator[pl.DataFrame]:
        """The rows of `<stage>/<name>.parquet`, `rows` at a time (a batch of one large
        streamed file is never read whole), typed by the contract."""
        schema = STAGE_SCHEMAS[stage]
        with self.store.opened(self.file_path(stage, name)) as source:
            for batch in pq.ParquetFile(source).iter_batches(batch_size=rows):
                frame = pl.from_arrow(pa.Table.from_batches([batch]))
                assert isinstance(frame, pl.DataFrame)
                yield frame.select(pl.col(c).cast(t) for c, t in schema.items())

    def footer(self, path: Any) -> dict[str, str]:
        """The key-value metadata of a Parquet file of the lake."""
        meta = self.store.parquet_metadata(path).metadata or {}
        return {k.decode(): v.decode() for k, v in meta.items()}

    def remove(self, path: Any) -> None:
        """Delete one file of the lake (nothing if it is gone)."""
        self.store.remove(path)

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
            write_parquet(df, path, meta, self.store)
            return [path]
        paths = []
        df = df.with_columns(pl.col(key).fill_null(UNKNOWN_PARTITION))
        # One call splits the frame (iterating a group_by gathers each part apart: ~8x slower).
        parts = df.partition_by(key, maintain_order=True, include_key=False, as_dict=True)
        for (value,), part in parts.items():
            path = self.stage_dir(stage) / f"{key}={value}" / f"{name}.parquet"
            write_parquet(part, path, meta, self.store)
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

        self.store.write(path, write)
        return written

    def files(self, stage: str) -> list[Any]:
        """The visible Parquet files of a stage, in a stable order."""
        return self.store.files(self.stage_dir(stage))

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
        lf = self.store.scan_parquet(
            files,
            hive=key is not None,
            schema=pl.Schema({c: t for c, t in schema.items() if c != key}) if grows else None,
            missing_columns="insert" if grows else "raise",
        )
        return lf.select(pl.col(c).cast(t) for c, t in schema.items())

    def run_of(self, path: Any) -> str:
        """The run id in a Parquet file's footer ('' if none)."""
        return self.footer(path).get("newsflow.run_id", "")

    def written(self, stage: str, key: str = "newsflow.run_id") -> dict[str, Written]:
        """File name (`<batch_id>`) -> the runs that wrote its files and their rows, from
        the footers (a partitioned stage has several files per name). `key` names the
        footer entry holding the run (enriched/ files also name their deduped/ run)."""
        runs: dict[str, set[str]] = {}
        rows: dict[str, int] = {}
        for path in self.files(stage):
            meta = self.store.parquet_metadata(path)
            run = (meta.metadata or {}).get(key.encode(), b"").decode()
            runs.setdefault(path.stem, set()).add(run)
            rows[path.stem] = rows.get(path.stem, 0) + meta.num_rows
        return {name: Written(frozenset(runs[name]), rows[name]) for name in runs}

    def count(self, stage: str) -> int:
        """Rows in a stage, from the Parquet footers."""
        return sum(self.store.parquet_metadata(p).num_rows for p in self.files(stage))

    def remove_except(
        self, stage: str, keep: Iterable[Path], names: Iterable[str] | None = None
    ) -> int:
        """Delete the stage's files not in `keep` (after a stage was rewritten whole).

        With `names`, only files named `<name>.parquet` for one of them are candidates:
        the stage was rewritten for those batches only.
        """
        kept = {self.store.key(p) for p in keep}
        only = None if names is None else {f"{n}.parquet" for n in names}
        stale = [
            p
            for p in self.files(stage)
            if self.store.key(p) not in kept and (only is None or p.name in only)
        ]
        for path in stale:
            self.store.remove(path)
        self.store.prune(self.stage_dir(stage))
        return len(stale)

    def scratch(self, name: str) -> Scratch:
        """The working area `<root>/_scratch/<name>/` of one stage in one run."""
        return Scratch(self.root / SCRATCH_DIR / name, self.store)

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
            by_age = sorted(files, key=self.store.modified)
            for path in {by_age[0], by_age[-1]}:
                version = self.footer(path).get("newsflow.schema_version", "")
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
                f"lake {self.url} was written by schema version "
                f"{'/'.join(sorted({v for vs in old.values() for v in vs}))} "
                f"(in {where}); this newsflow writes version {SCHEMA_VERSION}: "
                "run again with --full-refresh to rebuild it from the input"
            )

    def batch_files(self, batch_ids: Iterable[str]) -> list[Any]:
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
            self.store.remove_tree(self.stage_dir(stage))

    # -- the file manifest: which inputs were seen, by content hash ----------------

    def read_manifest(self) -> pl.DataFrame:
        path = self.stage_dir("manifest") / MANIFEST_FILE
        if not self.store.exists(path):
            return pl.DataFrame(schema=STAGE_SCHEMAS["manifest"])
        frame = self.store.read_parquet(path)
        return conform(frame, STAGE_SCHEMAS["manifest"], name="manifest")

    def add_to_manifest(self, rows: pl.DataFrame, run_id: str) -> None:
        merged = pl.concat([self.read_manifest(), rows], how="vertical_relaxed")
        merged = merged.unique("content_hash", keep="last", maintain_order=True)
        merged = conform(merged, STAGE_SCHEMAS["manifest"], name="manifest")
        path = self.stage_dir("manifest") / MANIFEST_FILE
        write_parquet(merged, path, self.file_metadata(run_id), self.store)

    # -- run manifests ---------------------------------------------------------------

    def write_run(self, run: dict[str, Any]) -> Any:
        path = self.root / "runs" / f"{run['run_id']}.json"
        self.store.write_json(path, run)
        return path

    def runs(self) -> list[dict[str, Any]]:
        """Every run manifest, oldest first by start time."""
        found = self.store.files(self.root / "runs", suffix=".json", deep=False)
        loaded = [self.store.read_json(p) for p in found]
        return sorted(loaded, key=lambda r: str(r.get("started_at", "")))

    def write_report_table(self, df: pl.DataFrame, path: str, run_id: str) -> Any:
        """Write a report's table (not a stage: `quality/<run_id>/failing_rows.parquet`)
        at `path` under the lake, atomically, with the standard footer."""
        target = self.root / path
        write_parquet(df, target, self.file_metadata(run_id), self.store)
        return target

    # -- other files under the lake: reports, caches, markers --------------------------

    def write_text(self, path: str, text: str) -> Any:
        """Write the text file `path` (relative to the lake), atomically."""
        target = self.root / path
        self.store.write_text(target, text)
        return target

    def write_json(self, path: str, obj: Any) -> Any:
        """Write `obj` as indented JSON at `path` (relative to the lake), atomically."""
        target = self.root / path
        self.store.write_json(target, obj)
        return target

    def read_text(self, path: str) -> str | None:
        """The text of `path` (relative to the lake); None when there is no such file."""
        try:
            return self.store.read_text(self.root / path)
        except FileNotFoundError:
            return None

    def write_table(self, df: pl.DataFrame, path: str, metadata: dict[str, str]) -> None:
        """A small table that is not a stage (`_input_cache/listing.parquet`)."""
        write_parquet(df, self.root / path, metadata, self.store)

    def read_table(self, path: str) -> pl.DataFrame:
        """The small table at `path` (relative to the lake)."""
        return self.store.read_parquet(self.root / path)

    def exists_file(self, path: str) -> bool:
        return self.store.exists(self.root / path)

    def remove_folder(self, path: str) -> None:
        self.store.remove_tree(self.root / path)

    def shown(self, path: Any) -> str:
        """A path of the lake as a user finds it (`s3://bucket/lake/quality/…`)."""
        return self.store.uri(path)

    def link(self, path: Any) -> Path | str:
        """A local file's path, or the URL of a file on object storage."""
        return self.store.uri(path) if self.remote else Path(path)

    def last_run(self) -> dict[str, Any] | None:
        """The newest run manifest, by its start time."""
        loaded = self.runs()
        if not loaded:
            return None
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

    def __init__(self, area: LakePath, store: Store | None = None) -> None:
        self.area = area
        self.store = store or Store(Path(area))

    def write(self, df: pl.DataFrame, *path: str) -> None:
        """Write `df` as `<area>/<path...>.parquet` (lz4: read once, soon)."""
        target = self.area.joinpath(*path[:-1], f"{path[-1]}.parquet")

        def write(tmp: Path) -> None:
            df.write_parquet(tmp, compression="lz4")

        self.store.write(target, write, sweep=False)
        self.io["write", path[0]] += 1

    def routed(self, rows: pl.DataFrame, by: pl.Expr, folder: str, name: str) -> list[int]:
        """Write `rows` split by partition (`by`, an integer per row) as
        `<folder>/<part>/<name>`; returns the partitions written."""
        parts = rows.with_columns(part=by).partition_by("part", as_dict=True)
        for (part,), frame in parts.items():
            self.write(frame.drop("part"), folder, str(part), name)
        return sorted(int(str(p)) for (p,) in parts)

    def files(self, *folder: str) -> list[Any]:
        return self.store.files(self.area.joinpath(*folder), deep=False)

    def folders(self, *folder: str) -> list[str]:
        """Names of the partitions (sub-folders) of a folder, sorted."""
        return self.store.folders(self.area.joinpath(*folder))

    def read(self, schema: pl.Schema, *path: str) -> pl.DataFrame:
        """`schema`'s columns of `<path...>.parquet`, or of every file in the folder
        `<path...>` (empty with those columns when there is none)."""
        single = self.area.joinpath(*path[:-1], f"{path[-1]}.parquet")
        files = [single] if self.store.exists(single) else self.files(*path)
        self.io["read", path[0]] += len(files)
        if not files:
            return pl.DataFrame(schema=schema)
        if not self.store.remote:
            try:
                # One read of every file: ~0.1 ms a small file, ~0.8 ms one by one.
                return self.store.scan_parquet(files, schema=schema, widen=True).collect()
            except pl.exceptions.SchemaError:  # a file with wider types than `schema`
                pass
        frames = [self.store.read_parquet(p, columns=schema.names()) for p in files]
        return pl.concat(frames, how="vertical_relaxed").select(
            pl.col(c).cast(t) for c, t in schema.items()
        )

    def clear(self) -> None:
        """Remove the area, and the folders above it up to `_scratch/` once empty."""
        self.store.remove_tree(self.area)
        self.store.prune_up(self.area.parent, up_to=SCRATCH_DIR)
