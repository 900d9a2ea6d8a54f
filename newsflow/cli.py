"""`newsflow run | serve | report`: the command line over the flow and the lake.

Prefect is imported only inside `run` and `serve`, after its settings are defaulted here, so
`report` stays fast and every run is quiet and offline by default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast

from flows.runners import RUNNERS, api_shared_with_workers, flow_on_runner
from newsflow.deploy import DEFAULT_CRON, DEFAULT_NAME
from newsflow.lake import Lake, LakeVersionError
from newsflow.storage import MissingLocation, StorageError, as_location, check_readable, is_url

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
    run.add_argument(
        "--input",
        type=input_location,
        default=Path("data/raw"),
        help="raw files folder, or s3://bucket/prefix/ (credentials from AWS_* variables)",
    )
    run.add_argument("--lake", type=Path, default=Path("data/lake"), help="output lake folder")
    run.add_argument("--batch-size", type=int, default=500, help="files per batch (default 500)")
    run.add_argument("--full-refresh", action="store_true", help="reprocess every file")
    run.add_argument(
        "--stop-after",
        choices=("clean", "dedupe", "enrich"),
        default="enrich",
        help="last stage to run; the next run catches up (default enrich)",
    )
    run.add_argument(
        "--enrichers",
        help="comma-separated enrichers to run, e.g. counts_v2,source_v2 (default: all)",
    )
    run.add_argument(
        "--re-enrich", action="store_true", help="enrich every batch again (new enrichers)"
    )
    run.add_argument(
        "--runner", choices=RUNNERS, default="threads", help="where tasks run (default threads)"
    )
    run.add_argument(
        "--dask-address", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (dask only)"
    )
    run.add_argument(
        "--workers",
        type=int,
        help="threads, or processes of the local Dask cluster (default: one per core)",
    )
    serve = sub.add_parser(
        "serve", help="register the scheduled deployment and run its flow runs (needs a server)"
    )
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f'schedule (default "{DEFAULT_CRON}")')
    serve.add_argument("--name", default=DEFAULT_NAME, help=f"deployment (default {DEFAULT_NAME})")
    serve.add_argument(
        "--input", type=input_location, default=Path("data/raw"), help="default input"
    )
    serve.add_argument("--lake", type=Path, default=Path("data/lake"), help="default lake")
    serve.add_argument("--batch-size", type=int, default=500, help="default files per batch")
    report = sub.add_parser("report", help="print the last run's manifest")
    report.add_argument("--lake", type=Path, default=Path("data/lake"))
    report.add_argument("--json", action="store_true", help="print the raw JSON manifest")
    return parser


# Row counts in the summary, each with the stage that makes it.
STAGES_COUNTED = {
    "records_in": "ingest",
    "ingested": "ingest",
    "cleaned": "clean",
    "passed_quality": "clean",
    "deduped": "dedupe",
    "enriched": "enrich",
}


# Unmapped source columns named in the summary (all are in the run manifest).
UNMAPPED_SHOWN = 8


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
    # deduped and enriched count the lake after those stages; a run that did not reach
    # them (nothing new, or stop_after) has no such count.
    ran = set(run.get("stages_run", STAGES_COUNTED))
    shown = [
        k
        for k, stage in STAGES_COUNTED.items()
        if stage in ran and (k in counts or k != "passed_quality")
    ]
    lines.append("  rows:    " + " -> ".join(f"{k} {counts.get(k, 0)}" for k in shown))
    if counts.get("metadata_only"):
        only, ingested = counts["metadata_only"], counts.get("ingested", 0)
        share = f" ({100 * only / ingested:.1f} % of ingested)" if ingested else ""
        lines.append(
            f"  metadata only: {only} records with a title or URL but no body{share}, "
            "in metadata_only/"
        )
    if counts.get("batches_rolled_back"):
        lines.append(
            f"  rolled back: the {counts['batches_rolled_back']} new batches of this run "
            "(no stage keeps their rows; the next run reads their files again)"
        )
    skipped = [s for s in ("clean", "dedupe", "enrich") if s not in ran]
    if skipped:
        lines.append(f"  not run this time: {', '.join(skipped)}")
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
    unmapped = run.get("unmapped_columns") or {}
    if unmapped:
        shown_columns = sorted(unmapped.items(), key=lambda item: -item[1]["rows"])
        lines.append(
            "  source columns no mapping uses: "
            + ", ".join(
                f"{name} ({c['rows']} rows"
                + (f", {c['text_like']} text-like)" if c["text_like"] else ")")
                for name, c in shown_columns[:UNMAPPED_SHOWN]
            )
            + (
                f" and {len(unmapped) - UNMAPPED_SHOWN} more"
                if len(unmapped) > UNMAPPED_SHOWN
                else ""
            )
        )
    lines += [f"  CRITICAL {line}" for line in run.get("mapping_failures", [])]
    quality = run.get("quality") or {}
    if quality:
        lines.append(
            f"  quality: {quality['expectations'] - quality['failed']}/{quality['expectations']}"
            f" expectations passed; report {quality['report']}"
        )
        lines += [f"  CRITICAL {line}" for line in quality["critical_failures"]]
    lines.append(f"  lake:    {run['lake']}  (manifest in runs/{run['run_id']}.json)")
    return "\n".join(lines)


def _prefect_defaults() -> None:
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


@contextmanager
def heartbeats_only_if_set() -> Iterator[None]:
    """No flow-run heartbeats in this block unless the user's settings ask for them.

    Prefect's sync flow engine joins its heartbeat thread at the end of every run, and
    the thread sleeps in 1 s steps: 0-1 s added to each run for heartbeat events that
    only a zombie-detection automation reads. A user who set one up sets
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY (environment or profile), which is kept. Runs of
    `newsflow serve` are not affected: the runner starts them in processes of its own.
    """
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def input_location(text: str) -> Path | str:
    """`--input`: a folder, or an object-store URL kept as typed (credentials refused)."""
    try:
        return cast("Path | str", as_location(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _input_problem(location: Path | str) -> tuple[int, str] | None:
    """(exit code, one line) when the input cannot be read, before Prefect starts."""
    if not is_url(location):
        if not Path(location).is_dir():
            return 2, f"input folder {location} does not exist"
        return None
    try:
        check_readable(str(location))
    except MissingLocation as exc:
        return 2, f"input {exc}"
    except StorageError as exc:
        return 1, f"run failed: {exc}"
    return None


def _resolved(location: Path | str) -> Path | str:
    return location if is_url(location) else Path(location).resolve()


def _run(args: argparse.Namespace) -> int:
    _prefect_defaults()
    problem = _input_problem(args.input)
    if problem:
        print(f"newsflow: {problem[1]}", file=sys.stderr)
        return problem[0]
    if args.dask_address and args.runner != "dask":
        print("newsflow: --dask-address needs --runner dask", file=sys.stderr)
        return 2
    if args.workers is not None and (args.workers < 1 or args.dask_address):
        print("newsflow: --workers must be >= 1 and sizes only a local pool", file=sys.stderr)
        return 2
    from flows.pipeline import newsflow_pipeline
    from newsflow.config import PipelineConfig

    # Absolute paths: Dask workers (and served flow runs) need not share our directory.
    config = PipelineConfig(
        input_dir=_resolved(args.input),
        lake_dir=args.lake.resolve(),
        batch_size=args.batch_size,
        full_refresh=args.full_refresh,
        stop_after=args.stop_after,
        re_enrich=args.re_enrich,
        enrichers=args.enrichers.split(",") if args.enrichers else None,
    )
    pipeline = flow_on_runner(newsflow_pipeline, args.runner, args.dask_address, args.workers)
    with (
        api_shared_with_workers() if args.runner == "dask" else nullcontext(),
        heartbeats_only_if_set(),
    ):
        run = pipeline(config)
    print(format_run(run))
    return 0


def _serve(args: argparse.Namespace) -> int:
    _prefect_defaults()
    from newsflow.config import PipelineConfig
    from newsflow.deploy import api_url, serve_pipeline, server_problem

    problem = server_problem(api_url())
    if problem:
        print(f"newsflow: cannot serve: {problem}", file=sys.stderr)
        return 1
    config = PipelineConfig(
        input_dir=_resolved(args.input), lake_dir=args.lake.resolve(), batch_size=args.batch_size
    )
    serve_pipeline(config, name=args.name, cron=args.cron)
    return 0


COMMANDS = {"run": _run, "serve": _serve}


def _report(args: argparse.Namespace) -> int:
    run = Lake(args.lake).last_run()
    if run is None:
        print(f"newsflow: no run recorded in {args.lake}/runs", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(run, indent=2))
        return 0
    from expectations.report import latest_summary, summary_text

    print(format_run(run))
    quality = latest_summary(args.lake)
    print(summary_text(quality) if quality else "no quality results yet")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, _report)(args)
    except KeyboardInterrupt:
        print("newsflow: interrupted", file=sys.stderr)
        return 130
    except LakeVersionError as exc:  # the user must choose: nothing was written
        print(f"newsflow: {args.command} refused: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line for people; Prefect's logs hold the traceback
        print(f"newsflow: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
