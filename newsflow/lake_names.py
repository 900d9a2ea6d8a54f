"""A lake's short name: in flow-run names, and in the key of its concurrency limit.

A configured `lake_name` wins; otherwise the name is made from the lake folder's last
two path parts (`/srv/news/lake` -> `news-lake`), which tell lakes apart in a UI list
while staying short. Two lakes may share such a slug, so the concurrency limit of an
unnamed lake adds a short hash of its full path: one limit per lake, never one shared
by two lakes that merely end alike.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

LIMIT_PREFIX = "newsflow-lake-"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case letters and digits, runs of anything else as one '-'."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def _full_path(lake_dir: Path | str) -> str:
    text = str(lake_dir)
    if "://" in text:  # an fsspec URL (s3://bucket/lake) names itself
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


def lake_slug(lake_dir: Path | str, lake_name: str | None = None) -> str:
    """The lake's configured name as a slug, else its folder's last two parts as one."""
    if lake_name and slug(lake_name):
        return slug(lake_name)
    parts = [p for p in _full_path(lake_dir).split("/") if p and not p.endswith(":")]
    return slug("-".join(parts[-2:])) or "lake"


def lake_limit_name(lake_dir: Path | str, lake_name: str | None = None) -> str:
    """The name of the Prefect global concurrency limit that admits one run per lake."""
    if lake_name and slug(lake_name):
        return f"{LIMIT_PREFIX}{slug(lake_name)}"
    digest = hashlib.sha1(_full_path(lake_dir).encode()).hexdigest()[:8]
    return f"{LIMIT_PREFIX}{lake_slug(lake_dir)}-{digest}"
