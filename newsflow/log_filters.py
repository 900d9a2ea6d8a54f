"""Log noise that says nothing new, filtered once for every process that runs tasks.

Installed from `newsflow/__init__.py`, so Dask workers (which import the task
modules, never the flow module) filter it too.
"""

from __future__ import annotations

import logging


class ThreadTimeoutNotice(logging.Filter):
    """Prefect warns on every task run that a timeout cannot interrupt a worker thread.

    Known and documented (README, "Operating runs"): a task over its limit fails
    when its blocking call returns, then retries. Once per task run is noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "running in a worker thread" not in record.getMessage()


def install() -> None:
    logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(f, ThreadTimeoutNotice) for f in logger.filters):
        logger.addFilter(ThreadTimeoutNotice())


# Set on the end-of-run summary the flow logs for the Prefect UI (extra={SUMMARY: True}).
SUMMARY = "newsflow_summary"


class SummaryOffConsole(logging.Filter):
    """`newsflow run` prints the summary itself (stdout); its log copy, for the Prefect
    UI, would show it twice in the terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, SUMMARY, False)


def summary_off_console() -> None:
    """Keep the logged summary out of Prefect's console handlers (call once Prefect's
    logging is set up: after importing it)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(
            isinstance(f, SummaryOffConsole) for f in handler.filters
        ):
            handler.addFilter(SummaryOffConsole())
