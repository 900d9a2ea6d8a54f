"""The pipeline's own work without Prefect's engine: the baseline for Prefect's share.

Usage (from the repository root; the same arguments as `benchmarks.run_flow`):

    .venv/bin/python -m benchmarks.bare_run --input DIR --lake DIR \
        [--enrichers all|cheap|name,name] [--batch-size 500]

Runs `flows.bare.run_without_prefect`: the body of the `newsflow` flow with every task
called as a plain function on a thread pool as wide as the flow's task runner. Prefect
is still imported (the task modules are decorated); `benchmarks.prefect_ab` measures
that import on its own. Meant for a fresh lake: nothing is cached either way.
"""

from __future__ import annotations

import logging
import sys

from app.cli import format_run
from benchmarks.run_flow import config_from
from flows.bare import run_without_prefect


def main(argv: list[str]) -> int:
    config = config_from(argv, __doc__.splitlines()[0])
    logging.basicConfig(level=logging.WARNING)
    print(format_run(run_without_prefect(config)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
