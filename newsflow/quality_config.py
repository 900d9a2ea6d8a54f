"""Quality settings: thresholds of the suites and, per expectation, what a failure means.

Two kinds of failure, kept apart on purpose:

* a **row-level** expectation with `quarantine=True` sends each failing row to
  `quarantine/` under the expectation's name; the rest of the batch goes on;
* an expectation with `severity="critical"` fails the run when it fails *after*
  `mostly`: the share of good rows is below what a healthy source gives, so the
  problem is the pipeline (a broken field mapping, a parser regression), not one row.

Nothing here imports Great Expectations: the CLI and the flow read this cheaply.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Severity = Literal["critical", "warning"]

# Stages with a suite, in pipeline order.
STAGES = ("ingested", "cleaned", "deduped", "enriched")


class ExpectationPolicy(BaseModel, frozen=True):
    """What one expectation's failure means."""

    severity: Severity = "warning"
    # Share of rows that must pass for the expectation to succeed (GX `mostly`).
    mostly: float = Field(1.0, ge=0, le=1)
    # Row-level expectations only: failing rows go to quarantine/ with the rule's name.
    quarantine: bool = False


def _policy(
    severity: Severity = "warning", mostly: float = 1.0, quarantine: bool = False
) -> ExpectationPolicy:
    return ExpectationPolicy(severity=severity, mostly=mostly, quarantine=quarantine)


# The defaults, and why. Dataset-level expectations (schema, unique ids) are critical at
# 100%: one break means the stage's contract does not hold. Row-level ones quarantine
# only where the row is no use downstream; where clean already withholds the bad value
# (an implausible date becomes null with a date_flag, a bad URL becomes null with a
# url_flag) the article is still worth keeping and the expectation only reports.
DEFAULT_POLICIES: dict[str, ExpectationPolicy] = {
    "schema_columns": _policy("critical"),
    "schema_types": _policy("critical"),
    "doc_id_present": _policy("critical"),
    "doc_id_unique": _policy("critical"),
    # A headline-less article is still text; dedupe may take the title of another copy.
    "title_present": _policy(),
    # Missing dates are common in real crawls (20 of 404 news_cluster records), and some
    # feeds carry none at all, which is no reason to stop a run: report. Make it critical
    # (e.g. mostly=0.5) for sources known to date every article.
    "date_present": _policy(),
    # More than half of given dates unreadable means the parser does not know the format.
    "date_parseable": _policy("critical", mostly=0.5),
    # Clean nulls these dates (date_flag future / before_1900 / epoch_1970): report.
    "date_in_range": _policy(),
    "date_not_epoch": _policy(),
    "url_present": _policy(),
    "url_well_formed": _policy(),
    # A script or inline-data "URL" means the record was scraped from the wrong element,
    # or is hostile: its other fields cannot be trusted either.
    "url_not_script": _policy(quarantine=True),
    # Two different kept records with one canonical URL: a live page updated in place.
    "url_unique": _policy(),
    # A record with a title or URL but no body is a metadata-only record (clean keeps it
    # in metadata_only/), so a source of mostly such pages is no broken mapping: report.
    # A mapping that misses the text column is caught by the unmapped-column check.
    "body_present": _policy(mostly=0.5, quarantine=True),
    # Under min_body_words a complete "body" is page furniture or a one-line flash. A
    # truncated body (a feed's teaser) is exempt: it is a record, with its flag.
    "body_min_words": _policy(quarantine=True),
    # A teaser is a record that downstream readers may filter on body_truncated;
    # quarantining it would lose the title, date and URL it carries. Report only.
    "body_not_truncated": _policy(),
    # The furniture is already removed; a high share says something about the source.
    "boilerplate_share": _policy(),
}


class QualityConfig(BaseModel, frozen=True):
    """Thresholds of the suites and the policy of every expectation (by name)."""

    enabled: bool = Field(True, description="Run the quality suites at all")
    # 30 words is about two sentences: on news_cluster the cleaned bodies under it are
    # site furniture ("Chat with us in Facebook Messenger ...", subscription walls) and
    # one-line flashes; the shortest real stories are 40+ words.
    # Words as newsflow/text_rules.py counts them: each letter of Chinese, Japanese or Thai.
    min_body_words: int = Field(
        30, ge=0, description="Words a complete (not truncated) body needs (body_min_words)"
    )
    # More than half of the text was furniture: the source page is mostly not article.
    max_boilerplate_share: float = Field(
        0.5, ge=0, le=1, description="Share of characters removed as boilerplate, at most"
    )
    # Earlier dates are parser or data-entry errors for online news (tasks/dates.py).
    earliest_date: dt.date = Field(dt.date(1900, 1, 1), description="Earliest plausible date")
    # A day of slack for time zones ahead of the machine running the pipeline.
    future_days: int = Field(1, ge=0, description="Days after the run date still plausible")
    # Cleaned is where a row is taken out: it still has its lineage (source_file,
    # record_index) and a row removed there never becomes a kept record in dedupe.
    # At the other stages the same expectations only report.
    quarantine_stages: tuple[str, ...] = Field(
        ("cleaned",), description="Stages whose failing rows are quarantined"
    )
    report_examples: int = Field(
        5, ge=0, description="Example rows shown per failing expectation in the report"
    )
    policies: dict[str, ExpectationPolicy] = Field(
        default_factory=lambda: dict(DEFAULT_POLICIES),
        description="Policy per expectation name; a partial dict overrides the defaults",
    )

    @field_validator("policies", mode="after")
    @classmethod
    def _merge_defaults(cls, value: dict[str, ExpectationPolicy]) -> dict[str, ExpectationPolicy]:
        unknown = sorted(set(value) - set(DEFAULT_POLICIES))
        if unknown:
            raise ValueError(f"unknown expectations {unknown}; known: {sorted(DEFAULT_POLICIES)}")
        return {**DEFAULT_POLICIES, **value}

    @field_validator("quarantine_stages", mode="after")
    @classmethod
    def _known_stages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stages {unknown}; known: {list(STAGES)}")
        return value

    def policy(self, name: str) -> ExpectationPolicy:
        return self.policies[name]

    def latest_date(self, run_date: dt.date) -> dt.date:
        return run_date + dt.timedelta(days=self.future_days)
