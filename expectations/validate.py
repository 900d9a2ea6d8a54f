"""Run a stage's suite on a frame and turn GX's result into what the pipeline acts on.

The failing rows of every row-level expectation come from GX's own result
(`unexpected_index_list` with `doc_id` as the index column), so each rule is written
once, as an expectation, and quarantine is exactly what the report shows.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from expectations.derive import helper_columns
from expectations.gx_runtime import GX_LOCK, as_pandas, batch_definition
from newsflow.quality_config import QualityConfig

if TYPE_CHECKING:
    from expectations.suites import Check

RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["doc_id"],
    # The query is a pandas expression listing every failing index: long and unused.
    "return_unexpected_index_query": False,
}
QUARANTINE_COLUMNS = {"doc_id": pl.String(), "rule": pl.String(), "detail": pl.String()}
# Columns that say which record a failing row is, for the report; never handed to GX.
CONTEXT_COLUMNS = ("title", "source_file", "source_files")
# Every row that failed an expectation: quality/<run_id>/failing_rows.parquet.
FAILING_ROWS = pl.Schema(
    {
        "stage": pl.String(),
        "rule": pl.String(),
        "doc_id": pl.String(),
        "title": pl.String(),
        "source_file": pl.String(),
        "column": pl.String(),
        "value": pl.String(),
    }
)
# A failing value is shown up to this many characters (a body is not a value to read).
VALUE_CHARS = 300


def shown_value(value: Any) -> str | None:
    """A failing value as text for the report: None stays null, long text is cut."""
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= VALUE_CHARS else f"{text[:VALUE_CHARS]}…"


@dataclass
class StageValidation:
    """What one stage's suite found.

    `summary`: one row per rule (see `summary_row`); `failing`: doc_ids per rule as GX
    listed them; `quarantine`: (doc_id, rule, detail), first quarantining rule wins;
    `gx_result`: GX's validation result as JSON; `failing_rows`: every failing row with
    its title, source file and offending value (FAILING_ROWS).
    """

    stage: str
    run_date: dt.date
    rows: int
    summary: list[dict[str, Any]]
    failing: dict[str, list[str]]
    quarantine: pl.DataFrame
    gx_result: dict[str, Any]
    seconds: float = 0.0
    suite: list[dict[str, Any]] = field(default_factory=list)
    failing_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAILING_ROWS))

    def rows_to_quarantine(self) -> pl.DataFrame:
        """doc_id, rule, detail of every row to quarantine (empty outside quarantine_stages)."""
        return self.quarantine

    def critical_failures(self) -> list[str]:
        """One line per failed critical rule: the rule and the share that failed."""
        return [
            f"{self.stage}: {row['expectation']} failed: {row['detail']}"
            for row in self.summary
            if row["severity"] == "critical" and not row["success"]
        ]

    def examples(self, per_rule: int) -> dict[str, list[dict[str, Any]]]:
        """Up to `per_rule` failing rows per rule, in the order GX listed them."""
        by_rule = self.failing_rows.group_by("rule", maintain_order=True).head(per_rule)
        examples: dict[str, list[dict[str, Any]]] = {}
        for row in by_rule.drop("stage").to_dicts():
            examples.setdefault(row.pop("rule"), []).append(row)
        return examples

    def to_json(self, examples: int = 5) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "run_date": self.run_date.isoformat(),
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "failing_doc_ids": self.failing,
            "failing_examples": self.examples(examples),
            "quarantine": self.quarantine.to_dicts(),
            "gx_result": self.gx_result,
        }


def _exception(result: dict[str, Any]) -> str | None:
    """GX's message when an expectation raised (it reports per metric, or flat)."""
    info = result.get("exception_info") or {}
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message", "raised an exception"))
    return None


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def summary_row(
    stage: str, rule: str, results: list[dict[str, Any]], config: QualityConfig
) -> dict[str, Any]:
    """One rule's results (one GX result, or one per column for schema_types) as a row."""
    policy = config.policy(rule)
    first = results[0]
    level = first["expectation_config"]["meta"]["level"]
    success = all(r["success"] for r in results)
    error = next((e for r in results if (e := _exception(r))), None)
    res = first.get("result") or {}
    if rule == "schema_types":
        wrong = [
            f"{r['expectation_config']['kwargs']['column']} is "
            f"{(r.get('result') or {}).get('observed_value', '?')}, "
            f"want {r['expectation_config']['kwargs']['type_']}"
            for r in results
            if not r["success"]
        ]
        element, unexpected = len(results), len(wrong)
        percent = _percent(unexpected, element)
        detail = "; ".join(wrong) or f"{element} columns have their contract type"
    elif rule == "schema_columns":
        mismatched = (res.get("details") or {}).get("mismatched") or {}
        missing, extra = mismatched.get("missing", []), mismatched.get("unexpected", [])
        element = len(first["expectation_config"]["kwargs"]["column_set"])
        unexpected = len(missing) + len(extra)
        percent = _percent(unexpected, element)
        detail = f"missing {missing}, unexpected {extra}" if unexpected else "columns match"
    else:
        element = int(res.get("element_count") or 0)
        unexpected = int(res.get("unexpected_count") or 0)
        percent = float(res.get("unexpected_percent") or 0.0)
        checked = element - int(res.get("missing_count") or 0)
        detail = (
            f"{percent:.1f}% of {checked} checked rows failed ({unexpected}); "
            f"at most {100 * (1 - policy.mostly):.0f}% may"
        )
    if error:
        detail = f"GX raised: {error}"
    return {
        "stage": stage,
        "expectation": rule,
        "level": level,
        "severity": policy.severity,
        "mostly": policy.mostly,
        "success": success,
        "element_count": element,
        "unexpected_count": unexpected,
        "unexpected_percent": round(percent, 3),
        "quarantine": policy.quarantine and level == "row",
        "quarantined": 0,
        "detail": detail,
    }


