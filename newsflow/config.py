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


class RepeatThresholds(BaseModel, frozen=True):
    """When a paragraph that recurs across a domain's documents counts as furniture.

    All three must hold. The defaults keep reporting: a background paragraph reused
    in two or three follow-up stories stays; a footer or "Advertisement" line that
    sits under most of a site's articles goes.
    """

    # Below ~20 documents one story republished twice already looks like a pattern.
    min_domain_docs: int = Field(20, ge=1, description="Documents a domain needs first")
    # Reused background paragraphs rarely recur in more than 3-4 stories of a site;
    # page furniture recurs in nearly all of them. Two is never enough (one copy).
    repeat_min_docs: int = Field(
        5, ge=2, description="Documents of the domain a paragraph must appear in"
    )
    # For large domains an absolute count alone is too easy to reach by stories that
    # share a paragraph; furniture sits under a real share of a site's pages.
    repeat_min_share: float = Field(
        0.05, gt=0, le=1, description="Share of the domain's documents it must appear in"
    )


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
    domain_repeat: RepeatThresholds = Field(
        default_factory=RepeatThresholds,
        description="Thresholds of the boilerplate rule domain_repeat_v1",
    )
    field_mappings: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Extra JSON/CSV field mappings, tried before the built-in ones",
    )

    def mappings(self) -> list[dict[str, list[str]]]:
        """User mappings first, then news-please's, then the generic one."""
        return [*self.field_mappings.values(), *BUILTIN_FIELD_MAPPINGS.values()]
