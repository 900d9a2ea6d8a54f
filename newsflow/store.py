"""The file operations of a lake, on a local folder or on object storage (any fsspec URL).

`Lake` (newsflow/lake.py) is the only caller: it names files, this module reads and
writes them. A local lake keeps what a file system gives (rename into place, hard links
in the Delta commit); a lake at `s3://bucket/lake/` gets the same operations through
fsspec: an object appears whole when its PUT completes, so a file written to a local
temp file and uploaded in one PUT is as atomic as a rename, and a commit copies objects
on the server (CopyObject: no bytes through the client).

Paths are `Path` for a local lake and `PurePosixPath("bucket/prefix/...")` (the path
within the filesystem) for a remote one: both have `/`, `.name`, `.stem`, `.parent`.
Credentials and the endpoint come only from the environment (newsflow/storage.py).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

import polars as pl
import pyarrow.parquet as pq

from newsflow.faults import checkpoint
from newsflow.storage import delta_storage_options, filesystem, is_url, polars_storage_options

LakePath = Path | PurePosixPath


def _folder_of(path: LakePath) -> str:
    """The lake folder a file belongs to (`enriched`, not `published_month=2021-12`)."""
    return path.parent.parent.name if "=" in path.parent.name else path.parent.name


def atomic_write(path: Path, write: Callable[[Path], object], sweep: bool = True) -> None:
    """THE atomic write of a local file: `write` fills a hidden temp file in the same
    folder, which is then renamed over `path`, so a reader never sees half a file.

    `sweep` first removes the temp files of this path that a killed writer left behind:
    hidden from readers, but litter. One run writes a path from one task at a time (the
    lake lock keeps other runs out), so any that exist then are orphans. Scratch files
    skip it: their area is removed whole, and the sweep lists the folder (0.5 ms a
    write in a folder of 800 files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if sweep:
        for orphan in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            orphan.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        checkpoint(f"before_rename.{_folder_of(path)}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class FileVersion(NamedTuple):
    """A token that changes whenever the file is replaced (locally the mtime in ns, on
    object storage the ETag, the content's digest), its size and modification time."""

    token: str
    size: int
    modified: float


def _local_version(path: Path) -> FileVersion:
    st = path.stat()
    return FileVersion(str(st.st_mtime_ns), st.st_size, st.st_mtime)


def _remote_version(info: dict[str, Any]) -> FileVersion:
    when: Any = info.get("LastModified") or info.get("mtime")
    seconds = float(when.timestamp()) if hasattr(when, "timestamp") else float(when or 0)
    return FileVersion(str(info.get("ETag") or when), int(info["size"]), seconds)


class Store:
    """A lake's storage: `root` and the operations on files below it."""

    def __init__(self, location: Path | str) -> None:
        self.remote = is_url(location)
        self.fs: Any = None
        if self.remote:
            self.url = str(location).rstrip("/")
            self.scheme = self.url.split("://", 1)[0]
            # Listings are never cached: other processes (workers, the next run) write too.
            self.fs, path = filesystem(self.url, use_listings_cache=False)
            self.root: LakePath = PurePosixPath(path)
        else:
            self.url = str(location)
            self.root = Path(str(location).removeprefix("file://"))

    # -- names --------------------------------------------------------------------------

    def uri(self, path: LakePath) -> str:
        """`path` as polars, pyarrow and deltalake take it."""
        return f"{self.scheme}://{path}" if self.remote else str(path)

    def key(self, path: LakePath) -> str:
        """A text that names one file whichever way its path was spelled."""
        return str(path) if self.remote else str(Path(path).resolve())

    def polars_options(self) -> dict[str, str] | None:
        return polars_storage_options(self.url) if self.remote else None

    def delta_options(self) -> dict[str, str] | None:
        return delta_storage_options(self.url) if self.remote else None

    # -- looking ------------------------------------------------------------------------

    def exists(self, path: LakePath) -> bool:
        return bool(self.fs.exists(str(path))) if self.remote else Path(path).exists()

    def is_dir(self, path: LakePath) -> bool:
        return bool(self.fs.isdir(str(path))) if self.remote else Path(path).is_dir()

    def files(self, folder: LakePath, suffix: str = ".parquet", deep: bool = True) -> list[Any]:
        """The visible files below `folder` (in sub-folders too when `deep`) whose name
        ends with `suffix`, sorted."""
        if not self.remote:
            where = Path(folder)
            if not where.is_dir():
                return []
            found = where.rglob(f"*{suffix}") if deep else where.glob(f"*{suffix}")
            return sorted(p for p in found if not p.name.startswith("."))
        try:
            names = self.fs.find(str(folder)) if deep else self.fs.ls(str(folder), detail=False)
        except FileNotFoundError:
            return []
        paths = [PurePosixPath(n) for n in names]
        return sorted(p for p in paths if p.name.endswith(suffix) and not p.name.startswith("."))

    def folders(self, folder: LakePath) -> list[str]:
        """Names of the sub-folders of `folder`, sorted."""
        if not self.remote:
            where = Path(folder)
            return sorted(p.name for p in where.iterdir() if p.is_dir()) if where.is_dir() else []
        # From the files below, not the listing's folders: some stores (SeaweedFS) keep a
        # folder after its last file is deleted.
        top = PurePosixPath(folder)
        below = (PurePosixPath(f).relative_to(top).parts for f in self.files(folder, ""))
        return sorted({parts[0] for parts in below if len(parts) > 1})

    def versions(self, folder: LakePath) -> dict[Any, FileVersion]:
        """Each visible Parquet file below `folder` with its version: one listing on
        object storage (no request per file), a stat per file locally."""
        if not self.remote:
            return {p: _local_version(p) for p in self.files(folder)}
        try:
            found = self.fs.find(str(folder), detail=True)
        except FileNotFoundError:
            return {}
        paths = {PurePosixPath(name): info for name, info in found.items()}
        return {
            path: _remote_version(paths[path])
            for path in sorted(paths)
            if path.name.endswith(".parquet") and not path.name.startswith(".")
        }

    def modified(self, path: LakePath) -> float:
        if not self.remote:
            return Path(path).stat().st_mtime
        return _remote_version(self.fs.info(str(path))).modified

    # -- reading ------------------------------------------------------------------------

    @contextmanager
    def opened(self, path: LakePath) -> Iterator[Any]:
        """Something polars and pyarrow read a file from: the path, or an open object."""
        if not self.remote:
            yield path
            return
        with self.fs.open(str(path), "rb") as handle:
            yield handle

    def parquet_metadata(self, path: LakePath) -> Any:
        """The footer of a Parquet file (pyarrow `FileMetaData`): reads no rows."""
        with self.opened(path) as source:
            return pq.ParquetFile(source).metadata

    def read_parquet(self, path: LakePath, columns: list[str] | None = None) -> pl.DataFrame:
        with self.opened(path) as source:
            return pl.read_parquet(source, columns=columns)

    def scan_parquet(
        self,
        paths: list[Any],
        hive: bool = False,
        schema: pl.Schema | None = None,
        missing_columns: Literal["insert", "raise"] = "raise",
        widen: bool = False,
    ) -> pl.LazyFrame:
        """`paths` as one frame; with `schema` and `widen`, a file's narrower integers
        and all-null columns are cast to it and its other columns left out."""
        return pl.scan_parquet(
            [self.uri(p) for p in paths] if self.remote else paths,
            hive_partitioning=hive,
            glob=False,  # a list of files: a lake under `lake[1]/` is not a pattern
            schema=schema,
            missing_columns=missing_columns,
            extra_columns="ignore" if widen else "raise",
            cast_options=pl.ScanCastOptions(integer_cast="upcast") if widen else None,
            storage_options=self.polars_options(),
        )

    def read_text(self, path: LakePath) -> str:
        """The file's text; FileNotFoundError when there is none."""
        if not self.remote:
            return Path(path).read_text(encoding="utf-8")
        with self.fs.open(str(path), "rb") as handle:
            return bytes(handle.read()).decode("utf-8")

    def read_json(self, path: LakePath) -> Any:
        return json.loads(self.read_text(path))

    # -- writing ------------------------------------------------------------------------

    def write(self, path: LakePath, write: Callable[[Path], object], sweep: bool = True) -> None:
        """Write a file atomically: `write` fills a local file, which becomes `path` whole
        (a rename on a local lake, one upload on object storage; `sweep`: `atomic_write`)."""
        if not self.remote:
            atomic_write(Path(path), write, sweep)
            return
        with tempfile.TemporaryDirectory(prefix="newsflow-upload-") as folder:
            local = Path(folder) / path.name
            write(local)
            checkpoint(f"before_rename.{_folder_of(path)}")
            self.fs.put_file(str(local), str(path))

    def write_text(self, path: LakePath, text: str) -> None:

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        self.write(path, write)

    def write_json(self, path: LakePath, obj: Any) -> None:
        """`obj` as indented JSON, atomically."""
        text = json.dumps(obj, indent=2, sort_keys=True, default=str)
        self.write_text(path, text + "\n")

    def write_new_text(self, path: LakePath, text: str) -> bool:
        """Write `path` only if it does not exist yet (of writers racing, one wins);
        whether this call wrote it."""
        if self.remote:
            try:
                with self.fs.open(str(path), "xb") as handle:
                    handle.write(text.encode("utf-8"))
                return True
            except (FileExistsError, ValueError, NotImplementedError):
                if self.exists(path):
                    return False
                self.write_text(path, text)  # a backend without create-only writes
                return True
        local = Path(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f"{local.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, local)  # the first link wins
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def copy_in(self, source: LakePath, target: LakePath) -> None:
        """Put `source` at `target` without moving its bytes through here where the store
        can: a hard link locally (a copy across devices), a server-side copy remotely."""
        if self.remote:
            self.fs.copy(str(source), str(target))
            return
        target_path, source_path = Path(target), Path(source)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.unlink(missing_ok=True)  # left by a commit cut short before its log entry
        try:
            os.link(source_path, target_path)
        except OSError:  # no hard links here (another device, some network file systems)
            shutil.copy2(source_path, target_path)

    def move(self, source: LakePath, target: LakePath) -> None:
        if self.remote:
            self.fs.mv(str(source), str(target), recursive=True)
            return
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    # -- removing -----------------------------------------------------------------------

    def remove(self, path: LakePath) -> None:
        """Delete a file (nothing when it is gone already)."""
        if not self.remote:
            Path(path).unlink(missing_ok=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(str(path))

    def remove_tree(self, folder: LakePath) -> None:
        if not self.remote:
            shutil.rmtree(folder, ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(str(folder), recursive=True)

    def prune(self, folder: LakePath) -> None:
        """Remove the empty sub-folders of `folder` (partitions emptied). Object stores
        have no empty folders."""
        if self.remote or not Path(folder).is_dir():
            return
        for sub in sorted(Path(folder).glob("*/"), reverse=True):
            if sub.is_dir() and not any(sub.iterdir()):
                sub.rmdir()

    def prune_up(self, folder: LakePath, up_to: str) -> None:
        """Remove `folder` and the folders above it, up to the one named `up_to`, while
        they are empty."""
        if self.remote:
            return
        for parent in (Path(folder), *Path(folder).parents):
            try:
                parent.rmdir()
            except OSError:  # not empty (another area), or already gone
                break
            if parent.name == up_to:
                break
