"""Listing object-store input by signature (newsflow/object_inputs.py) and the location
helpers (newsflow/storage.py), on fsspec's in-memory store: the logic, not S3 (the real
server is in tests/s3/)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from pydantic import ValidationError

import newsflow.object_inputs as object_inputs
from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.object_inputs import (
    InputCache,
    list_any_inputs,
    local_input_root,
    signature,
)
from newsflow.storage import as_location, is_url, location_key


@pytest.fixture
def store() -> Iterator[tuple[Any, str]]:
    """A fresh prefix in fsspec's in-memory store: (filesystem, URL)."""
    fs = fsspec.filesystem("memory")
    prefix = f"/raw-{uuid.uuid4().hex[:8]}"
    yield fs, f"memory://{prefix}/"
    fs.rm(prefix, recursive=True)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The object paths the module downloads, in order (the real download still runs)."""
    fetched: list[str] = []
    real = object_inputs.fetch

    def counting(fs: Any, remote: str, local: Path) -> None:
        fetched.append(remote)
        real(fs, remote, local)

    monkeypatch.setattr(object_inputs, "fetch", counting)
    return fetched


def _put(fs: Any, url: str, rel: str, data: bytes) -> None:
    fs.pipe(url.removeprefix("memory://") + rel, data)


def test_a_second_listing_downloads_nothing_and_agrees_with_a_local_listing(
    store: tuple[Any, str], downloads: list[str], tmp_path: Path
) -> None:
    fs, url = store
    files = {"a.json": b'{"title": "One"}', "sub/b.csv": b"title\nTwo\n", "c.txt": b"Three"}
    for rel, data in files.items():
        _put(fs, url, rel, data)
        (tmp_path / "local" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "local" / rel).write_bytes(data)
    lake = tmp_path / "lake"

    listed, rejected = list_any_inputs(url, lake, seen=set())
    assert rejected == []
    assert len(downloads) == 3
    # Same relative paths, hashes and sizes as the same files in a folder.
    assert listed == list_inputs(tmp_path / "local")[0]

    downloads.clear()
    assert list_any_inputs(url, lake, seen=set()) == (listed, [])
    assert downloads == []


def test_a_changed_object_is_downloaded_again_and_ingested_copies_are_dropped(
    store: tuple[Any, str], downloads: list[str], tmp_path: Path
) -> None:
    fs, url = store
    _put(fs, url, "a.json", b"first")
    _put(fs, url, "b.json", b"other")
    lake = tmp_path / "lake"
    before, _ = list_any_inputs(url, lake, seen=set())
    downloads.clear()
    _put(fs, url, "a.json", b"second version")

    after, _ = list_any_inputs(url, lake, seen={f.content_hash for f in before})
    assert [d.rsplit("/", 1)[1] for d in downloads] == ["a.json"]
    assert after[0].content_hash != before[0].content_hash
    assert after[1] == before[1]
    copies = InputCache(lake, location_key(url)).copies
    # b.json is ingested (its hash is seen): its copy goes; the new a.json stays for ingest.
    assert sorted(p.name for p in copies.rglob("*") if p.is_file()) == ["a.json"]


def test_hidden_objects_are_skipped_and_unmirrorable_keys_rejected(
    store: tuple[Any, str], tmp_path: Path
) -> None:
    fs, url = store
    _put(fs, url, "ok.json", b"{}")
    _put(fs, url, ".hidden/x.json", b"{}")
    _put(fs, url, "a/.DS_Store", b"junk")
    _put(fs, url, "odd//name.json", b"{}")
    listed, rejected = list_any_inputs(url, tmp_path / "lake", seen=set())
    assert [f.path for f in listed] == ["ok.json"]
    assert [(r.path, r.rule) for r in rejected] == [("odd//name.json", "unreadable_file")]


def test_ingest_downloads_copies_it_does_not_find(
    store: tuple[Any, str], downloads: list[str], tmp_path: Path
) -> None:
    fs, url = store
    _put(fs, url, "a.json", b"data of a")
    lake = tmp_path / "lake"
    listed, _ = list_any_inputs(url, lake, seen=set())
    batch = plan_batches(listed, batch_size=10, max_bytes=1 << 20)[0]
    root = local_input_root(batch, url, lake)
    assert (root / "a.json").read_bytes() == b"data of a"
    assert len(downloads) == 1  # listing's copy was used

    (root / "a.json").unlink()  # another machine, or a cache emptied by hand
    assert (local_input_root(batch, url, lake) / "a.json").read_bytes() == b"data of a"
    assert len(downloads) == 2
    assert local_input_root(batch, tmp_path / "folder", lake) == tmp_path / "folder"


def test_signature_reads_s3_and_generic_listing_entries() -> None:
    when = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
    s3 = {"ETag": '"abc"', "size": 7, "LastModified": when, "type": "file"}
    assert signature(s3) == ('"abc"', 7, "2026-12-01T08:30:00+00:00")
    assert signature({"size": 3, "created": 1.5}) == ("", 3, "1.5")
    assert signature({"size": 3}) is None  # nothing to tell a change by: always download
    assert signature({**s3, "ETag": '"abd"'}) != signature(s3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket/raw/", "s3://bucket/raw/"),
        ("gs://bucket/raw", "gs://bucket/raw"),
        ("data/raw", Path("data/raw")),
        ("file:///srv/raw", Path("/srv/raw")),
        ("C:/raw", Path("C:/raw")),
    ],
)
def test_locations_keep_urls_and_make_paths(text: str, expected: object) -> None:
    assert as_location(text) == expected
    assert is_url(as_location(text)) == isinstance(expected, str)
    assert PipelineConfig(input_dir=text).input_dir == expected


def test_a_url_with_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="AWS_ACCESS_KEY_ID") as info:
        PipelineConfig(input_dir="s3://AKIAEXAMPLE:hunter2@bucket/raw/")
    assert "hunter2" not in str(info.value)


def test_a_config_round_trips_through_json_with_a_url() -> None:
    config = PipelineConfig(input_dir="s3://bucket/raw/")
    again = PipelineConfig.model_validate_json(config.model_dump_json())
    assert again.input_dir == "s3://bucket/raw/"
    assert location_key(again.input_dir) == "s3://bucket/raw"


def test_allowed_roots_hold_urls_and_folders(tmp_path: Path) -> None:
    from flows.validation import roots_env, split_roots
    from newsflow.storage import within

    roots: list[Path | str] = [tmp_path / "raw", "s3://bucket/raw/"]
    assert split_roots(roots_env(roots)) == [(tmp_path / "raw").resolve(), "s3://bucket/raw/"]
    assert within("s3://bucket/raw/2026/", "s3://bucket/raw")
    assert not within("s3://bucket/rawdata/", "s3://bucket/raw")
    assert not within("s3://other/raw/", "s3://bucket/raw")
    assert not within(tmp_path / "raw", "s3://bucket/raw")
    assert within(tmp_path / "raw" / "a", tmp_path / "raw")


def test_a_url_input_outside_the_allowed_roots_is_refused(tmp_path: Path) -> None:
    from flows.validation import validate
    from newsflow.run_config import ParameterError

    config = PipelineConfig(input_dir="s3://private/raw/", lake_dir=tmp_path / "lake")
    with pytest.raises(ParameterError, match="outside the allowed roots"):
        validate(config, ["s3://bucket/raw", tmp_path.resolve()])
