"""tools/function_lengths.py: the line limit `make lint` puts on every function."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.function_lengths import MAX_LINES, long_functions, main


def function_of(lines: int, name: str = "f", indent: str = "") -> str:
    """Source of a function exactly `lines` lines long (its `def` line included)."""
    body = [f"{indent}    x = {i}\n" for i in range(lines - 1)]
    return f"{indent}def {name}() -> None:\n" + "".join(body)


def test_a_function_one_line_over_the_limit_is_caught() -> None:
    source = function_of(MAX_LINES) + "\n\n" + function_of(MAX_LINES + 1, "long")
    [found] = long_functions(source, "m.py")
    assert (found.name, found.lines, found.line) == ("long", MAX_LINES + 1, MAX_LINES + 3)
    assert str(found) == f"m.py:{MAX_LINES + 3}: long is {MAX_LINES + 1} lines (> {MAX_LINES})"


def test_methods_async_and_nested_functions_are_measured() -> None:
    method = "class C:\n" + function_of(MAX_LINES + 1, "method", indent="    ")
    nested = "async def outer() -> None:\n" + function_of(MAX_LINES + 2, "inner", indent="    ")
    found = list(long_functions(method + "\n" + nested, "m.py"))
    assert [(f.name, f.lines) for f in found] == [
        ("method", MAX_LINES + 1),
        ("outer", MAX_LINES + 3),
        ("inner", MAX_LINES + 2),
    ]


@pytest.mark.parametrize("extra", [0, 1])
def test_main_fails_only_when_a_file_holds_a_long_function(
    tmp_path: Path, extra: int, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(function_of(MAX_LINES + extra, "stage"))
    assert main([str(tmp_path / "pkg")]) == extra
    assert ("stage is" in capsys.readouterr().out) == bool(extra)
