"""newsflow against datatrove's closest pipeline, same JSONL corpus, same 2 cores, one run.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.datatrove_compare --n 10000 [--rounds 2] \
        [--work /tmp/nf/dt] [--venv /tmp/datatrove-venv] [--code /tmp/nf/after] \
        [--api-url http://127.0.0.1:4299/api] [--enrichers cheap]

The peer runs in its own virtual environment, made here when missing (`python3 -m
venv` + `pip install "datatrove[processing]" spacy orjson`: datatrove's English word
tokenizer is spaCy's); nothing of it touches the project's `.venv`. The corpus is
`synth_corpus.py --layouts jsonl --feed-size 100` (generic fields title, date, url,
body; 30 % duplicates), read by both.

datatrove's pipeline, as its FineWeb and MinHash examples chain it, on
`LocalPipelineExecutor(workers=2)`:

1. `JsonlReader(text_key="body")` -> `FTFYFormatter` -> `GopherRepetitionFilter` ->
   `GopherQualityFilter` -> `FineWebQualityFilter` -> `JsonlWriter` (the filtered
   documents) -> `MinhashDedupSignature` (5-grams, 32 buckets x 4 hashes = 128, as
   newsflow's LSH);
2. `MinhashDedupBuckets` (one task per bucket); 3. `MinhashDedupCluster`;
4. `JsonlReader` of the filtered documents -> `MinhashDedupFilter` -> `JsonlWriter`.

(No language filter: datatrove's downloads its fastText model at run time, offline
here.) newsflow does more per document (dates, URLs, boilerplate rules, exact +
sentence-set + verified near-duplicate dedupe with merged records, Parquet per stage,
enrichers), so the comparison is generous to the peer. Each round runs newsflow, then
datatrove, as subprocesses watched by `scale_bench.TreeMonitor` (wall time, CPU
seconds, peak RSS of the process tree); the ratio is quoted per round.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, record
from benchmarks.scale_bench import TreeMonitor, pipeline_command, prefect_env

PEER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.filters import (
        FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    )
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    def main(docs, out, tasks, workers):
        config = MinhashConfig(n_grams=5, num_buckets=32, hashes_per_bucket=4)
        read = dict(text_key="body", id_key="url", glob_pattern="**/*.jsonl*")
        common = dict(workers=workers, skip_completed=False)
        stage1 = LocalPipelineExecutor(
            [
                JsonlReader(docs, **read),
                FTFYFormatter(),
                GopherRepetitionFilter(),
                GopherQualityFilter(),
                FineWebQualityFilter(),
                JsonlWriter(f"{out}/filtered"),
                MinhashDedupSignature(f"{out}/signatures", config=config),
            ],
            tasks=tasks, logging_dir=f"{out}/logs/1", **common,
        )
        stage2 = LocalPipelineExecutor(
            [MinhashDedupBuckets(f"{out}/signatures", f"{out}/buckets", config=config)],
            tasks=config.num_buckets, logging_dir=f"{out}/logs/2", depends=stage1, **common,
        )
        stage3 = LocalPipelineExecutor(
            [MinhashDedupCluster(f"{out}/buckets", f"{out}/remove_ids", config=config)],
            tasks=1, logging_dir=f"{out}/logs/3", depends=stage2, **common,
        )
        stage4 = LocalPipelineExecutor(
            [
                JsonlReader(f"{out}/filtered", glob_pattern="*.jsonl*"),
                MinhashDedupFilter(f"{out}/remove_ids"),
                JsonlWriter(f"{out}/deduped"),
            ],
            tasks=tasks, logging_dir=f"{out}/logs/4", depends=stage3, **common,
        )
        started = time.perf_counter()
        stage4.run()
        print("datatrove pipeline s", round(time.perf_counter() - started, 2))

    if __name__ == "__main__":
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    """
)


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "datatrove[processing]",
                "spacy",
                "orjson",
            ],
            check=True,
        )
    return python


