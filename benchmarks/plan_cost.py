"""What planning costs as a Prefect task, against the same work without Prefect, and
what Prefect would add if it hashed or stored the plan.

Usage (from the repository root; a temporary Prefect server is started when no
`PREFECT_API_URL` is set):

    PREFECT_HOME=/tmp/pfh .venv/bin/python -m benchmarks.plan_cost --input DIR [--repeats 2]

Each repeat plans DIR into a fresh lake (nothing ingested: every file is new), once
with `plan_run.fn` (list, hash, diff with the manifest, batch; no Prefect) and once as
the flow runs it, `stage_runs.call(plan_run, …)` inside a flow: the difference is
Prefect's share. The task keeps no cache key (`NO_CACHE`) and no result
(`persist_result=False`): the files Prefect's result storage gains during the task
runs must be 0. For scale, what it would cost if it did either, on the same plan:
`hash_objects` over it (what a cache key over the plan as an argument costs) and its
pickle (what a persisted result writes).
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH
from prefect.utilities.hashing import hash_objects

from benchmarks.common import record
from flows.plan import RunPlan, plan_run
from flows.stage_runs import call
from newsflow.config import PipelineConfig


@flow(name="plan-cost")
def planning_flow(config: PipelineConfig) -> dict[str, Any]:
    started = time.perf_counter()
    plan = call(plan_run, config, "bench")
    return {"seconds": time.perf_counter() - started, "files_new": plan.files_new}


def stored_files() -> tuple[int, int]:
    """Files and bytes in Prefect's local result storage."""
    root = Path(PREFECT_LOCAL_STORAGE_PATH.value())
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def avoided(plan: RunPlan) -> dict[str, float]:
    """What hashing or persisting the plan would cost."""
    started = time.perf_counter()
    hash_objects(plan)
    hashed = time.perf_counter() - started
    started = time.perf_counter()
    size = len(pickle.dumps(plan))
    return {
        "hash_plan_s": round(hashed, 3),
        "pickle_plan_s": round(time.perf_counter() - started, 3),
        "pickle_plan_mib": round(size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    assert plan_run.cache_policy is NO_CACHE
    assert plan_run.persist_result is False
    plain, tasked, stored_before = [], [], stored_files()
    with tempfile.TemporaryDirectory(prefix="plan-cost-") as tmp:
        for i in range(args.repeats):
            config = PipelineConfig(input_dir=args.input, lake_dir=Path(tmp) / f"plain{i}")
            started = time.perf_counter()
            plan = plan_run.fn(config, "bench")
            plain.append(round(time.perf_counter() - started, 2))
            config = PipelineConfig(input_dir=args.input, lake_dir=Path(tmp) / f"task{i}")
            tasked.append(round(planning_flow(config)["seconds"], 2))
    stored_after = stored_files()
    figures = {
        "files": plan.files_seen,
        "batches": len(plan.batches),
        "plain_s": plain,
        "task_s": tasked,
        "result_storage_files_added": stored_after[0] - stored_before[0],
        "result_storage_bytes_added": stored_after[1] - stored_before[1],
        **avoided(plan),
    }
    print(figures)
    if not args.no_record:
        print(record("plan_cost", figures))


if __name__ == "__main__":
    main()
