"""Input on object storage (`s3://bucket/raw/`, or any fsspec URL): list, diff, fetch.

Runs stay incremental by content hash (newsflow/inputs.py), but hashing an object means
downloading it. So a listing records, per object, its *signature* (ETag, size, modified
time: what a LIST returns, no data) with the content hash it had. The next listing
downloads and hashes only objects whose signature is new or changed; the others keep
their recorded hash, and the file manifest then says they are ingested. A re-run over
unchanged input downloads nothing.

Downloaded objects are kept in a local cache, mirroring their keys, until the run that
needs them has committed: ingest reads them there with the same readers as a local
folder (whole, streamed, WARC), so each new object is fetched exactly once (listing
hashes it, ingest reads the copy). Streaming through the readers instead would fetch
each object twice (once to hash, once to parse) and most of them three times (the
readers open a file again after sniffing its head). An ingest task that finds no copy
(a Dask worker on another machine, a cache emptied by hand) downloads it again.

The signature memo (`_input_cache/listing.parquet`) is in the lake, wherever the lake
is, so every machine running the flow shares it. The copies are one folder per input
URL, local to the machine: in the lake folder (`_input_cache/`) for a local lake, in
the temp folder (`newsflow-input-cache/<lake digest>/`) for a lake on object storage.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from newsflow.inputs import Batch, InputFile, Rejected, content_hash, digest, list_inputs
from newsflow.lake import Lake
from newsflow.storage import filesystem, is_url, location_key, problem
from newsflow.store import atomic_write

CACHE_FOLDER = "_input_cache"
LISTING_FILE = "listing.parquet"
MEMO = f"{CACHE_FOLDER}/{LISTING_FILE}"  # in the lake
LISTING = {
    "input": pl.String,  # the input URL the object was listed under
    "path": pl.String,  # relative to it
    "etag": pl.String,
    "size": pl.Int64,
    "modified": pl.String,
    "content_hash": pl.String,
}
# Downloads at a time: object stores answer slowly but in parallel.
FETCH_THREADS = 16

Signature = tuple[str, int, str]


def input_cache_dir(lake_dir: Path | str) -> Path:
    """The local folder where a lake's copies of new objects are kept."""
    if is_url(lake_dir):
        key = digest(location_key(lake_dir), size=8)
        return Path(tempfile.gettempdir()) / "newsflow-input-cache" / key
    return Path(lake_dir) / CACHE_FOLDER


def signature(info: dict[str, Any]) -> Signature | None:
    """(ETag, size, modified time) of an object from its listing entry; None when the
    store gives neither an ETag nor a time (then only its content can tell a change)."""
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""
    modified = next(
        (
            info[key]
            for key in ("LastModified", "last_modified", "mtime", "updated", "created")
            if info.get(key) is not None
        ),
        None,
    )
    if isinstance(modified, dt.datetime):
        modified = modified.astimezone(dt.UTC).isoformat()
    if not etag and modified is None:
        return None
    return str(etag), int(info.get("size") or 0), "" if modified is None else str(modified)


class InputCache:
    """The copies of one input URL's objects and the memo of their signatures (in the
    lake `lake_dir`)."""

    def __init__(self, lake_dir: Path | str, url: str) -> None:
        self.lake = Lake(lake_dir)
        self.url = url
        # Keyed by the URL: two inputs' `a.json` never share a copy.
        self.copies = input_cache_dir(lake_dir) / digest(url, size=8)

    def _memo(self) -> pl.DataFrame:
        return (
            self.lake.read_table(MEMO)
            if self.lake.exists_file(MEMO)
            else pl.DataFrame(schema=LISTING)
        )

    def copy_of(self, path: str) -> Path:
        return self.copies / path

    def known(self) -> dict[str, tuple[Signature, str]]:
        """path -> (signature, content hash) as the last listing of this URL saw them."""
        rows = self._memo().filter(pl.col("input") == self.url)
        return {
            r["path"]: ((r["etag"], r["size"], r["modified"]), r["content_hash"])
            for r in rows.iter_rows(named=True)
        }

    def remember(self, listed: dict[str, tuple[Signature, str]]) -> None:
        """Replace this URL's rows of the memo by `listed` (objects gone are forgotten)."""
        others = self._memo().filter(pl.col("input") != self.url)
        rows = [
            {
                "input": self.url,
                "path": path,
                "etag": sig[0],
                "size": sig[1],
                "modified": sig[2],
                "content_hash": hashed,
            }
            for path, (sig, hashed) in sorted(listed.items())
        ]
        memo_rows = pl.concat([others, pl.DataFrame(rows, schema=LISTING)])
        self.lake.write_table(memo_rows, MEMO, {"newsflow.input_listing": "1"})

    def keep_only(self, paths: set[str]) -> None:
        """Delete the copies of every other object (ingested ones, gone ones)."""
        if not self.copies.exists():
            return
        for copy in sorted(self.copies.rglob("*"), reverse=True):
            rel = copy.relative_to(self.copies).as_posix()
            if copy.is_file() and rel not in paths:
                copy.unlink()
            elif copy.is_dir() and not any(copy.iterdir()):
                copy.rmdir()


