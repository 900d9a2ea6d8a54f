"""Dedupe alone, before and after a change: `dedupe.fn` on a copy of a lake's `cleaned/`.

Usage (from the repository root):

    .venv/bin/python benchmarks/dedupe_alone.py LAKE CODE_DIR[,CODE_DIR...] [--rounds 2]

Each run copies `LAKE/cleaned` into a fresh lake and runs the dedupe task's function
from one code directory (`git archive` of a commit) in a fresh interpreter, so each
commit's own modules are imported. The code directories take turns, in alternating
order per round. Prints one JSON line per run: dedupe's seconds, the seconds spent in
`write_outputs` (rewriting deduped/ and duplicates/), and the row counts, which must
agree between commits.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WORK_DIR = "_work"  # newsflow.lake.WORK_DIR; not imported: the code under test may predate it

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
try:  # the phases of tasks/dedupe_stage.py, or the one dedupe task before them
    import tasks.dedupe_stage as dedupe_lake
    dedupe = lambda lake, run: dedupe_lake.run_dedupe(lake, run, submit=False)
except ImportError:
    import tasks.dedupe_lake as dedupe_lake
    dedupe = dedupe_lake.dedupe.fn
spent = {"write_outputs": 0.0}
write_outputs = dedupe_lake.write_outputs
def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return write_outputs(*args, **kwargs)
    finally:
        spent["write_outputs"] += time.perf_counter() - started
dedupe_lake.write_outputs = timed
started = time.perf_counter()
out = dedupe(sys.argv[2], "dedupe-alone")
print(json.dumps({
    "dedupe_s": round(time.perf_counter() - started, 2),
    "write_outputs_s": round(spent["write_outputs"], 2),
    "deduped": out["deduped"],
    "duplicates": out["duplicates"],
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("codes", help="code directories, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    codes = args.codes.split(",")
    for round_ in range(args.rounds):
        for code in codes if round_ % 2 == 0 else codes[::-1]:
            with tempfile.TemporaryDirectory(prefix="dedupe-alone-") as tmp:
                # cleaned/ in the working copy (_work/, since the Delta tables), linked
                # where code from before them looks for it too.
                work = args.lake / WORK_DIR if (args.lake / WORK_DIR).is_dir() else args.lake
                shutil.copytree(work / "cleaned", Path(tmp) / WORK_DIR / "cleaned")
                (Path(tmp) / "cleaned").symlink_to(Path(tmp) / WORK_DIR / "cleaned")
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, code, tmp],
                    cwd=code,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            result = json.loads(done.stdout.splitlines()[-1])
            print(json.dumps({"code": code, "round": round_, **result}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
