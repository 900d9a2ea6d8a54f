"""Run settings as one Pydantic model: the CLI builds it, the flow takes it.

Nothing happens at import time; defaults are what a first run on `data/raw` needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

# Field names tried for each article field, in order. news-please writes its body
# as `maintext` (current) or `text` (older releases); "None" strings mean missing.
BUILTIN_FIELD_MAPPINGS: dict[str, dict[str, list[str]]] = {
    "newsplease": {
        "title": ["title"],
        "date": ["date_publish"],
        "url": ["url"],
        "body": ["maintext", "text"],
    },
    "generic": {
        "title": ["title", "headline"],
        "date": ["date", "published", "published_at", "dt_published", "pubdate"],
        "url": ["url", "link", "canonical_url"],
        "body": ["body", "text", "content", "article"],
    },
}


class PipelineConfig(BaseModel):
    """Everything one pipeline run needs to know."""

    input_dir: Path = Field(Path("data/raw"), description="Folder of raw article files")
    lake_dir: Path = Field(Path("data/lake"), description="Root of the output lake")
    batch_size: int = Field(500, ge=1, description="Files per batch at most")
    batch_max_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Raw bytes per batch at most (a file is never split)"
    )
    max_file_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1,
        description="Files larger than this (after decompression) are quarantined, not read",
    )
    full_refresh: bool = Field(False, description="Reprocess every file, not only new ones")
    field_mappings: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Extra JSON/CSV field mappings, tried before the built-in ones",
    )

    def mappings(self) -> list[dict[str, list[str]]]:
        """User mappings first, then news-please's, then the generic one."""
        return [*self.field_mappings.values(), *BUILTIN_FIELD_MAPPINGS.values()]
