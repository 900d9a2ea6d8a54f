"""The lakes several test modules compare, each made by `newsflow run` processes that
talk to the session's Prefect server (`prefect_server`, tests/conftest.py) through
PREFECT_API_URL: one server for every run instead of a temporary one per run (each
of those takes 10-15 s to boot).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.prefect_server import PrefectServer
from tests.reliability.corpus import SECOND_HALF, build_corpus
from tests.reliability.lakes import BATCH_SIZE, Run, newsflow_run


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("corpus") / "raw")


@pytest.fixture(scope="session")
def reference(
    prefect_server: PrefectServer, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Run]:
    """The lake of one uninterrupted run over the whole corpus, and that run's output."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    run = newsflow_run(prefect_server.env, corpus, lake, "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output
    return lake, run


@pytest.fixture(scope="session")
def first_half(prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake after one run over the corpus without SECOND_HALF (tests copy it)."""
    root = tmp_path_factory.mktemp("first_half")
    raw = build_corpus(root / "raw", leave_out=SECOND_HALF)
    run = newsflow_run(prefect_server.env, raw, root / "lake", "--batch-size", BATCH_SIZE)
    assert run.returncode == 0, run.output
    return root / "lake"
