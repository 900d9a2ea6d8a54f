"""How often a run's long stages said where they were: read a `newsflow run` log.

Usage (from the repository root):

    .venv/bin/newsflow run --input /work/shared/corpus/bbc_fulltext/raw \\
        --lake /tmp/nf/bbc-lake 2>&1 | tee /tmp/nf/bbc-run.log
    .venv/bin/python benchmarks/progress_gaps.py /tmp/nf/bbc-run.log

Per stage with progress lines (clean, enrich): the number of lines, the seconds from
the line before the stage (its start) to the first, the shortest and longest gap
between lines (the contract: never under 10 s, never over 60 s) and whether every
line carried an ETA.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

STAMP = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) \| \w+\s+\| (.*)$")
LINE = re.compile(r"- (clean|enrich): [\d,]+/[\d,]+ \w+ \(\d+ %\)")


def seconds(stamp: str) -> float:
    t = dt.datetime.strptime(stamp, "%H:%M:%S.%f")
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    args = parser.parse_args()
    previous: float | None = None
    stages: dict[str, list[tuple[float, str]]] = {}
    starts: dict[str, float] = {}
    for raw in args.log.read_text(encoding="utf-8").splitlines():
        match = STAMP.match(raw)
        if not match:
            continue
        at, text = seconds(match.group(1)), match.group(2)
        line = LINE.search(text)
        if line:
            stage = line.group(1)
            if stage not in stages and previous is not None:
                starts[stage] = previous
            stages.setdefault(stage, []).append((at, text))
        elif "- dedupe: " in text or "- clean: " in text:
            previous = at  # the stage before enrich ends with these lines
    for stage, lines in stages.items():
        times = [t for t, _ in lines]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        first = times[0] - starts[stage] if stage in starts else float("nan")
        with_eta = sum(bool(re.search(r"ETA \d", text)) for _, text in lines)
        print(
            f"{stage}: {len(lines)} lines, first {first:.1f} s after the stage began, "
            f"gaps {min(gaps, default=0):.1f}-{max(gaps, default=0):.1f} s, "
            f"{with_eta}/{len(lines)} with an ETA"
        )


if __name__ == "__main__":
    main()
