"""Which fields do the built-in field mappings fill on real JSON/CSV corpora?

Usage (from the repository root, after `make setup`):

    .venv/bin/python -m evals.mapping_check [CORPUS_DIR ...]

Defaults to ../shared/corpus/newsplease_5w1h and ../shared/corpus/dragnet_meta (from
/work/main; pass the folders from a worktree). Each file goes through `read_file`, the
code ingest runs. Prints per corpus: records, rejects by rule, how many records each
field is filled for, the mapping each record was read with, the source columns no
mapping uses ({rows, text_like}) and the critical failures a run would stop on. A
change of mapping shows here as a shift between fields or mappings.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from newsflow.config import BUILTIN_FIELD_MAPPINGS, PipelineConfig
from tasks.decode import Unreadable
from tasks.ingest import read_file
from tasks.layouts import best_mapping, compiled
from tasks.unmapped import ColumnCounts, merged, text_like_failures

REPO = Path(__file__).resolve().parents[1]
CORPORA = [REPO.parent / "shared" / "corpus" / name for name in ("newsplease_5w1h", "dragnet_meta")]


def chosen_mapping(obj: dict[str, object]) -> str:
    """The name of the built-in mapping `mapped_record` reads `obj` with."""
    keys = {str(k).strip().lower(): k for k in obj}
    _, chosen = best_mapping(obj, keys, compiled(list(BUILTIN_FIELD_MAPPINGS.values())))
    return next(name for name, m in BUILTIN_FIELD_MAPPINGS.items() if m is chosen.mapping)


def check(corpus: Path) -> None:
    mappings = PipelineConfig().mappings()
    filled: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    chosen: Counter[str] = Counter()
    unmapped: list[ColumnCounts] = []
    records = 0
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in {".json", ".jsonl", ".csv"}):
        try:
            parsed, _ = read_file(path, 1 << 30, mappings)
        except Unreadable as exc:
            rejects[f"file: {exc.rule}"] += 1
            continue
        unmapped.append(parsed.unmapped_columns)
        rejects.update(rule for _, rule, _ in parsed.rejects)
        rejected = {index for index, _, _ in parsed.rejects}
        for index, record in enumerate(parsed.records):
            if index in rejected:
                continue
            records += 1
            filled.update(k for k, v in record.items() if v not in (None, []))
        if parsed.layout == "json":
            data = json.loads(path.read_text(encoding="utf-8"))
            objects = data if isinstance(data, list) else [data]
            chosen.update(chosen_mapping(obj) for obj in objects if isinstance(obj, dict))
    columns = merged(unmapped)
    print(f"## {corpus.name}: {records} records")
    print(f"rejects: {dict(rejects.most_common())}")
    print(f"fields filled: {dict(filled.most_common())}")
    print(f"mapping chosen (JSON files): {dict(chosen.most_common())}")
    print(f"unmapped columns: {columns}")
    print(f"critical: {text_like_failures(columns) or 'none'}")
    print()


def main(argv: list[str]) -> int:
    for corpus in [Path(a) for a in argv] or CORPORA:
        check(corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
