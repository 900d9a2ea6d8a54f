"""Render docs/SCHEMA.md from the schema module, so the two cannot drift apart.

`python -m newsflow.schema_doc` rewrites the file; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from newsflow.lake import PARTITION_KEYS
from newsflow.schema import SCHEMA_VERSION, STAGE_SCHEMAS, descriptions

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md"

FOLDERS = {
    "ingested": "ingested/<batch_id>.parquet",
    "cleaned": "cleaned/<batch_id>.parquet",
    "deduped": "deduped/<batch_id>.parquet",
    "enriched": "enriched/published_month=YYYY-MM/<batch_id>.parquet",
    "metadata_only": "metadata_only/<batch_id>.parquet",
    "duplicates": "duplicates/<batch_id>.parquet",
    "quarantine": "quarantine/<stage>-<batch_id>.parquet",
    "manifest": "manifest/files.parquet",
    "line_docs": "line_docs/<part>-of-<parts>.parquet (by domain hash)",
    "line_stats": "line_stats/<part>-of-<parts>.parquet (by domain hash)",
    "dedupe_index": "dedupe_index/<partition>.parquet (by doc_id hash)",
    "dedupe_bands": "dedupe_bands/<partition>.parquet (by band key)",
    "dedupe_keys": "dedupe_keys/<partition>.parquet (by key)",
    "dedupe_clusters": "dedupe_clusters/<partition>.parquet (by kept_doc_id hash)",
    "dedupe_batches": "dedupe_batches/indexed.parquet",
}

# What a folder holds, where its name and columns do not say it.
FOLDER_NOTES = {
    "metadata_only": (
        "Records whose source gave a title or a URL but no body (a gallery or video "
        "page, a feed item without text): the columns of `cleaned/`, `body` null. "
        "Counted in the books (ingested = cleaned + metadata_only + quarantined at "
        "clean); never deduped or enriched."
    ),
}


def render() -> str:
    lines = [
        "# newsflow lake schema",
        "",
        "Generated from `newsflow/schema.py` by `python -m newsflow.schema_doc`; do not edit.",
        "",
        f"Schema version: **{SCHEMA_VERSION}** (also in every file's Parquet metadata as "
        "`newsflow.schema_version`, next to `newsflow.run_id` and `newsflow.code_version`). "
        "A run refuses a lake holding files of another version, asking for `--full-refresh`.",
    ]
    meaning = descriptions()
    for stage, schema in STAGE_SCHEMAS.items():
        lines += ["", f"## `{FOLDERS[stage]}`", ""]
        if stage in FOLDER_NOTES:
            lines += [FOLDER_NOTES[stage], ""]
        if stage in PARTITION_KEYS:
            lines += [
                f"`{PARTITION_KEYS[stage]}` is the hive partition key: it is in the folder "
                "name, not in the file; read with hive partitioning on.",
                "",
            ]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{c}` | `{t}` | {meaning[c]} |" for c, t in schema.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC_PATH.parent.mkdir(exist_ok=True)
    DOC_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC_PATH}\n")
