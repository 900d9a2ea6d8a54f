"""`newsflow run | serve | server | report | vacuum | migrate`: the command line over the lake.

Prefect is imported only inside `run` and `serve`, after its settings are defaulted here, so
`report` stays fast and every run is quiet and offline by default.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast

from app.deploy import DEFAULT_NAME
from flows.lake_slot import writer_lock
from flows.runners import DASHBOARD_PORT, RUNNERS, api_shared_with_workers, flow_on_runner
from newsflow.config import DEFAULT_CRON, DEFAULT_PREFECT_PORT, PipelineConfig
from newsflow.lake import Lake, LakeVersionError
from newsflow.run_config import EnvironmentProblem, ParameterError, load_config
from newsflow.storage import as_location, is_url, resolved
from newsflow.summary import format_run

_LOG = logging.getLogger("newsflow")

# Defaults for Prefect's settings unless the user set them: a project-local home,
# no telemetry (the machine may be offline), and time for the local server to boot.
PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(Path(".prefect").resolve()),
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


class _VersionAction(argparse.Action):
    """--version: computed only when asked (it may call git)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from newsflow.version import version_text

        print(version_text())
        parser.exit()


def input_location(text: str) -> Path | str:
    """`--input`: a folder, or an object-store URL kept as typed (credentials refused)."""
    try:
        return cast("Path | str", as_location(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _config_options(command: argparse.ArgumentParser) -> None:
    """Options of the run's PipelineConfig; unset ones (None) leave the file's, the
    environment's or the default value (see newsflow/run_config.py)."""
    default = PipelineConfig()
    command.add_argument(
        "--config",
        type=Path,
        help="TOML or YAML file of PipelineConfig fields; flags given here override it, "
        "it overrides NEWSFLOW_<FIELD> variables",
    )
    command.add_argument(
        "--input",
        type=input_location,
        help=f"raw files folder, or s3://bucket/prefix/ with credentials from AWS_* variables "
        f"(default {default.input_dir})",
    )
    command.add_argument(
        "--lake",
        type=as_location,
        help=f"output lake: a folder or s3:// URL (default {default.lake_dir})",
    )
    command.add_argument(
        "--batch-size", type=int, help=f"files per batch (default {default.batch_size})"
    )
    command.add_argument(
        "--lock-wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait for another run writing the same lake "
        f"(default {default.lock_wait_seconds:g})",
    )


def _runner_options(command: argparse.ArgumentParser, what: str) -> None:
    """Where tasks run; for `serve`, the deployment's defaults (the form offers them)."""
    command.add_argument(
        "--runner", choices=RUNNERS, default="threads", help=f"{what} (default threads)"
    )
    command.add_argument(
        "--dask-address", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (dask only)"
    )
    command.add_argument(
        "--workers",
        type=int,
        help="threads, or processes of the local Dask cluster (default: one per core)",
    )
    command.add_argument(
        "--dask-dashboard-port",
        type=int,
        default=DASHBOARD_PORT,
        help=f"a local Dask cluster's dashboard port on 127.0.0.1 (default {DASHBOARD_PORT})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", action=_VersionAction, nargs=0, help="print the package and code versions"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest, clean, dedupe and enrich an input folder")
    _config_options(run)
    run.add_argument(
        "--full-refresh", action="store_true", default=None, help="reprocess every file"
    )
    run.add_argument(
        "--stop-after",
        choices=("clean", "dedupe", "enrich"),
        help="last stage to run; the next run catches up (default enrich)",
    )
    run.add_argument(
        "--enrichers",
        help="comma-separated enrichers to run, e.g. counts_v2,source_v2 (default: all "
        "but the opt-in ones, such as pii_v1)",
    )
    run.add_argument(
        "--re-enrich",
        action="store_true",
        default=None,
        help="enrich every batch again (new enrichers)",
    )
    _runner_options(run, "where tasks run")
    serve = sub.add_parser(
        "serve", help="register the scheduled deployment and run its flow runs (needs a server)"
    )
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f'schedule (default "{DEFAULT_CRON}")')
    serve.add_argument("--name", default=DEFAULT_NAME, help=f"deployment (default {DEFAULT_NAME})")
    _config_options(serve)
    serve.add_argument(
        "--allowed-root",
        type=Path,
        action="append",
        help="a folder runs may read input from and write lakes to (repeat for more; default: "
        "NEWSFLOW_ALLOWED_ROOTS, else the --input and --lake folders)",
    )
    _runner_options(serve, "the runs' default runner")
    serve.add_argument(
        "--alert-webhook",
        help="URL to POST to when a run fails, crashes or is late (Prefect automations)",
    )
    server = sub.add_parser(
        "server", help="start the local Prefect server (and UI) in the background for runs"
    )
    server.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PREFECT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PREFECT_PORT})",
    )
    server.add_argument("--stop", action="store_true", help="stop the server started here")
    report = sub.add_parser("report", help="print the last run's manifest")
    report.add_argument("--lake", type=as_location, default=PipelineConfig().lake_dir)
    report.add_argument("--json", action="store_true", help="print the raw JSON manifest")
    vacuum = sub.add_parser("vacuum", help="expire table versions older than --retain hours")
    vacuum.add_argument("--lake", type=as_location, default=PipelineConfig().lake_dir)
    vacuum.add_argument("--retain", type=int, required=True, metavar="HOURS")
    vacuum.add_argument(
        "--lock-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long to wait for a run writing the lake (default 0: refuse at once)",
    )
    migrate = sub.add_parser("migrate", help="convert a lake of the folder layout to tables")
    migrate.add_argument("--lake", type=as_location, required=True)
    return parser


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


