"""Scale-out: `newsflow run --runner dask --dask-address` on a real Dask scheduler with two
worker processes writes the same lake rows as a threads run of the same input."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from tests.conftest import SAMPLE_RAW
from tests.e2e.lake_rows import comparable_rows, differing_stages
from tests.e2e.processes import BIN, REPO, free_port, spawn, stop, wait_until
from tests.prefect_server import PrefectServer

WORKERS = 2


@pytest.fixture(scope="module")
def dask_scheduler(prefect_server: PrefectServer) -> Iterator[str]:
    """`dask scheduler` and two single-threaded `dask worker`s on loopback; the address.

    Workers get PREFECT_API_URL: the task runs they execute report to the same server
    as the flow run, as they must on a real cluster.
    """
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = prefect_server.env
    logs = prefect_server.logs
    started = []
    try:
        scheduler_cmd = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
        scheduler_cmd += ["--dashboard-address", f"127.0.0.1:{free_port()}"]
        started.append(spawn(scheduler_cmd, env, logs / "dask-scheduler.log"))
        for n in range(WORKERS):
            worker_cmd = [str(BIN / "dask"), "worker", address, "--nworkers", "1"]
            worker_cmd += ["--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
            started.append(spawn(worker_cmd, env, logs / f"dask-worker-{n}.log"))

        def all_workers_joined() -> bool:
            with Client(address, timeout=10) as client:
                return len(client.scheduler_info()["workers"]) == WORKERS

        wait_until(all_workers_joined, 120, "dask cluster", started[0], logs / "dask-scheduler.log")
        yield address
    finally:
        for proc in reversed(started):
            stop(proc)


def newsflow_run(server: PrefectServer, raw: Path, lake: Path, *runner: str) -> dict[str, object]:
    done = subprocess.run(
        [str(BIN / "newsflow"), "run", "--input", str(raw), "--lake", str(lake)]
        + ["--batch-size", "2", *runner],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"newsflow run {runner} failed:\n{done.stderr[-4000:]}"
    [manifest] = (lake / "runs").glob("*.json")
    return dict(json.loads(manifest.read_text()))


def tasks_run_per_worker(address: str) -> list[int]:
    """How many tasks each worker has finished (transitions into 'memory')."""

    def finished(dask_worker: object) -> int:
        log = dask_worker.state.stimulus_log  # type: ignore[attr-defined]
        return sum(type(event).__name__ == "ExecuteSuccessEvent" for event in log)

    with Client(address, timeout=10) as client:
        return list(client.run(finished).values())


def test_a_dask_cluster_writes_the_same_rows_as_threads(
    dask_scheduler: str, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    on_dask = newsflow_run(
        prefect_server,
        raw,
        tmp_path / "lake-dask",
        "--runner",
        "dask",
        "--dask-address",
        dask_scheduler,
    )
    on_threads = newsflow_run(prefect_server, raw, tmp_path / "lake-threads", "--runner", "threads")

    per_worker = tasks_run_per_worker(dask_scheduler)
    # 4 ingest + 4 line statistics + 4 clean + dedupe + enrich at least, over both workers.
    assert sum(per_worker) >= 11, per_worker
    assert all(n > 0 for n in per_worker), per_worker
    assert on_dask["counts"] == on_threads["counts"]
    assert comparable_rows(tmp_path / "lake-dask", "enriched").height == 7
    assert differing_stages(tmp_path / "lake-dask", tmp_path / "lake-threads") == {}
