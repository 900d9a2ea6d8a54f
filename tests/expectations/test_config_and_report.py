"""Quality config validation, and the files, table and text a run's results become."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from expectations.report import (
    artifact_rows,
    latest_summary,
    metadata_only_note,
    pass_rate_history,
    quarantine_by_rule,
    summary_text,
    write_quality_reports,
)
from newsflow.lake import Lake
from newsflow.quality_config import DEFAULT_POLICIES, ExpectationPolicy, QualityConfig
from newsflow.schema import QUARANTINE
from tests.expectations.stage_fixtures import cleaned, ingested, validate


def test_policy_overrides_merge_with_the_defaults() -> None:
    config = QualityConfig(policies={"title_present": ExpectationPolicy(severity="critical")})
    assert config.policy("title_present").severity == "critical"
    assert config.policy("body_min_words") == DEFAULT_POLICIES["body_min_words"]


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown expectations"):
        QualityConfig(policies={"title_presnt": ExpectationPolicy()})
    with pytest.raises(ValidationError, match="unknown stages"):
        QualityConfig(quarantine_stages=("clean",))


def test_disabled_config_validates_nothing() -> None:
    result = validate("ingested", ingested(), enabled=False)
    assert result.summary == []
    assert result.rows_to_quarantine().is_empty()


def test_reports_are_written_and_read_back(tmp_path: Path) -> None:
    results = [
        validate("ingested", ingested()),
        validate("cleaned", cleaned(ingested({"doc_id": "json-1", "body": "Too short."}))),
    ]
    stale_docs = tmp_path / "quality" / "docs" / "index.html"  # an older newsflow's Data Docs
    stale_docs.parent.mkdir(parents=True)
    stale_docs.write_text("<html></html>")
    paths = write_quality_reports(tmp_path, "run-7", results)
    assert paths["report"] == tmp_path / "quality" / "run-7" / "report.html"
    for name in ("ingested", "cleaned", "summary", "report", "latest", "failing_rows"):
        assert paths[name].exists(), name
    assert not stale_docs.parent.exists()
    stage = json.loads(paths["cleaned"].read_text())
    assert stage["failing_doc_ids"] == {"body_min_words": ["json-1"]}
    assert stage["gx_result"]["suite_name"] == "newsflow_cleaned"
    (example,) = stage["failing_examples"]["body_min_words"]
    assert example == {
        "doc_id": "json-1",
        "title": "Ferry to stop running",
        "source_file": "a.json",
        "column": "qc_body_words",
        "value": "2",
    }
    failing = pl.read_parquet(paths["failing_rows"])
    assert failing.filter(pl.col("rule") == "body_min_words")["doc_id"].to_list() == ["json-1"]

    summary = latest_summary(tmp_path)
    assert summary is not None
    assert summary["run_id"] == "run-7"
    text = summary_text(summary)
    assert "cleaned: 4 rows, 15/16 expectations passed, 1 rows to quarantine" in text
    assert "warning  body_min_words: 25.0% (1) failed" in text
    assert str(paths["report"]) in text
    assert f"failing rows: {paths['failing_rows']}" in text

    rows = artifact_rows(results)
    assert len(rows) == sum(len(r.summary) for r in results)
    (short,) = [r for r in rows if r["stage"] == "cleaned" and r["expectation"] == "body_min_words"]
    assert short == {
        "stage": "cleaned",
        "expectation": "body_min_words",
        "severity": "warning",
        "success": False,
        "unexpected %": 25.0,
        "quarantined rows": 1,
    }


def test_no_quality_results_yet(tmp_path: Path) -> None:
    assert latest_summary(tmp_path) is None


def test_the_metadata_only_note_says_when_most_records_had_no_body() -> None:
    assert metadata_only_note(None) is None
    assert metadata_only_note({"ingested": 5, "metadata_only": 0}) is None
    some = metadata_only_note({"ingested": 10, "metadata_only": 2})
    assert some is not None
    assert some.startswith("2 of 10 ingested records (20.0 %) had a title or URL but no body")
    assert "some records are metadata-only" in some
    most = metadata_only_note({"ingested": 10, "metadata_only": 8})
    assert most is not None
    assert "most of this run's records are metadata-only" in most


def test_history_takes_pass_rates_from_the_last_run_manifests(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    for i in range(4):
        rates = {"cleaned.body_min_words": 90.0 + i}
        if i == 2:
            rates["enriched.language_known"] = 50.0  # checked by one run only
        lake.write_run(
            {
                "run_id": f"run-{i}",
                "started_at": f"2024-01-0{i + 1}",
                "quality": {"pass_rates": rates},
            }
        )
    lake.write_run({"run_id": "run-x", "started_at": "2024-01-09", "quality": {}})  # no quality
    history = pass_rate_history(lake, "run-now", {"cleaned.body_min_words": 99.0}, runs=3)
    assert history == {
        "runs": ["run-2", "run-3", "run-now"],
        "rates": {
            "cleaned.body_min_words": [92.0, 93.0, 99.0],
            "enriched.language_known": [50.0, None, None],
        },
    }


def test_quarantine_of_this_run_by_stage_and_rule_with_examples(tmp_path: Path) -> None:
    lake = Lake(tmp_path)

    def rows(run_id: str, stage: str, rule: str, n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "source_file": [f"{rule}-{i}.json" for i in range(n)],
                "record_index": [i for i in range(n)],
                "stage": stage,
                "rule": rule,
                "detail": f"{rule} found",
                "doc_id": [f"{rule}-{i}" for i in range(n)],
                "run_id": run_id,
                "batch_id": "b1",
            },
            schema=QUARANTINE,
        )

    lake.write(rows("old", "ingest", "invalid_json", 5), "quarantine", "ingest-b0", "old")
    both = pl.concat(
        [rows("new", "quality", "body_min_words", 1), rows("new", "clean", "empty_body", 2)]
    )
    lake.write(both, "quarantine", "quality-b1", "new")
    lake.write(rows("new", "ingest", "no_text", 4), "quarantine", "ingest-b1", "new")
    found = quarantine_by_rule(lake, "new", examples=3)
    assert [(q["stage"], q["rule"], q["rows"]) for q in found] == [
        ("ingest", "no_text", 4),
        ("clean", "empty_body", 2),
        ("quality", "body_min_words", 1),
    ]
    assert [e["source_file"] for e in found[0]["examples"]] == [
        f"no_text-{i}.json" for i in range(3)
    ]
    assert set(found[0]["examples"][0]) == {"source_file", "record_index", "detail", "doc_id"}
