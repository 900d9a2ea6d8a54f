"""Boilerplate rules: named, versioned patterns that remove whole paragraphs.

A rule's name is written next to every paragraph it removes (`removed_lines`), so a
reader can audit or undo any removal. A rule matches site furniture, never a line
for being short, so datelines and quotes survive.
"""

from __future__ import annotations

import polars as pl

# Comment-section disclaimers: the legal and moderation notices publishers print
# under their comment forms ("sending false messages ... is punishable under law").
COMMENT_DISCLAIMER_V1 = "|".join(
    [
        r"\bsending (?:false|offensive|abusive|obscene) (?:messages|comments)\b.{0,200}"
        r"\b(?:punishable|at your own risk|held responsible)\b",
        r"\bplease write your correct name(?: and email)?",
        r"\bkindly do not post any (?:personal|abusive|defamatory)",
        r"\b(?:will|shall) not be (?:held )?responsible for any (?:defamatory|offensive|abusive)",
        r"\bin no way will \S+ be held responsible\b",
        r"\bobligatory on \S+ to provide the ip address\b",
        r"\bcomments? (?:are|is) (?:moderated|subject to moderation)\b",
        r"\bviews expressed in (?:the )?comments\b",
    ]
)

RULES: dict[str, str] = {
    "comment_disclaimer_v1": COMMENT_DISCLAIMER_V1,
}


def matching_rule(paragraph: pl.Expr) -> pl.Expr:
    """The name of the first rule that matches the paragraph, or null to keep it."""
    expr = pl.lit(None, dtype=pl.String)
    for name, pattern in reversed(RULES.items()):
        expr = pl.when(paragraph.str.contains(f"(?i){pattern}")).then(pl.lit(name)).otherwise(expr)
    return expr
