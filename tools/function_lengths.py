"""No function in the packages is over MAX_LINES lines (`make lint`).

ruff bounds complexity (C901) and statements (PLR0915) but not length: a long function
of simple steps passes both and still cannot be read on one screen. A function's lines
run from its `def` to its last line, docstring and comments included; nested functions
count inside the function that holds them and are checked on their own as well.

    python -m tools.function_lengths [PATH ...]   # default: the packages
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_LINES = 80
PACKAGES = ("app", "newsflow", "tasks", "flows", "expectations")
# File -> why it may hold longer functions for now. Each entry is temporary.
TEMPORARY_EXEMPTIONS = {
    "flows/pipeline.py": "removed when the thin flow lands (h-flow rewrites the file)",
}


@dataclass(frozen=True)
class LongFunction:
    path: str
    line: int
    name: str
    lines: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name} is {self.lines} lines (> {MAX_LINES})"


def long_functions(source: str, path: str, max_lines: int = MAX_LINES) -> Iterator[LongFunction]:
    """The functions and methods of `source` longer than `max_lines`, in file order."""
    nodes = ast.walk(ast.parse(source, filename=path))
    functions = [n for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for node in sorted(functions, key=lambda n: n.lineno):
        lines = (node.end_lineno or node.lineno) - node.lineno + 1
        if lines > max_lines:
            yield LongFunction(path, node.lineno, node.name, lines)


def python_files(paths: Sequence[str]) -> Iterator[Path]:
    for path in map(Path, paths):
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(argv if argv is not None else sys.argv[1:]) or list(PACKAGES)
    found = [
        function
        for file in python_files(paths)
        if file.as_posix() not in TEMPORARY_EXEMPTIONS
        for function in long_functions(file.read_text(encoding="utf-8"), file.as_posix())
    ]
    for function in found:
        print(function)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
