"""A source's author and tag fields -> lists of names, as every layout stores them.

Sources write authors as one string ("Jane Doe and John Roe", "A. Lee; B. Kim",
"By Jane Doe") or as a list (news-please, newspaper, NewsData.io). Both become a
list of names in the source's order, each name as written apart from:

* a leading "By " (or "By:") is dropped: it is the byline's furniture, not a name;
* runs of whitespace become one space, and the ends are trimmed;
* a repeated name is kept once (first place wins).

A part that only names a role ("Jane Doe, Staff Writer", "John Roe, Reuters
correspondent") stays attached to the name before it: splitting there would turn
a job title into an author, and dropping it would lose what the source said.
"Doe, Jane" (surname first) cannot be told from two one-word names and splits.
"""

from __future__ import annotations

import re
from typing import Any

# ", " ";" "&" and the word "and" between names; "and" only with whitespace around it,
# so "Anderson" and "Sandy" stay whole.
AUTHOR_SEPARATOR = re.compile(r"\s*[,;&]\s*|\s+and\s+", re.IGNORECASE)
_BY_PREFIX = re.compile(r"^(?:by\s*:?\s+)+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# Words that make a comma-separated part a role or an affiliation, not a person.
ROLE_WORDS = frozenset(
    [
        "writer",
        "reporter",
        "editor",
        "correspondent",
        "contributor",
        "columnist",
        "staff",
        "journalist",
        "producer",
        "analyst",
        "photographer",
        "intern",
        "critic",
        "author",
        "anchor",
        "bureau",
        "chief",
        "senior",
        "deputy",
        "associate",
        "managing",
        "contributing",
        "special",
        # Credentials and suffixes: "Grant Tinsley, PhD", "Perry Bacon, Jr."
        "phd",
        "md",
        "mba",
        "msc",
        "jr",
        "sr",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")
_TAG_SEPARATOR = re.compile(r"\s*[,;]\s*")


def _is_role(part: str) -> bool:
    words = {w.casefold() for w in _WORD.findall(part)}
    return bool(words & ROLE_WORDS)


def _name(part: str) -> str:
    return _BY_PREFIX.sub("", _SPACES.sub(" ", part).strip())


def _split_one(text: str) -> list[str]:
    names: list[str] = []
    position, after_comma = 0, False
    for match in [*AUTHOR_SEPARATOR.finditer(text), None]:
        part = _name(text[position : match.start() if match else len(text)])
        if part and names and after_comma and _is_role(part):
            names[-1] = f"{names[-1]}, {part}"  # "Jane Doe, Staff Writer" is one author
        elif part:
            names.append(part)
        if match:
            position, after_comma = match.end(), match.group().strip() == ","
    return names


def author_names(value: Any) -> list[str]:
    """The names in an author field: a string, or a list whose strings are split too."""
    parts = value if isinstance(value, list) else [value]
    names: list[str] = []
    for part in parts:
        if isinstance(part, str):
            names += _split_one(part)
    return list(dict.fromkeys(names))


def tag_list(value: Any) -> list[str]:
    """Tags or keywords from a list or a comma/semicolon-separated string, in order, once."""
    parts = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for part in parts:
        if isinstance(part, str):
            tags += [_SPACES.sub(" ", t).strip() for t in _TAG_SEPARATOR.split(part)]
    return list(dict.fromkeys(t for t in tags if t))
