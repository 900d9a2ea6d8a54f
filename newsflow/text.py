"""Text rules every stage shares: how a string of names becomes a list of names.

A byline or an author field names several people in one string ("Jane Doe and John
Roe", "A. Lee; B. Kim", "By Jane Doe & Sam Ito"). `split_names` splits it on ",", ";",
"&" and the word "and" (with white space around it, so "Anderson" stays whole), drops a
leading "By", collapses white space and keeps each name once, in the source's order.
"""

from __future__ import annotations

import re

NAME_SEPARATOR = re.compile(r"\s*[,;&]\s*|\s+and\s+", re.IGNORECASE)
_BY_PREFIX = re.compile(r"^(?:by\s*:?\s+)+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def split_names(text: str | None) -> list[str]:
    """The names in `text`, in order, each once; [] for None or a string without one."""
    if not text:
        return []
    names = (
        _BY_PREFIX.sub("", _SPACES.sub(" ", part).strip()) for part in NAME_SEPARATOR.split(text)
    )
    return list(dict.fromkeys(name for name in names if name))
