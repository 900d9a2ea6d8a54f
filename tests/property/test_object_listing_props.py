"""newsflow.object_inputs: whatever objects exist and however they change, listing them
agrees with listing the same files in a folder, and fetches exactly the objects written
since the last listing (fsspec's in-memory store stands in for S3)."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import fsspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newsflow.object_inputs as object_inputs
from newsflow.inputs import list_inputs
from newsflow.object_inputs import list_any_inputs

# Up to two folders deep. Folders have no dot and names end in one: a name is never also
# a folder of another name.
FOLDER = st.from_regex(r"[a-z0-9_\-]{1,6}", fullmatch=True)
NAME = st.from_regex(r"[a-z0-9_][a-z0-9_\-.]{0,6}\.f", fullmatch=True)
PATH = st.tuples(st.lists(FOLDER, max_size=2), NAME).map(lambda p: "/".join([*p[0], p[1]]))
CONTENT = st.binary(max_size=40)
FILES = st.dictionaries(PATH, CONTENT, min_size=1, max_size=8)


def _write(fs: Any, prefix: str, folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        fs.pipe(f"{prefix}/{rel}", data)
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=FILES, writes=FILES)
def test_listing_agrees_with_a_folder_and_fetches_only_what_was_written(
    before: dict[str, bytes], writes: dict[str, bytes]
) -> None:
    fs = fsspec.filesystem("memory")
    prefix = f"/prop-{uuid.uuid4().hex[:8]}"
    fetched: list[str] = []
    real = object_inputs.fetch

    def counting(fs: Any, remote: str, local: Path) -> None:
        fetched.append(remote.removeprefix(f"{prefix}/"))
        real(fs, remote, local)

    object_inputs.fetch = counting
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder, lake = Path(tmp) / "folder", Path(tmp) / "lake"
            folder.mkdir()
            url = f"memory://{prefix}/"
            _write(fs, prefix, folder, before)
            first, _ = list_any_inputs(url, lake, seen=set())
            assert first == list_inputs(folder)[0]
            assert sorted(fetched) == sorted(before)

            fetched.clear()
            _write(fs, prefix, folder, writes)
            second, _ = list_any_inputs(url, lake, seen={f.content_hash for f in first})
            assert second == list_inputs(folder)[0]
            assert sorted(fetched) == sorted(writes)
    finally:
        object_inputs.fetch = real
        fs.rm(prefix, recursive=True)
