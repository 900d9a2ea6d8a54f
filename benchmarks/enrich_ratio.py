"""Every enricher against the cheap set: whole runs, back to back, on fresh lakes.

Usage (from the repository root):

    .venv/bin/python benchmarks/enrich_ratio.py ../shared/corpus/bbc_fulltext [--rounds 2]

Each round runs `newsflow run` twice as a subprocess, on a fresh temporary lake each:
first with the cheap enrichers (`benchmarks/run_flow.py`'s CHEAP_ENRICHERS: all but
the two that run a model or a word table, entities and keywords), then with every
enricher (the default). Rounds alternate cheap, all, cheap, all, so load from other
work on a shared machine falls on both alike. The times are the run's own (`total_s`
and `enrich_s` in its manifest: the Prefect server's start-up is not counted); speed is
unique enriched records per second (duplicates never reach enrich); "command s" is the
`newsflow run` command's wall time as a user times it (with no server up it includes
the temporary Prefect server's start-up, ~10 s); the CPU seconds of
each run's process tree are printed too, as a check less sensitive to other load (they
include the temporary Prefect server's start-up). Prints every round,
the medians and the ratio all / cheap, with the commit measured.

`--variant LABEL=DIR` adds, to every round, an all-enricher run of the code in DIR (a
copy of the repository, e.g. `git archive` of a commit with one setting changed, put
first on PYTHONPATH; it uses this checkout's .venv): what a change would buy, measured
under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from run_flow import CHEAP_ENRICHERS  # noqa: E402

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


def one_run(folder: Path, enrichers: list[str] | None, code: Path | None = None) -> dict[str, Any]:
    """Run the pipeline (of the code in `code`, else this checkout) on a fresh lake;
    return its manifest."""
    with tempfile.TemporaryDirectory(prefix="newsflow-ratio-") as lake:
        command = [NEWSFLOW, "run", "--input", str(folder.resolve()), "--lake", lake]
        if enrichers is not None:
            command += ["--enrichers", ",".join(enrichers)]
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"}
        if code is not None:
            env["PYTHONPATH"] = str(code.resolve())
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False, cwd=code
        )
        command_s = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        [manifest] = (Path(lake) / "runs").glob("*.json")
        run = json.loads(manifest.read_text())
        # CPU seconds of the whole process tree (CLI, enrich workers, the temporary Prefect
        # server): on a shared machine they move much less than wall time with the load.
        # What a user timing `newsflow run` sees: the run plus, without a server up, the
        # temporary Prefect server's start-up.
        run["command_s"] = command_s
        run["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return run


def commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return described.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variant", metavar="LABEL=DIR", default=None)
    args = parser.parse_args()
    configurations: list[tuple[str, list[str] | None, Path | None]] = [
        ("cheap", CHEAP_ENRICHERS, None),
        ("all", None, None),
    ]
    if args.variant:
        label, directory = args.variant.split("=", 1)
        configurations.append((label, None, Path(directory)))

    print(f"commit {commit()}, folder {args.folder}, cheap = {','.join(CHEAP_ENRICHERS)}")
    print(
        "| round | enrichers | enriched | run s | command s | enrich s | records/s "
        "| CPU s (process tree) | enrich s by enricher |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in configurations}
    for round_no in range(1, args.rounds + 1):
        for label, enrichers, code in configurations:
            manifest = one_run(args.folder, enrichers, code)
            timings, enriched = manifest["timings"], manifest["counts"]["enriched"]
            runs[label].append(manifest)
            by_enricher = ", ".join(
                f"{k.removeprefix('enrich_').removesuffix('_s')} {v:.1f}"
                for k, v in sorted(timings.items(), key=lambda kv: -kv[1])
                if k.startswith("enrich_") and k != "enrich_s"
            )
            total, enrich = timings["total_s"], timings["enrich_s"]
            print(
                f"| {round_no} | {label} | {enriched} | {total:.1f} | "
                f"{manifest['command_s']:.1f} | {enrich:.1f} | "
                f"{enriched / total:.1f} | {manifest['cpu_s']:.0f} | {by_enricher} |",
                flush=True,
            )

    def median(label: str, key: str) -> float:
        return statistics.median(
            m[key] if key in ("cpu_s", "command_s") else m["timings"][key] for m in runs[label]
        )

    for label in list(runs)[1:]:
        for key, what in (
            ("total_s", "whole run"),
            ("command_s", "`newsflow run` command, temporary server included"),
            ("enrich_s", "enrich stage"),
            ("cpu_s", "CPU of the process tree"),
        ):
            cheap, every = median("cheap", key), median(label, key)
            print(
                f"{what}: {label} {every:.1f} s / cheap {cheap:.1f} s = {every / cheap:.2f}x "
                "(medians)"
            )
        pairs = zip(runs["cheap"], runs[label], strict=True)
        ratios = [a["timings"]["total_s"] / c["timings"]["total_s"] for c, a in pairs]
        print(f"whole-run ratio per round, {label}: " + ", ".join(f"{r:.2f}x" for r in ratios))


if __name__ == "__main__":
    main()
