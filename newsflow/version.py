"""What code a run is: the package version and, from a git checkout, the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from newsflow import __version__

SOURCE_ROOT = Path(__file__).resolve().parents[1]


def code_version() -> str:
    """The git commit of the source tree newsflow runs from (`-dirty` with uncommitted
    changes to tracked files); the package version when it is no checkout or git is
    missing."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(SOURCE_ROOT), *args],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return __version__
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if dirty else commit


def version_text() -> str:
    return f"newsflow {__version__} (code {code_version()})"
