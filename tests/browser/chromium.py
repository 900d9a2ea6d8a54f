"""Debian's Chromium for the browser tests: never a browser a test tool downloads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("NEWSFLOW_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container: no sandbox, no GPU, nothing that calls home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser; fails (never skips) when the package is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (`make browser`)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
