"""`newsflow run | report`: the command line over the flow and the lake.

Prefect is imported only inside `run`, after its settings are defaulted here, so
`report` stays fast and every run is quiet and offline by default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from newsflow.lake import Lake

# Defaults for Prefect's settings unless the user set them: a project-local home,
# no telemetry (the machine may be offline), and time for the local server to boot.
PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(Path(".prefect").resolve()),
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest, clean, dedupe and enrich an input folder")
    run.add_argument("--input", type=Path, default=Path("data/raw"), help="raw files folder")
    run.add_argument("--lake", type=Path, default=Path("data/lake"), help="output lake folder")
    run.add_argument("--batch-size", type=int, default=500, help="files per batch (default 500)")
    run.add_argument("--full-refresh", action="store_true", help="reprocess every file")
    report = sub.add_parser("report", help="print the last run's manifest")
    report.add_argument("--lake", type=Path, default=Path("data/lake"))
    report.add_argument("--json", action="store_true", help="print the raw JSON manifest")
    return parser


def format_run(run: dict[str, Any]) -> str:
    """A run manifest as the summary people read at the end of a run."""
    lines = [f"run {run['run_id']}  {run['status']}  ({run['timings'].get('total_s', 0):.1f} s)"]
    counts = run["counts"]
    lines.append(
        "  files:   "
        + ", ".join(
            f"{counts.get(k, 0)} {k.removeprefix('files_')}"
            for k in ("files_seen", "files_new", "files_unchanged", "files_quarantined")
        )
    )
    lines.append(
        "  rows:    "
        + " -> ".join(
            f"{k} {counts.get(k, 0)}"
            for k in ("records_in", "ingested", "cleaned", "deduped", "enriched")
        )
    )
    lines.append(f"  duplicates merged: {counts.get('duplicates', 0)}")
    for stage, rules in run["quarantined"].items():
        if rules:
            lines.append(
                f"  quarantined at {stage}: "
                + ", ".join(f"{n} {rule}" for rule, n in rules.items())
            )
    if run["removed_lines"]:
        lines.append(
            "  boilerplate removed: "
            + ", ".join(f"{n} {rule}" for rule, n in run["removed_lines"].items())
        )
    lines.append(f"  lake:    {run['lake']}  (manifest in runs/{run['run_id']}.json)")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not args.input.is_dir():
        print(f"newsflow: input folder {args.input} does not exist", file=sys.stderr)
        return 2
    from flows.pipeline import newsflow_pipeline
    from newsflow.config import PipelineConfig

    config = PipelineConfig(
        input_dir=args.input,
        lake_dir=args.lake,
        batch_size=args.batch_size,
        full_refresh=args.full_refresh,
    )
    run = newsflow_pipeline(config)
    print(format_run(run))
    return 0


def _report(args: argparse.Namespace) -> int:
    run = Lake(args.lake).last_run()
    if run is None:
        print(f"newsflow: no run recorded in {args.lake}/runs", file=sys.stderr)
        return 1
    print(json.dumps(run, indent=2) if args.json else format_run(run))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args) if args.command == "run" else _report(args)
    except KeyboardInterrupt:
        print("newsflow: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for people; Prefect's logs hold the traceback
        print(f"newsflow: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