# Command-line options -> PipelineConfig fields.
CONFIG_FLAGS = {
    "input": "input_dir",
    "lake": "lake_dir",
    "batch_size": "batch_size",
    "full_refresh": "full_refresh",
    "stop_after": "stop_after",
    "re_enrich": "re_enrich",
    "enrichers": "enrichers",
    "lock_wait": "lock_wait_seconds",
}


def _config(args: argparse.Namespace) -> PipelineConfig:
    """The run's PipelineConfig: flags over --config FILE over NEWSFLOW_* over defaults.
    Paths absolute: Dask workers (and served flow runs) need not share our directory."""
    flags = {
        field: getattr(args, option)
        for option, field in CONFIG_FLAGS.items()
        if getattr(args, option, None) is not None
    }
    if "enrichers" in flags:
        flags["enrichers"] = [name for name in flags["enrichers"].split(",") if name]
    config = load_config(flags, args.config)
    return config.model_copy(
        update={"input_dir": resolved(config.input_dir), "lake_dir": resolved(config.lake_dir)}
    )


@contextmanager
def _local_server_if_up() -> Iterator[None]:
    """Run against the server `newsflow server` started, when no Prefect API is
    configured and it answers; otherwise as before (the configured server, or Prefect's
    temporary one)."""
    from app import local_server
    from flows.validation import api_url

    server = None if api_url() else local_server.running()
    if server is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    print(f"newsflow: using the Prefect server at {server.url} (newsflow server)", file=sys.stderr)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_UI_URL: server.url}):
        yield


def _run(args: argparse.Namespace) -> int:
    _prefect_defaults()
    config = _config(args)
    if args.dask_address and args.runner != "dask":
        print("newsflow: --dask-address needs --runner dask", file=sys.stderr)
        return 2
    if args.workers is not None and (args.workers < 1 or args.dask_address):
        print("newsflow: --workers must be >= 1 and sizes only a local pool", file=sys.stderr)
        return 2
    from flows.validation import (
        allowed_roots,
        check_dask_scheduler,
        check_lake,
        check_prefect_server,
        validate,
    )

    validate(config, allowed_roots())  # the flow checks again: a deployment run has no CLI
    check_lake(config.lake_dir)
    if args.dask_address:
        check_dask_scheduler(args.dask_address)
    with _local_server_if_up():
        check_prefect_server()
        from flows.pipeline import newsflow_pipeline
        from newsflow.log_filters import summary_off_console

        summary_off_console()

        runner = (args.runner, args.dask_address, args.workers, args.dask_dashboard_port)
        pipeline = flow_on_runner(newsflow_pipeline, *runner)
        with (
            api_shared_with_workers() if args.runner == "dask" else nullcontext(),
            heartbeats_only_if_set(),
        ):
            run = pipeline(config, *runner)
    print(format_run(run))
    return 0


