"""`newsflow run` with a chosen set of enrichers, for code without the CLI flag.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.run_flow --input DIR --lake DIR \
        [--enrichers all|cheap|name,name] [--batch-size 500]

Builds the same `PipelineConfig` as `newsflow run` plus `enrichers`, sets the same
Prefect defaults (`app.cli.PREFECT_DEFAULTS`, no heartbeats unless set) and calls
the flow, then prints the run summary the CLI prints. `cheap` is every enricher except
entities and keywords (when keywords ran YAKE, these two model-bound ones cost 98 % of
enrich time; the issue-25 ratio of all to cheap is measured against this set). (Since
d901647 the CLI has `--enrichers`; this driver also runs older snapshots, such as
ac19a65, that lack it.)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.cli import PREFECT_DEFAULTS, format_run, heartbeats_only_if_set

CHEAP_ENRICHERS = ["counts_v2", "source_v2", "language_v2", "dateline_v2", "quality_v2"]


def enricher_names(choice: str) -> list[str] | None:
    """`all` -> None (the flow's default: every enricher), `cheap`, or a comma list."""
    if choice == "all":
        return None
    if choice == "cheap":
        return CHEAP_ENRICHERS
    return [name.strip() for name in choice.split(",") if name.strip()]


def config_from(argv: list[str], description: str) -> Any:
    """The `PipelineConfig` the arguments ask for, with the CLI's Prefect defaults set."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--enrichers", default="all")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args(argv)
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    from newsflow.config import PipelineConfig  # after the Prefect settings

    return PipelineConfig(
        input_dir=args.input,
        lake_dir=args.lake,
        batch_size=args.batch_size,
        enrichers=enricher_names(args.enrichers),
    )


def main(argv: list[str]) -> int:
    config = config_from(argv, __doc__.splitlines()[0])
    from flows.pipeline import newsflow_pipeline

    with heartbeats_only_if_set():  # as `newsflow run` does
        run = newsflow_pipeline(config)
    print(format_run(run))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
