"""commit: publish the run's work to the lake's Delta tables, once, after it succeeded.

Thin: the diff-and-commit logic is newsflow/tables.py. Each table's commit compares
states, so a retry (or the next run, after a crash between two tables) finishes what
a commit cut short without adding anything twice.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.lake import Lake
from newsflow.tables import commit_tables


@task(name="commit", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def commit(lake_dir: str, run_id: str) -> dict[str, int]:
    """Commit every table from the working copy; returns each table's version."""
    return commit_tables(Lake(lake_dir), run_id)