def _serve(args: argparse.Namespace) -> int:
    _prefect_defaults()
    from app.deploy import serve_pipeline
    from flows.validation import (
        ALLOWED_ROOTS_ENV,
        allowed_roots,
        api_url,
        check_cron,
        roots_env,
        server_problem,
        validate,
    )

    config = _config(args)
    check_cron(args.cron)
    configured = os.environ.get(ALLOWED_ROOTS_ENV)
    roots = args.allowed_root or (None if configured else [config.input_dir, config.lake_dir])
    # Defaults that cannot work (a missing input, folders outside the roots) would fail
    # every scheduled run: refuse them now.
    validate(config, [resolved(r) for r in roots] if roots else allowed_roots())
    problem = server_problem(api_url())
    if problem:
        print(f"newsflow: cannot serve: {problem}", file=sys.stderr)
        return 1
    if roots:  # the runs `serve` executes are its subprocesses: they inherit the roots
        os.environ[ALLOWED_ROOTS_ENV] = roots_env(roots)
    print(f"newsflow: runs may use folders under {os.environ[ALLOWED_ROOTS_ENV]}", file=sys.stderr)
    if args.alert_webhook:
        from newsflow.alerts import ensure_alerts

        ensure_alerts(args.alert_webhook)
        print(f"newsflow: alerts on failed, crashed and late runs go to {args.alert_webhook}")
    runner = {
        "runner": args.runner,
        "dask_address": args.dask_address,
        "workers": args.workers,
        "dask_dashboard_port": args.dask_dashboard_port,
    }
    serve_pipeline(config, name=args.name, cron=args.cron, task_runner=runner)
    return 0


def _vacuum(args: argparse.Namespace) -> int:
    from newsflow.tables import check_layout, vacuum

    if args.retain < 0 or args.lock_wait < 0:
        print("newsflow: --retain and --lock-wait must be >= 0", file=sys.stderr)
        return 2
    check_layout(args.lake)
    lake = resolved(args.lake)
    run_id = f"vacuum-{os.getpid()}"  # the lock's and the commits' (the fence's)
    with writer_lock(lake, None, run_id, args.lock_wait, _LOG, prefect_limit=False):
        deleted = vacuum(lake, args.retain, run_id)
    print(f"vacuum: {sum(deleted.values())} files deleted ({args.retain} h of versions kept)")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from newsflow.tables import migrate, old_layout_folders

    if is_url(args.lake):  # the folder layout predates lakes on object storage
        print(
            f"newsflow: migrate refused: {args.lake} is on object storage; migrate converts "
            "local lakes of the folder layout (lakes on object storage always had tables)",
            file=sys.stderr,
        )
        return 2
    lake = args.lake.resolve()
    if not old_layout_folders(lake):
        print(f"newsflow: migrate refused: {args.lake} has no folders to migrate", file=sys.stderr)
        return 2
    run_id = f"migrate-{os.getpid()}"  # the lock's and the commits' (the fence's)
    with writer_lock(lake, None, run_id, 0, _LOG, prefect_limit=False):
        versions = migrate(lake, run_id)
    print(f"migrated {args.lake}: {len(versions)} tables under {lake / 'tables'}")
    return 0


def _server(args: argparse.Namespace) -> int:
    _prefect_defaults()
    from app import local_server

    if args.stop:
        stopped = local_server.stop()
        home = local_server.prefect_home()
        print(
            f"newsflow: stopped the Prefect server at {stopped.url}"
            if stopped
            else f"newsflow: no Prefect server of {home} was running",
            file=sys.stderr,
        )
        return 0
    server = local_server.start(args.port)
    print(server.url)
    print(
        "newsflow: `newsflow run` uses it while it is up; stop it with `newsflow server --stop`",
        file=sys.stderr,
    )
    return 0


COMMANDS = {
    "run": _run,
    "serve": _serve,
    "server": _server,
    "vacuum": _vacuum,
    "migrate": _migrate,
}


def _report(args: argparse.Namespace) -> int:
    run = Lake(args.lake).last_run()
    if run is None:
        print(f"newsflow: no run recorded in {args.lake}/runs", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(run, indent=2))
        return 0
    from expectations.report import latest_summary, summary_text
    from newsflow.tables import describe, snapshot

    print(format_run(run))
    if "tables" in run:  # as of this run, whatever has been committed since
        print(describe(snapshot(args.lake, run["run_id"])))
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
    except ParameterError as exc:  # the run's own parameters: nothing was read or written
        print(f"newsflow: {exc}", file=sys.stderr)
        return 2
    except EnvironmentProblem as exc:
        print(f"newsflow: {exc}", file=sys.stderr)
        return 1
    except LakeVersionError as exc:  # the user must choose: nothing was written
        print(f"newsflow: {args.command} refused: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line for people; Prefect's logs hold the traceback
        print(f"newsflow: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