def jsonl_corpus(work: Path, n: int, seed: int) -> Path:
    out = work / f"jsonl-{n}"
    if not (out / "synth_info.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(
            [str(REPO / ".venv" / "bin" / "python"), "-m", "benchmarks.synth_corpus"]
            + ["--n", str(n), "--out", str(out), "--seed", str(seed)]
            + ["--layouts", "jsonl", "--feed-size", "100"],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
    return out / "docs"


def watched(command: list[str], cwd: Path, env: dict[str, str] | None, log: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        monitor = TreeMonitor(proc.pid)
        while proc.poll() is None:
            monitor.poll()
            time.sleep(0.25)
    if proc.returncode:
        raise RuntimeError(f"{command[:3]} exited {proc.returncode}; see {log}")
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(monitor.cpu_s, 2),
        "peak_rss_mb": round(monitor.peak_rss / 2**20, 1),
    }


def count_jsonl(folder: Path) -> int:
    import gzip

    total = 0
    for path in folder.rglob("*.jsonl*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            total += sum(1 for _ in fh)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nf/dt"))
    parser.add_argument("--venv", type=Path, default=Path("/tmp/datatrove-venv"))
    parser.add_argument("--code", type=Path, default=None)
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--enrichers", default="cheap")
    parser.add_argument("--batch-size", type=int, default=5, help="files (of 100 records)")
    parser.add_argument("--tasks", type=int, default=8, help="datatrove tasks in stages 1 and 4")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--commit",
        default=None,
        help="the commit of --code (a git archive has no .git); default: asked of git",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="default: benchmarks/results/datatrove_compare.json",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    peer_python = ensure_venv(args.venv)
    peer_version = subprocess.run(
        [
            str(peer_python),
            "-c",
            "from importlib.metadata import version; print(version('datatrove'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    docs = jsonl_corpus(args.work, args.n, args.seed)
    raw_mb = sum(p.stat().st_size for p in docs.rglob("*") if p.is_file()) / 1e6
    script = args.work / "datatrove_pipeline.py"
    script.write_text(PEER_SCRIPT)
    env = prefect_env(args.work, args.api_url, args.code)

    rounds = []
    for i in range(args.rounds):
        lake, peer_out = args.work / "lake", args.work / "datatrove-out"
        shutil.rmtree(lake, ignore_errors=True)
        shutil.rmtree(peer_out, ignore_errors=True)
        ours = watched(
            pipeline_command(docs, lake, args.enrichers, args.batch_size, args.code),
            args.code or REPO,
            env,
            args.work / f"newsflow-{i}.log",
        )
        manifest = json.loads(sorted((lake / "runs").glob("*.json"))[-1].read_text())
        ours |= {"docs_in": manifest["counts"]["records_in"], "kept": manifest["counts"]["deduped"]}
        peer = watched(
            [str(peer_python), str(script), str(docs), str(peer_out), str(args.tasks), "2"],
            args.work,
            None,
            args.work / f"datatrove-{i}.log",
        )
        peer |= {"docs_in": args.n, "kept": count_jsonl(peer_out / "deduped")}
        for side in (ours, peer):
            side["docs_per_s"] = round(side["docs_in"] / side["wall_s"], 1)
            side["ms_cpu_per_doc"] = round(1000 * side["cpu_s"] / side["docs_in"], 3)
        row = {
            "round": i,
            "newsflow": ours,
            "datatrove": peer,
            "throughput_ratio": round(ours["docs_per_s"] / peer["docs_per_s"], 3),
            "cpu_per_doc_ratio": round(peer["ms_cpu_per_doc"] / ours["ms_cpu_per_doc"], 3),
        }
        rounds.append(row)
        print(json.dumps(row), flush=True)
    result = {
        "n": args.n,
        "raw_mb": round(raw_mb, 2),
        "enrichers": args.enrichers,
        "datatrove_version": peer_version,
        "rounds": rounds,
    }
    path = record(
        "datatrove_compare", result, commit=args.commit, code=args.code, results=args.results
    )
    print("recorded in", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
