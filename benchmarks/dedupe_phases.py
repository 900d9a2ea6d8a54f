"""Dedupe's phases one by one: seconds, CPU seconds and peak memory of each.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.dedupe_phases LAKE [--code DIR] [--record]

Copies `LAKE/_work/cleaned` (`LAKE/cleaned` in older lakes) into a fresh lake and runs
dedupe there in this process, the phases one after another (`run_dedupe(...,
submit=False)`), from the code in `--code` (default: this checkout; a `git archive` of
an older commit works too: before the phases existed dedupe was one task, reported as
one phase `dedupe` with the seconds of its logged steps). A thread samples the process's
RSS every 20 ms. Prints one JSON line: per phase its wall and CPU seconds, the peak RSS
while it ran and how far that rose above the RSS it started with (what one task of it
adds to a worker). `--record`
appends it to `benchmarks/results/dedupe_phases.json` with the code's commit.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil


class Sampler(threading.Thread):
    """The process's peak RSS since the last `reset`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.peak = 0
        self.stopped = False

    def reset(self) -> int:
        now: int = self.process.memory_info().rss
        self.peak = now
        return now

    def run(self) -> None:
        while not self.stopped:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)


def measured(sampler: Sampler, figures: dict[str, dict[str, float]], name: str, call: Any) -> Any:
    start_rss = sampler.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    mine = figures.setdefault(name, {"s": 0.0, "cpu_s": 0.0, "peak_mib": 0.0, "rise_mib": 0.0})
    mine["s"] += time.perf_counter() - wall
    mine["cpu_s"] += time.process_time() - cpu
    mine["peak_mib"] = max(mine["peak_mib"], sampler.peak / 2**20)
    mine["rise_mib"] = max(mine["rise_mib"], (sampler.peak - start_rss) / 2**20)
    return result


class Timed:
    """A phase task whose `.fn` calls are measured (run_dedupe calls `.fn` in-process)."""

    def __init__(self, task: Any, sampler: Sampler, figures: dict[str, dict[str, float]]):
        self.task, self.sampler, self.figures, self.name = task, sampler, figures, task.name

    def fn(self, *args: Any) -> Any:
        name = self.name.removeprefix("dedupe-")
        return measured(self.sampler, self.figures, name, lambda: self.task.fn(*args))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("--code", type=Path, default=Path.cwd())
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    logging.basicConfig(level=logging.WARNING)
    sampler = Sampler()
    sampler.start()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="dedupe-phases-") as tmp:
        # The working copy (`_work/cleaned` since the Delta tables; `cleaned` before).
        source = args.lake / "_work" / "cleaned"
        work = source.exists()
        source = source if work else args.lake / "cleaned"
        shutil.copytree(source, Path(tmp) / ("_work" if work else "") / "cleaned")
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            import tasks.dedupe_stage as stage
        except ImportError:  # before the phases: one task
            from tasks.dedupe_lake import dedupe  # type: ignore[attr-defined]  # old code

            out = measured(sampler, figures, "dedupe", lambda: dedupe.fn(tmp, "bench"))
        else:
            for attr, value in vars(stage).copy().items():
                if getattr(value, "name", "").startswith("dedupe-") and hasattr(value, "fn"):
                    setattr(stage, attr, Timed(value, sampler, figures))
            out = stage.run_dedupe(tmp, "bench", submit=False)
        total = {"s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    sampler.stopped = True
    rounded = {k: {m: round(v, 2) for m, v in f.items()} for k, f in figures.items()}
    result = {
        "code": str(args.code),
        "lake": str(args.lake),
        "total": {k: round(v, 2) for k, v in total.items()},
        "peak_mib": round(max(f["peak_mib"] for f in figures.values()), 1),
        "deduped": out["deduped"],
        "duplicates": out["duplicates"],
        "phases": rounded,
    }
    print(json.dumps(result))
    if args.record:
        from benchmarks.common import record  # after the run: it imports the stage

        record("dedupe_phases", result, code=args.code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
