"""The suites as code: which GX expectations check which stage, under which rule name.

A *rule* is what the policy, the report and quarantine/ talk about (`body_min_words`);
it is checked by one GX expectation, or several for `schema_types` (one per column).
Every expectation carries its rule in `meta["rule"]`, so results map back to rules
whatever order GX returns them in. The order of the rules below is the precedence of
quarantine: a row failing several quarantining rules is quarantined under the first.

Columns checked per stage (see derive.py for the `qc_*` helpers):

* ingested, cleaned: one record per row; dates from `date_raw` (and the URL), URLs as
  the source wrote them (`url` / `url_raw`), so the report shows what clean repaired;
* deduped, enriched: merged records; the date is `published_date`, the URL canonical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import great_expectations.expectations as gxe
import polars as pl
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from expectations.derive import HELPERS, RECORD_STAGES
from newsflow.quality_config import STAGES, QualityConfig
from newsflow.schema import STAGE_SCHEMAS

Level = Literal["row", "dataset"]

# http(s), optional credentials, a host of two or more labels (as tasks/urls.py wants).
WELL_FORMED_URL = r"(?i)^https?://(?:[^/?#@\s]*@)?[\w-]+(?:\.[\w-]+)+\.?(?::\d+)?(?:[/?#]\S*)?$"
SCRIPT_URL = r"(?i)^\s*(?:javascript|data|vbscript):"


@dataclass(frozen=True)
class Rule:
    name: str
    level: Level
    description: str


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("schema_columns", "dataset", "columns are exactly the stage's contract"),
        Rule("schema_types", "dataset", "every column has the contract's type"),
        Rule("doc_id_present", "dataset", "every row has a doc_id"),
        Rule("doc_id_unique", "dataset", "no doc_id appears twice"),
        Rule("body_present", "row", "body is not empty"),
        Rule("url_not_script", "row", "URL is not javascript:, data: or vbscript:"),
        Rule(
            "body_min_words",
            "row",
            "a complete (not truncated) body has at least min_body_words words",
        ),
        Rule("title_present", "row", "title is not empty"),
        Rule("date_present", "row", "a date, where the layout carries one"),
        Rule("date_parseable", "row", "a given date can be read"),
        Rule("date_in_range", "row", "date between earliest_date and run date + future_days"),
        Rule("date_not_epoch", "row", "date is not in January 1970 (an epoch-unit mistake)"),
        Rule("url_present", "row", "a URL, where the layout carries one"),
        Rule("url_well_formed", "row", "URL is http(s) with a real host"),
        Rule("url_unique", "dataset", "no canonical URL is shared by two records"),
        Rule("body_not_truncated", "row", "clean did not flag the body as cut off"),
        Rule("boilerplate_share", "row", "share of text removed as boilerplate is small"),
    ]
}


@dataclass(frozen=True)
class Check:
    """One GX expectation and the rule it checks."""

    rule: str
    expectation: gxe.Expectation


# polars dtype -> the type name ExpectColumnValuesToBeOfType matches on an Arrow-backed
# pandas column (its `dtype.type`); Dates are handed to GX as numpy datetime64.
def gx_type_name(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "datetime64"
    if isinstance(dtype, pl.Datetime):
        return "Timestamp"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if isinstance(dtype, pl.List):
        return "list"
    if isinstance(dtype, pl.Struct):
        return "dict"
    return "str"


def _schema_checks(stage: str) -> list[Check]:
    schema = STAGE_SCHEMAS[stage]
    checks = [
        Check(
            "schema_columns",
            gxe.ExpectTableColumnsToMatchSet(
                column_set=[*schema.names(), *HELPERS], exact_match=True
            ),
        )
    ]
    checks += [
        Check("schema_types", gxe.ExpectColumnValuesToBeOfType(column=c, type_=gx_type_name(t)))
        for c, t in schema.items()
    ]
    return checks


def stage_checks(stage: str, config: QualityConfig, run_date: dt.date) -> list[Check]:
    """The expectations of `stage`'s suite, in rule precedence order."""
    if stage not in STAGES:
        raise ValueError(f"no suite for stage {stage!r}; suites: {list(STAGES)}")
    records = stage in RECORD_STAGES
    checks = [
        *_schema_checks(stage),
        *_id_and_body_checks(records, config),
        *_date_checks(records, config, run_date),
        *_url_checks(records),
        *_stage_only_checks(stage, config),
    ]
    return [_with_policy(c, config) for c in checks]


