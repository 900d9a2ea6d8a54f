"""What the Delta commit costs a run: this checkout against an older commit, whole runs.

Usage (from the repository root):

    git archive 856279b | (mkdir -p /tmp/base && tar -x -C /tmp/base)
    .venv/bin/python -m benchmarks.synth_corpus --n 10000 --out /tmp/synth10k \\
        --source ../shared/corpus/bbc_fulltext/raw
    .venv/bin/python -m benchmarks.commit_overhead /tmp/synth10k/docs /tmp/base [--rounds 2]

Each round runs `newsflow run` (cheap enrichers) on a fresh temporary lake, once with the
code in BASE_DIR (first on PYTHONPATH and the working directory, with this checkout's
.venv) and once with this checkout, alternating the order per round so load from other
work falls on both alike. Prints one JSON line per run: the run's own `total_s` (the
Prefect server's start-up is not counted), `commit_s` (this checkout only), the peak RSS
of the run's process (GNU time), and the lake's size on disk (table files are hard links to the
working copy's, so they should add next to nothing). Then the medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.run_flow import CHEAP_ENRICHERS

HERE = Path(__file__).resolve().parents[1]
# The run's phases, from its manifest: where a difference comes from when there is one.
PHASES = ("ingest_clean_s", "dedupe_s", "enrich_s", "quality_report_s")


def disk_bytes(root: Path) -> int:
    """Bytes on disk, each hard-linked file once (as `du` counts)."""
    seen, total = set(), 0
    for path in root.rglob("*"):
        st = path.lstat()
        if path.is_file() and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_blocks * 512
    return total


def one_run(docs: Path, code: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="newsflow-commit-") as tmp:
        lake = Path(tmp) / "lake"
        command = [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
            "run",
            "--input",
            str(docs.resolve()),
            "--lake",
            str(lake),
            "--enrichers",
            ",".join(CHEAP_ENRICHERS),
        ]
        env = {**os.environ, "PYTHONPATH": str(code), "PREFECT_LOGGING_LEVEL": "WARNING"}
        timed = ["/usr/bin/time", "-f", "maxrss_kb=%M", *command]
        done = subprocess.run(timed, capture_output=True, text=True, env=env, cwd=code)
        if done.returncode != 0:
            raise RuntimeError(f"run of {code} failed:\n{done.stderr[-3000:]}")
        peak_kb = int(done.stderr.rsplit("maxrss_kb=", 1)[1].split()[0])
        [manifest] = (lake / "runs").glob("*.json")
        run = json.loads(manifest.read_text())
        return {
            "code": str(code),
            "total_s": run["timings"]["total_s"],
            "commit_s": run["timings"].get("commit_s"),
            "phases_s": {k: run["timings"].get(k) for k in PHASES},
            "peak_rss_mib": round(peak_kb / 1024),
            "lake_mib": round(disk_bytes(lake) / 2**20, 1),
            "enriched": run["counts"].get("enriched"),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", type=Path)
    parser.add_argument("base", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    codes = [args.base.resolve(), HERE]
    runs: dict[Path, list[dict[str, Any]]] = {c: [] for c in codes}
    for round_ in range(args.rounds):
        for code in codes if round_ % 2 == 0 else codes[::-1]:
            result = one_run(args.docs, code)
            runs[code].append(result)
            print(json.dumps({"round": round_, **result}), flush=True)
    base, this = (statistics.median(r["total_s"] for r in runs[c]) for c in codes)
    commit = statistics.median(r["commit_s"] or 0 for r in runs[HERE])
    print(
        json.dumps(
            {
                "median_total_s": {"base": base, "this": this},
                "ratio": this / base,
                "median_commit_s": commit,
                "commit_share": commit / this,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
