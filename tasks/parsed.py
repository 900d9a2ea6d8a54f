"""What a layout's parser returns, shared by every parser (tasks/layouts.py for the
text layouts, tasks/html.py, tasks/feeds.py, tasks/warc.py), so that the parsers build
on this module and tasks/layouts.py, which picks the parser, imports them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.decode import Unreadable
from tasks.unmapped import ColumnCounts

Record = dict[str, Any]
# A record, or the reason it was rejected, at its index in the file.
RecordItem = tuple[int, Record | Unreadable]


@dataclass
class Parsed:
    """What one file yielded: records (dicts of FIELDS) and (index, rule, detail) rejects."""

    layout: str
    records: list[Record] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    # JSON/CSV: per source column no field of the chosen mapping names, its counts.
    unmapped_columns: ColumnCounts = field(default_factory=dict)


def paragraphs(lines: list[str]) -> str:
    """Join lines into paragraphs: blank lines separate them, runs of blanks collapse."""
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return "\n\n".join(blocks)


def field_paragraphs(text: str) -> str:
    """Paragraphs of a body held in one JSON/CSV field.

    Crawlers such as news-please put one paragraph per line with no blank lines
    between; a text that has blank lines uses them as paragraph breaks instead.
    """
    lines = text.split("\n")
    if any(not line.strip() for line in lines[1:-1]):
        return paragraphs(lines)
    return "\n\n".join(line.strip() for line in lines if line.strip())