def _failing(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """(doc_id, value) of every row GX lists as unexpected."""
    column = result["expectation_config"]["kwargs"].get("column")
    listed = (result.get("result") or {}).get("unexpected_index_list") or []
    return [(entry["doc_id"], entry.get(column)) for entry in listed if isinstance(entry, dict)]


def _quarantine_rows(
    stage: str,
    by_rule: dict[str, list[dict[str, Any]]],
    summary: list[dict[str, Any]],
    config: QualityConfig,
) -> pl.DataFrame:
    if stage not in config.quarantine_stages:
        return pl.DataFrame(schema=QUARANTINE_COLUMNS)
    taken: dict[str, tuple[str, str]] = {}
    for row in summary:  # summary is in rule precedence order
        if not row["quarantine"]:
            continue
        for result in by_rule[row["expectation"]]:
            for doc_id, value in _failing(result):
                if doc_id is not None and doc_id not in taken:
                    shown = "nothing" if value is None else repr(value)
                    taken[doc_id] = (row["expectation"], f"{row['expectation']}: found {shown}")
    rows = [{"doc_id": d, "rule": r, "detail": t} for d, (r, t) in taken.items()]
    quarantine = pl.DataFrame(rows, schema=QUARANTINE_COLUMNS)
    counts = dict(quarantine.group_by("rule").len().iter_rows())
    for row in summary:
        row["quarantined"] = int(counts.get(row["expectation"], 0))
    return quarantine


SCHEMA_RULES = ("schema_columns", "schema_types")


def _read_columns(checks: list[Check], present: list[str]) -> list[str]:
    """doc_id, and every column an expectation or its row condition reads, if present.

    A missing one fails schema_columns, and GX reports its expectations as raised.
    """
    names = ["doc_id"]
    for check in checks:
        names.append(check.expectation.column)  # type: ignore[attr-defined]
        condition = getattr(check.expectation, "row_condition", None)
        if condition is not None:
            names.append(condition.column.name)
    return [name for name in dict.fromkeys(names) if name in present]


def _run_suite(stage: str, part: str, data: Any, checks: list[Check]) -> dict[str, Any]:
    import great_expectations as gx

    # The batch definition creates the context, which a suite needs to exist first.
    batch = batch_definition(stage).get_batch(batch_parameters={"dataframe": data})
    suite = gx.ExpectationSuite(name=f"newsflow_{stage}_{part}")
    for check in checks:
        suite.add_expectation(check.expectation)
    result: dict[str, Any] = batch.validate(suite, result_format=RESULT_FORMAT).to_json_dict()
    return result


def _merged(schema: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """The two halves of a stage's suite as one GX result (suite `newsflow_<stage>`)."""
    results = schema["results"] + rows["results"]
    passed = sum(1 for r in results if r["success"])
    return {
        **rows,
        "suite_name": rows["suite_name"].removesuffix("_rows"),
        "success": schema["success"] and rows["success"],
        "results": results,
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else 100.0,
        },
    }


def checked_frames(
    stage: str, frame: pl.DataFrame, config: QualityConfig, run_date: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the suite reads of `frame`: (every column with the `qc_*` helpers and no
    rows, for the schema checks; doc_id and the columns the row checks read, every row).

    Column names and types do not depend on the rows, and GX copies the whole frame for
    every row condition and failing-row list, so the row checks get narrow columns only:
    a stage's frames can be cut down file by file and validated together.
    """
    from expectations.suites import stage_checks  # imports GX: only when validating

    checked = helper_columns(stage, frame)
    rows = [c for c in stage_checks(stage, config, run_date) if c.rule not in SCHEMA_RULES]
    context = [c for c in CONTEXT_COLUMNS if c in checked.columns]
    names = list(dict.fromkeys([*_read_columns(rows, checked.columns), *context]))
    return checked.head(0), checked.select(names)


def failing_rows(
    stage: str, by_rule: dict[str, list[dict[str, Any]]], rows_frame: pl.DataFrame
) -> pl.DataFrame:
    """Every row GX listed as failing, per rule, with the record's title and source file
    (from `rows_frame`'s context columns) and the offending value."""
    listed = [
        {
            "rule": rule,
            "doc_id": doc_id,
            "column": result["expectation_config"]["kwargs"].get("column"),
            "value": shown_value(value),
        }
        for rule, results in by_rule.items()
        for result in results
        for doc_id, value in _failing(result)
    ]
    schema = {k: FAILING_ROWS[k] for k in ("rule", "doc_id", "column", "value")}
    failing = pl.DataFrame(listed, schema=schema)
    present = set(rows_frame.columns)
    nothing = pl.lit(None, pl.String)
    # ingested and cleaned name one source file; deduped and enriched every copy's.
    source_file = (
        pl.col("source_file")
        if "source_file" in present
        else pl.col("source_files").list.join(", ")
        if "source_files" in present
        else nothing
    )
    context = rows_frame.select(
        "doc_id",
        title=pl.col("title") if "title" in present else nothing,
        source_file=source_file,
    ).unique("doc_id", keep="first", maintain_order=True)
    joined = failing.join(context, on="doc_id", how="left", maintain_order="left")
    return joined.with_columns(stage=pl.lit(stage)).select(FAILING_ROWS.names())


def validate_stage(
    stage: str, frame: pl.DataFrame, config: QualityConfig, run_date: dt.date
) -> StageValidation:
    """Validate `frame` (a stage output) with the stage's suite.

    `run_date` bounds plausible dates (run date + config.future_days). With
    `config.enabled` false, nothing runs and the result is empty.
    """
    if not config.enabled:
        return validate_checked(stage, frame.head(0), frame, config, run_date)
    schema, rows = checked_frames(stage, frame, config, run_date)
    return validate_checked(stage, schema, rows, config, run_date)


def validate_checked(
    stage: str,
    schema_frame: pl.DataFrame,
    rows_frame: pl.DataFrame,
    config: QualityConfig,
    run_date: dt.date,
) -> StageValidation:
    """Validate frames made by `checked_frames` (rows of several files may be
    concatenated): one GX call for the schema checks, one for the row checks."""
    started = time.perf_counter()
    if not config.enabled:
        return StageValidation(
            stage, run_date, rows_frame.height, [], {}, pl.DataFrame(schema=QUARANTINE_COLUMNS), {}
        )
    from expectations.suites import stage_checks  # imports GX: only when validating

    checks = stage_checks(stage, config, run_date)
    schema = [c for c in checks if c.rule in SCHEMA_RULES]
    rows = [c for c in checks if c.rule not in SCHEMA_RULES]
    # GX copies its frame for every row condition: it gets the checked columns only.
    checked = rows_frame.select(_read_columns(rows, rows_frame.columns))
    with GX_LOCK:
        gx_json = _merged(
            _run_suite(stage, "schema", as_pandas(schema_frame), schema),
            _run_suite(stage, "rows", as_pandas(checked, arrow_backed=False), rows),
        )
        suite_json = [c.expectation.configuration.to_json_dict() for c in checks]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for res in gx_json["results"]:
        by_rule.setdefault(res["expectation_config"]["meta"]["rule"], []).append(res)
    order = list(dict.fromkeys(c.rule for c in checks))
    summary = [summary_row(stage, rule, by_rule[rule], config) for rule in order]
    failing = {
        rule: sorted({d for r in by_rule[rule] for d, _ in _failing(r) if d is not None})
        for rule in order
    }
    quarantine = _quarantine_rows(stage, by_rule, summary, config)
    return StageValidation(
        stage=stage,
        run_date=run_date,
        rows=rows_frame.height,
        summary=summary,
        failing={rule: ids for rule, ids in failing.items() if ids},
        quarantine=quarantine,
        gx_result=gx_json,
        seconds=time.perf_counter() - started,
        suite=suite_json,
        failing_rows=failing_rows(stage, by_rule, rows_frame),
    )
