"""GX Data Docs for a run's validation results, built into `quality/docs/`.

The results are handed over as JSON (what StageValidation keeps), rebuilt into GX
objects and put in the ephemeral context's results store, so the docs can be built in
any process. The stock pages reference Bootstrap, jQuery and fonts on CDNs; those tags
are stripped afterwards so an offline browser does not stall on them (the pages are
then plain but complete; the self-contained report is the readable one).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from expectations.gx_runtime import GX_LOCK, gx_context

SITE_NAME = "newsflow_quality"
_REMOTE_ASSET = re.compile(
    r"<(?:script|link|img)\b[^>]*(?:src|href)=[\"']https?://[^>]*>(?:\s*</script>)?", re.IGNORECASE
)


def _result_object(result: dict[str, Any]) -> Any:
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    results = [
        ExpectationValidationResult(
            success=r["success"],
            expectation_config=ExpectationConfiguration(**r["expectation_config"]),
            result=r.get("result") or {},
            meta=r.get("meta") or {},
            exception_info=r.get("exception_info"),
        )
        for r in result["results"]
    ]
    return ExpectationSuiteValidationResult(
        success=result["success"],
        results=results,
        suite_name=result["suite_name"],
        statistics=result.get("statistics") or {},
        meta=result.get("meta") or {},
    )


def strip_remote_assets(folder: Path) -> int:
    """Remove CDN <script>/<link>/<img> tags from the HTML under `folder`; returns files changed."""
    changed = 0
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        local = _REMOTE_ASSET.sub("", text)
        if local != text:
            page.write_text(local, encoding="utf-8")
            changed += 1
    return changed


def build_data_docs(docs_dir: Path, run_id: str, results: list[tuple[str, dict[str, Any]]]) -> Path:
    """Build Data Docs for (stage, GX result JSON) pairs; returns the index page."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    docs_dir.mkdir(parents=True, exist_ok=True)
    with GX_LOCK:
        context = gx_context()
        site = {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir.resolve()),
            },
        }
        if SITE_NAME in (context.get_site_names() or []):
            context.update_data_docs_site(SITE_NAME, site)
        else:
            context.add_data_docs_site(SITE_NAME, site)
        run = RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC))
        for stage, result in results:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=result["suite_name"]),
                run_id=run,
                batch_identifier=stage,
            )
            context.validation_results_store.set(key, _result_object(result))
        context.build_data_docs(site_names=[SITE_NAME])
    strip_remote_assets(docs_dir)
    return docs_dir / "index.html"
