"""Source columns no field mapping uses: counted per column, judged for text.

A JSON/CSV column that the chosen mapping does not name is not stored. Ids, dates,
URLs and short labels lost so are harmless; a column of running text is most likely
the article itself under a name no mapping knows, and a run that dropped it would
keep only titles. Such a column is a critical failure naming the column, so the user
adds it to `field_mappings` (or lists it under the mapping's `ignore`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# A value this long is running text, not a name, id, date or URL.
TEXT_LIKE_WORDS = 20
# Scripts written without spaces between words: about two characters per word.
TEXT_LIKE_CHARS = 2 * TEXT_LIKE_WORDS
_UNSPACED_SCRIPT = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MISSING = {"", "none", "null", "nan"}

ColumnCounts = dict[str, dict[str, int]]


def is_text_like(value: str) -> bool:
    """Running text: 20 or more words (or 40 characters of a script without spaces)."""
    return (
        len(value.split()) >= TEXT_LIKE_WORDS
        or len(_UNSPACED_SCRIPT.findall(value)) >= TEXT_LIKE_CHARS
    )


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return None if value.strip().lower() in _MISSING else value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return None


def count_values(counts: ColumnCounts, values: Mapping[str, Any]) -> None:
    """Add one record's unmapped `values` to `counts` ({column: {rows, text_like}}).

    `rows` counts records holding a value (not null, not an empty or "None" string).
    """
    for name, value in values.items():
        text = _text(value)
        if value is None or (text is None and isinstance(value, str)):
            continue
        column = counts.setdefault(str(name), {"rows": 0, "text_like": 0})
        column["rows"] += 1
        column["text_like"] += text is not None and is_text_like(text)


def merged(parts: Iterable[ColumnCounts]) -> ColumnCounts:
    """Counts of several files or batches added up per column, sorted by name."""
    total: ColumnCounts = {}
    for part in parts:
        for name, column in part.items():
            into = total.setdefault(name, {"rows": 0, "text_like": 0})
            into["rows"] += column["rows"]
            into["text_like"] += column["text_like"]
    return dict(sorted(total.items()))


def text_like_failures(counts: ColumnCounts) -> list[str]:
    """One line per column whose values are mostly running text (median >= 20 words)."""
    return [
        f"ingest: source column {name!r} holds text ({column['text_like']} of "
        f"{column['rows']} values have {TEXT_LIKE_WORDS}+ words) that no field mapping "
        f"uses; map it (or list it under 'ignore') in the setting field_mappings"
        for name, column in counts.items()
        if 2 * column["text_like"] > column["rows"]
    ]