def fetch(fs: Any, remote: str, local: Path) -> None:
    """Download one object to `local`, atomically (a killed download leaves no copy)."""
    atomic_write(local, lambda tmp: fs.get_file(remote, str(tmp)))


def _each(work: Callable[[str], None], paths: Iterable[str]) -> dict[str, BaseException]:
    """Run `work` on every path in threads; path -> the exception it raised."""
    failed: dict[str, BaseException] = {}

    def attempt(path: str) -> None:
        try:
            work(path)
        except Exception as exc:  # one object that cannot be read is quarantined, not fatal
            failed[path] = exc

    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        list(pool.map(attempt, paths))
    return failed


def _relative(name: str, root: str) -> str | None:
    """The object's path below `root`, or None for an object outside it."""
    return name[len(root) + 1 :] if name.startswith(root + "/") else None


def list_object_inputs(
    url: str, cache: InputCache, seen: set[str]
) -> tuple[list[InputFile], list[Rejected]]:
    """Every object below `url` (hidden ones skipped) with its content hash, in path
    order; downloads only objects new or changed since the last listing. `seen` (content
    hashes already ingested) decides which copies the cache still needs.

    Keys a folder cannot mirror (an empty segment: `a//b`) and objects that cannot be
    downloaded are rejected with a reason, like unreadable local files.
    """
    fs, root = filesystem(url)
    entries = fs.find(root, detail=True)
    known = cache.known()
    listed: dict[str, tuple[Signature | None, int]] = {}
    rejected: list[Rejected] = []
    for name, info in entries.items():
        rel = _relative(name, root)
        if rel is None or info.get("type", "file") != "file" or name.endswith("/"):
            continue  # folder markers
        parts = rel.split("/")
        if any(part.startswith(".") for part in parts if part):
            continue
        if "" in parts:
            rejected.append(Rejected(rel, "unreadable_file", "object key has an empty segment"))
            continue
        listed[rel] = (signature(info), int(info.get("size") or 0))
    hashes = {
        rel: known[rel][1]
        for rel, (sig, _) in listed.items()
        if sig is not None and rel in known and known[rel][0] == sig
    }
    todo = sorted(set(listed) - set(hashes))

    def download_and_hash(rel: str) -> None:
        copy = cache.copy_of(rel)
        fetch(fs, f"{root}/{rel}", copy)
        hashes[rel] = content_hash(copy)

    for rel, exc in _each(download_and_hash, todo).items():
        rejected.append(Rejected(rel, "unreadable_file", f"download failed: {problem(exc)}"))
        del listed[rel]
    cache.remember({rel: (sig, hashes[rel]) for rel, (sig, _) in listed.items() if sig})
    # In the order of a local listing (by path segments: `a/b` before `a.b`), so the same
    # files form the same batches whether they are read from a folder or a bucket.
    in_order = sorted(listed.items(), key=lambda item: item[0].split("/"))
    files = [InputFile(rel, hashes[rel], size) for rel, (_, size) in in_order]
    cache.keep_only({f.path for f in files if f.content_hash not in seen})
    return files, sorted(rejected, key=lambda r: r.path)


def list_any_inputs(
    location: Path | str, lake_dir: Path | str, seen: set[str]
) -> tuple[list[InputFile], list[Rejected]]:
    """The input files of a local folder (newsflow/inputs.py, unchanged) or of an
    object-store URL (above, through the lake's input cache)."""
    if not is_url(location):
        return list_inputs(Path(location))
    url = location_key(location)
    return list_object_inputs(url, InputCache(lake_dir, url), seen)


def local_input_root(batch: Batch, location: Path | str, lake_dir: Path | str) -> Path:
    """A local folder holding every file of `batch` at its relative path: the input
    folder itself, or the cache of an object-store URL, where copies missing here (a
    worker on another machine) or of another size are downloaded first.

    A file that cannot be downloaded is left missing: ingest quarantines it as
    unreadable like a local file that vanished.
    """
    if not is_url(location):
        return Path(location)
    url = location_key(location)
    cache = InputCache(lake_dir, url)
    missing = [
        f.path
        for f in batch.files
        if not (copy := cache.copy_of(f.path)).is_file() or copy.stat().st_size != f.size
    ]
    if missing:
        fs, root = filesystem(url)
        _each(lambda rel: fetch(fs, f"{root}/{rel}", cache.copy_of(rel)), missing)
    return cache.copies