def _id_and_body_checks(records: bool, config: QualityConfig) -> list[Check]:
    """doc_id, body and title; `records`: rows of one source file (ingested, cleaned)."""
    checks = [
        Check("doc_id_present", gxe.ExpectColumnValuesToNotBeNull(column="doc_id")),
        Check("doc_id_unique", gxe.ExpectColumnValuesToBeUnique(column="doc_id")),
        Check("body_present", gxe.ExpectColumnValuesToNotBeNull(column="qc_body")),
    ]
    if records:
        checks.append(
            Check(
                "url_not_script",
                gxe.ExpectColumnValuesToNotMatchRegex(column="qc_url", regex=SCRIPT_URL),
            )
        )
    checks += [
        Check(
            "body_min_words",
            gxe.ExpectColumnValuesToBeBetween(
                column="qc_body_words",
                min_value=config.min_body_words,
                row_condition=Column("qc_body_complete") == True,  # noqa: E712
            ),
        ),
        Check("title_present", gxe.ExpectColumnValuesToNotBeNull(column="qc_title")),
    ]
    return checks


def _date_checks(records: bool, config: QualityConfig, run_date: dt.date) -> list[Check]:
    carries_date = Column("qc_carries_date") == True  # noqa: E712 (a GX condition, not a test)
    earliest = dt.datetime.combine(config.earliest_date, dt.time())
    latest = dt.datetime.combine(config.latest_date(run_date), dt.time.max)
    checks = [
        Check(
            "date_present",
            gxe.ExpectColumnValuesToNotBeNull(column="qc_date_source", row_condition=carries_date),
        ),
    ]
    if records:
        checks.append(
            Check(
                "date_parseable",
                gxe.ExpectColumnValuesToNotBeNull(
                    column="qc_date_parsed", row_condition=Column("qc_date_source") == "raw"
                ),
            )
        )
    checks += [
        Check(
            "date_in_range",
            gxe.ExpectColumnValuesToBeBetween(
                column="qc_date", min_value=earliest, max_value=latest
            ),
        ),
        Check(
            "date_not_epoch",
            gxe.ExpectColumnValuesToNotBeInSet(column="qc_date_month", value_set=["1970-01"]),
        ),
    ]
    return checks


def _url_checks(records: bool) -> list[Check]:
    carries_url = Column("qc_carries_url") == True  # noqa: E712
    checks = [
        Check(
            "url_present",
            gxe.ExpectColumnValuesToNotBeNull(column="qc_url", row_condition=carries_url),
        ),
        Check(
            "url_well_formed",
            gxe.ExpectColumnValuesToMatchRegex(column="qc_url", regex=WELL_FORMED_URL),
        ),
    ]
    if not records:
        checks.append(Check("url_unique", gxe.ExpectColumnValuesToBeUnique(column="url")))
    return checks


def _stage_only_checks(stage: str, config: QualityConfig) -> list[Check]:
    """Checks of one stage's own columns: truncation is judged in clean, boilerplate
    removed from clean on."""
    checks: list[Check] = []
    if stage == "cleaned":
        checks.append(
            Check(
                "body_not_truncated",
                gxe.ExpectColumnValuesToBeInSet(column="body_truncated", value_set=[False]),
            )
        )
    if stage != "ingested":
        checks.append(
            Check(
                "boilerplate_share",
                gxe.ExpectColumnValuesToBeBetween(
                    column="qc_boilerplate_share", max_value=config.max_boilerplate_share
                ),
            )
        )
    return checks


def _with_policy(check: Check, config: QualityConfig) -> Check:
    """Stamp the rule name, `mostly` and severity on the expectation itself.

    Severity is GX's own field too, so the stored results and Data Docs show it.
    """
    policy = config.policy(check.rule)
    expectation = check.expectation
    expectation.meta = {"rule": check.rule, "level": RULES[check.rule].level}
    expectation.severity = FailureSeverity(policy.severity)
    if hasattr(expectation, "mostly"):
        expectation.mostly = policy.mostly
    return check
