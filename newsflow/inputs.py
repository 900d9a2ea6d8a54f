"""The input side: list raw files safely, hash their content, cut them into batches.

Content hashes make runs incremental (a renamed file is not new, an edited one is)
and make batch ids stable: the same files always form the same batch id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One raw file: its path relative to the input root, content hash and size."""

    path: str
    content_hash: str
    size: int


@dataclass(frozen=True)
class Batch:
    batch_id: str
    files: tuple[InputFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Rejected:
    """An entry of the input folder that cannot be read as a file at all."""

    path: str
    rule: str
    detail: str

    def __post_init__(self) -> None:
        # Quarantined rows are stored: names and details must be valid UTF-8.
        object.__setattr__(self, "path", storable(self.path))
        object.__setattr__(self, "detail", storable(self.detail))


def digest(*parts: str | bytes, size: int = 16) -> str:
    """A short stable hex digest of the parts (used for ids, never for security)."""
    h = hashlib.blake2b(digest_size=size)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def storable(text: str) -> str:
    """`text` as valid UTF-8: bytes of a file name that is not UTF-8 (which Python keeps
    as lone surrogates) become `\\xe9` escapes, so the name can be stored and shown."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def content_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def list_inputs(root: Path) -> tuple[list[InputFile], list[Rejected]]:
    """Every regular file below `root` (hidden ones skipped), hashed, in path order.

    Links that lead outside `root` and entries that cannot be read are rejected
    with a reason rather than followed or skipped silently.
    """
    root = root.resolve()
    files: list[InputFile] = []
    rejected: list[Rejected] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        try:
            real = path.resolve()
            if not real.is_relative_to(root):
                rejected.append(Rejected(rel, "outside_input_root", f"links to {real}"))
                continue
            if not real.exists() and path.is_symlink():
                rejected.append(Rejected(rel, "unreadable_file", f"broken link to {real}"))
                continue
            if real.is_dir():
                continue
            if not real.is_file():  # a FIFO, socket or device: reading it could block
                rejected.append(Rejected(rel, "unreadable_file", "not a regular file"))
                continue
            if storable(rel) != rel:  # ids, batch ids and source_file all need UTF-8
                rejected.append(Rejected(rel, "unreadable_file", "file name is not UTF-8"))
                continue
            files.append(InputFile(rel, content_hash(real), real.stat().st_size))
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            rejected.append(Rejected(rel, "unreadable_file", f"{type(exc).__name__}: {exc}"))
    return files, rejected


def plan_batches(files: Iterable[InputFile], *, batch_size: int, max_bytes: int) -> list[Batch]:
    """Cut files into batches of at most `batch_size` files and about `max_bytes` bytes."""
    batches: list[Batch] = []
    current: list[InputFile] = []

    def close() -> None:
        if current:
            batch_id = digest(*(f"{f.path}:{f.content_hash}" for f in current))
            batches.append(Batch(batch_id, tuple(current)))
            current.clear()

    for f in files:
        if current and (
            len(current) >= batch_size or sum(x.size for x in current) + f.size > max_bytes
        ):
            close()
        current.append(f)
    close()
    return batches
