"""Run the whole pipeline over real corpus folders and report what became of every file.

Usage (from the repository root, after `make setup`):

    .venv/bin/python -m benchmarks.corpus_run ../shared/corpus/bbc_fulltext/raw \
        ../shared/corpus/newsplease_5w1h

Each folder gets a fresh temporary lake. Prints, per folder: files seen, ingested and
quarantined (per rule), records per stage, duplicates, and the wall time of each stage.
Exits non-zero if any file is unaccounted for.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from flows.pipeline import newsflow_pipeline  # noqa: E402
from newsflow.config import PipelineConfig  # noqa: E402
from newsflow.inputs import list_inputs  # noqa: E402


def run_folder(folder: Path) -> dict[str, object]:
    files, rejected = list_inputs(folder)
    with tempfile.TemporaryDirectory(prefix="newsflow-corpus-") as lake:
        started = time.perf_counter()
        run = newsflow_pipeline(PipelineConfig(input_dir=folder, lake_dir=Path(lake)))
        wall = time.perf_counter() - started
    counts = run["counts"]
    accounted = counts["files_ingested"] + counts["files_quarantined"] + len(rejected)
    return {
        "folder": str(folder),
        "files": len(files) + len(rejected),
        "accounted": accounted,
        "counts": counts,
        "quarantined": run["quarantined"],
        "removed_lines": run["removed_lines"],
        "timings": run["timings"],
        "flow_wall_s": round(wall, 2),
        "status": run["status"],
    }


def main(folders: list[str]) -> int:
    ok = True
    for folder in folders:
        result = run_folder(Path(folder))
        print(json.dumps(result, indent=2))
        ok &= result["files"] == result["accounted"] and result["status"] == "completed"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
