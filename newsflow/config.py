"""Run settings as one Pydantic model: the CLI builds it, the flow takes it.

Nothing happens at import time; defaults are what a first run on `data/raw` needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from newsflow.quality_config import QualityConfig
from newsflow.storage import Location

# Field names tried for each record field, in order; a dotted name ("source.name") is a
# path into a nested object (or a CSV column spelt so). Fields: title, date, url, body,
# authors, description, image_url, source_language, tags, site_name, fetched_at;
# `ignore` lists columns known and left out on purpose. The mapping that finds most of
# title/date/url/body in a record wins, then the one finding most fields in all, then the
# first. Field lists from each source's documentation:
MAPPING_FIELDS = (
    "title",
    "date",
    "url",
    "body",
    "authors",
    "description",
    "image_url",
    "source_language",
    "tags",
    "site_name",
    "fetched_at",
    "ignore",
)
BUILTIN_FIELD_MAPPINGS: dict[str, dict[str, list[str]]] = {
    # news-please (NewsArticle.get_dict): body `maintext` (current) or `text` (older).
    # source_domain, filename, localpath and date_modify are crawl details (a domain is no
    # site name: the publisher comes from the URL).
    "newsplease": {
        "title": ["title", "title_page", "title_rss"],
        "date": ["date_publish"],
        "url": ["url"],
        "body": ["maintext", "text"],
        "authors": ["authors"],
        "description": ["description"],
        "image_url": ["image_url"],
        "source_language": ["language"],
        "fetched_at": ["date_download"],
        "ignore": ["source_domain", "date_modify"],
    },
    # NewsAPI /v2/everything and /v2/top-headlines articles; `source` is {id, name} in
    # JSON and a name (or the dict's repr, or a `source.name` column) in CSV exports.
    "newsapi": {
        "title": ["title"],
        "date": ["publishedAt"],
        "url": ["url"],
        "body": ["content"],
        "authors": ["author"],
        "description": ["description"],
        "image_url": ["urlToImage"],
        "site_name": ["source.name", "source_name", "source"],
    },
    # GNews API v4 (gnews.io/docs/v4): like NewsAPI, with `image` and no author.
    "gnews": {
        "title": ["title"],
        "date": ["publishedAt"],
        "url": ["url"],
        "body": ["content"],
        "description": ["description"],
        "image_url": ["image"],
        "site_name": ["source.name"],
        "source_language": ["lang"],
    },
    # NewsData.io (newsdata.io/documentation/response-object).
    "newsdata": {
        "title": ["title"],
        "date": ["pubDate"],
        "url": ["link"],
        "body": ["content"],
        "authors": ["creator"],
        "description": ["description"],
        "image_url": ["image_url"],
        "source_language": ["language"],
        "tags": ["keywords"],
        "site_name": ["source_name"],
    },
    # Mediastack /v1/news: no body, only a description.
    "mediastack": {
        "title": ["title"],
        "date": ["published_at"],
        "url": ["url"],
        "authors": ["author"],
        "description": ["description"],
        "image_url": ["image"],
        "source_language": ["language"],
        "site_name": ["source"],
    },
    # newspaper4k Article.to_json() (and newspaper3k dumps of the same attributes).
    "newspaper": {
        "title": ["title"],
        "date": ["publish_date"],
        "url": ["canonical_link", "url"],
        "body": ["text"],
        "authors": ["authors"],
        "description": ["meta_description"],
        "image_url": ["top_image", "meta_img"],
        "source_language": ["meta_lang"],
        "tags": ["tags", "meta_keywords"],
        "site_name": ["meta_site_name"],
        "ignore": ["summary", "text_cleaned", "keywords", "read_more_link", "language"],
    },
    # webz.io News API posts (docs.webz.io/reference/output): site details under `thread`.
    "webz": {
        "title": ["title"],
        "date": ["published"],
        "url": ["url"],
        "body": ["text"],
        "authors": ["author"],
        "image_url": ["thread.main_image"],
        "source_language": ["language"],
        "ignore": ["highlightText", "highlightTitle", "thread"],
    },
    # GDELT DOC 2.0 artlist: no body, the date is when GDELT first saw the article.
    "gdelt_doc": {
        "title": ["title"],
        "date": ["seendate"],
        "url": ["url"],
        "image_url": ["socialimage"],
        "source_language": ["language"],
    },
    "generic": {
        "title": ["title", "headline"],
        "date": ["date", "published", "published_at", "dt_published", "pubdate"],
        "url": ["url", "link", "canonical_url"],
        "body": ["body", "text", "content", "article"],
        "authors": ["authors", "author", "byline"],
        "description": ["description", "summary"],
        "image_url": ["image_url", "image"],
        "source_language": ["language", "lang"],
        "tags": ["tags", "keywords", "categories"],
        "site_name": ["site_name", "sitename", "publisher"],
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


class DedupeConfig(BaseModel, frozen=True):
    """How dedupe recognises copies of one article (see tasks/dedupe_rules.py).

    Defaults follow the published near-duplicate settings for web text (5-word
    shingles, 128 permutations, verified similarity 0.7-0.8); the reasons are
    next to each field. Changing any of them rebuilds the dedupe index on the
    next run, because stored fingerprints and links depend on all of them.
    """

    # 5 words: long enough that unrelated news rarely shares a shingle, short enough
    # that one edited word changes only 5 shingles of a sentence. Shingles never
    # cross a sentence boundary, so shuffled sentences give the same set.
    shingle_size: int = Field(5, ge=1, le=16, description="Words per shingle")
    # 128 permutations estimate a Jaccard of 0.7 within about +-0.04; more buys
    # little, since every candidate is verified on its real shingle sets anyway.
    num_perm: int = Field(128, ge=8, le=1024, description="MinHash permutations")
    # 32 bands of 4 rows make a pair a candidate from a Jaccard of about 0.42
    # ((1/32)^(1/4)), well below the verification thresholds: 0.5 is found 87% of
    # the time, 0.6 99%, 0.7 all but never missed. The low band threshold is what
    # lets containment find a story inside a page up to about twice its length.
    bands: int = Field(32, ge=1, description="LSH bands (num_perm must be a multiple)")
    # Verified Jaccard of shingle sets: 0.7 keeps edited copies (a changed sentence,
    # a cut paragraph) and stays far above same-event articles by other writers.
    jaccard_threshold: float = Field(
        0.7, gt=0, le=1, description="Verified shingle Jaccard for near_jaccard"
    )
    # Containment |A∩B|/min(|A|,|B|) finds a wire story inside a longer page and a
    # lower-cased CSV copy with the title run in; higher than the Jaccard threshold
    # because a short text is contained more easily than it is equal.
    containment_threshold: float = Field(
        0.8, gt=0, le=1, description="Verified containment for near_containment"
    )
    # Below ~20 shingles (about 25 words, two short sentences) a body is too small to
    # identify an article: "Chat with us in Facebook Messenger. Find out what's
    # happening in the world as it unfolds." is 9. Such bodies never match as near
    # duplicates.
    min_shingles: int = Field(
        20, ge=1, description="Shingles a body needs to match as a near duplicate"
    )
    # Under 60 words a body is as often site furniture as a story: an author-bio teaser
    # (~40 words) or a consent wall repeats word for word under every article of a site.
    # Such a body matches another only when their titles agree after normalisation (or
    # one has none) and, with both dates known, within `date_window_days`; so do bodies
    # under `min_shingles`. Copies of a short news brief keep their headline and merge.
    short_body_words: int = Field(
        60,
        ge=0,
        description="Bodies under this many words match only under an agreeing title, "
        "within the date window",
    )
    # Copies of a story appear within days; a recurring template story (a weekly
    # market report, a monthly jobs figure) months apart shares most of its text
    # but is a new article. Applies to near duplicates and to short bodies
    # (`short_body_words`) with both dates known; None turns the window off. Exact and
    # sentence-set copies of longer bodies merge whatever their dates.
    date_window_days: int | None = Field(
        30, ge=0, description="Near duplicates must be published this close (days)"
    )
    seed: int = Field(1, ge=0, description="Seed of the MinHash permutations")

    @model_validator(mode="after")
    def _bands_divide_permutations(self) -> DedupeConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm {self.num_perm} is not a multiple of bands {self.bands}")
        return self

    @property
    def rows_per_band(self) -> int:
        return self.num_perm // self.bands


# The schedule of `newsflow serve` and of prefect.yaml's nightly deployment (which
# cannot import it: tests/unit/test_defaults.py holds the two equal).
DEFAULT_CRON = "0 2 * * *"
# The port `newsflow server` starts Prefect's server on (127.0.0.1): Prefect's own default.
DEFAULT_PREFECT_PORT = 4200


class PipelineConfig(BaseModel):
    """Everything one pipeline run needs to know."""

    # A refused value is not echoed: it may be a storage URL with credentials in it.
    model_config = ConfigDict(hide_input_in_errors=True)

    input_dir: Location = Field(
        Path("data/raw"),
        description="Folder of raw article files, or an object-store URL (s3://bucket/raw/; "
        "credentials and endpoint from the AWS_* environment)",
    )
    lake_dir: Location = Field(
        Path("data/lake"), description="Root of the output lake: a folder or an s3:// URL"
    )
    lake_name: str | None = Field(
        None,
        description="The lake's name in run names, artifact keys and the concurrency limit "
        "(default: the lake folder's last two path parts)",
    )
    batch_size: int = Field(500, ge=1, description="Files per batch at most")
    batch_max_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Raw bytes per batch at most (a file is never split)"
    )
    max_file_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1,
        description="Files larger than this (after decompression) are quarantined, not read, "
        "unless they can be read as a stream (JSON Lines, CSV, WARC)",
    )
    stream_min_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1,
        description="JSON Lines and CSV files larger than this (after decompression) are read "
        "line by line instead of whole; WARC files always are",
    )
    ingest_chunk_rows: int = Field(
        10_000,
        ge=1,
        description="Ingested rows built and written at a time: bounds ingest's memory on a "
        "large file",
    )
    full_refresh: bool = Field(False, description="Reprocess every file, not only new ones")
    stop_after: Literal["clean", "dedupe", "enrich"] = Field(
        "enrich",
        description="Last stage to run: clean stops before dedupe (a quick look at new input), "
        "dedupe before enrich; the next full run catches up",
    )
    re_enrich: bool = Field(
        False,
        description="Enrich every batch again, not only the ones dedupe rewrote (after "
        "changing the enrichers)",
    )
    task_timeout_seconds: float = Field(
        3600, gt=0, description="A stage task running longer than this fails (then retries)"
    )
    lock_wait_seconds: float = Field(
        600,
        ge=0,
        description="How long a run waits for another run writing the same lake before it "
        "gives up (0: refuse at once)",
    )
    domain_repeat: RepeatThresholds = Field(
        default_factory=RepeatThresholds,
        description="Thresholds of the boilerplate rule domain_repeat_v1",
    )
    dedupe: DedupeConfig = Field(
        default_factory=DedupeConfig,
        description="How dedupe recognises copies of one article",
    )
    quality: QualityConfig = Field(
        default_factory=QualityConfig,
        description="Great Expectations suites: thresholds, and per expectation its severity, "
        "mostly and whether failing rows are quarantined",
    )
    enrichers: list[str] | None = Field(
        None,
        description="Enrichers to run, by versioned name (counts_v2, source_v2, language_v2, "
        "dateline_v2, entities_v3, keywords_v2, quality_v2, and the opt-in pii_v1); null runs "
        "all but the opt-in ones. The columns of the others stay null",
    )
    field_mappings: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Extra JSON/CSV field mappings, tried before the built-in ones: "
        "{name: {field: [source names]}}; fields title, date, url, body, authors, description, "
        "image_url, source_language, tags, site_name, fetched_at, and ignore (columns left out "
        "on purpose); "
        "a dotted name (source.name) reads a nested object",
    )

    @field_validator("field_mappings")
    @classmethod
    def _known_mapping_fields(
        cls, mappings: dict[str, dict[str, list[str]]]
    ) -> dict[str, dict[str, list[str]]]:
        for name, mapping in mappings.items():
            unknown = sorted(set(mapping) - set(MAPPING_FIELDS))
            if unknown:  # a typo would otherwise map nothing, silently
                raise ValueError(
                    f"field mapping {name!r} names unknown fields {unknown}; "
                    f"known: {', '.join(MAPPING_FIELDS)}"
                )
        return mappings

    def mappings(self) -> list[dict[str, list[str]]]:
        """User mappings first, then the built-in ones (the generic one last)."""
        return [*self.field_mappings.values(), *BUILTIN_FIELD_MAPPINGS.values()]


def lake_slug(lake_dir: Path | str, lake_name: str | None = None) -> str:
    """The lake's short name for keys (artifact keys, concurrency limits, run names):
    `lake_name` as a slug if set, else the slug of the resolved lake path's last two
    parts (`/srv/news/lake` -> `news-lake`), so two lakes named `lake` stay apart."""
    text = lake_name or "-".join(Path(lake_dir).resolve().parts[-2:])
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "lake"
