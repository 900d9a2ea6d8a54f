"""counts_v2: characters, words, sentences, paragraphs and reading time, in pure polars.

Words are those of `newsflow/text_rules.py`, the pipeline's one rule: whitespace-separated
tokens holding a letter or digit ("don't", "U.S.", "COVID-19" and "(IANS)" are one
word each; a lone dash is none), and in scripts written without spaces (Chinese,
Japanese, Thai, ...) each letter. Sentences are approximate: runs of `.`, `!`, `?` or
`…` followed by a capital, a digit or the end, minus common abbreviations and initials
("Mr. Smith", "U.S. President"), plus each 。！？, plus paragraphs that end without
punctuation (a heading or a caption is one sentence).

Everything is counted on `readable_body`: a truncated teaser without its marker
("[+4047 chars]") and its cut-off last word.

counts_v2 (from counts_v1): letters of unspaced scripts are words (counts_v1 counted
a Japanese article of 1,000 characters as 18 words), 。！？ end sentences, and a
truncated body is counted without its marker.
"""

from __future__ import annotations

import polars as pl

from newsflow.schema import Column
from newsflow.text_rules import ABBREVIATED_MONTHS, word_count
from tasks.enrichers import Enricher
from tasks.truncation import readable_body

NAME = "counts_v2"

# Brysbaert (2019), a meta-analysis of 190 studies: adults read English non-fiction
# silently at about 238 words per minute. Chinese readers read about 255 characters a
# minute (Trauzettel-Klosinski & Dietz 2012, IReST), so the same rate serves a letter count.
WORDS_PER_MINUTE = 238

_CLOSERS = "\"'”’)\\]"
_CJK_SENTENCE_END = r"[。！？][」』”’）)]*"
_SENTENCE_END = rf"[.!?…]+[{_CLOSERS}]*(?:\s+[\"'“‘(\[]?[\p{{Lu}}\p{{N}}]|\s*$)"
# "May." is the whole name, and may end a sentence.
_MONTHS_ABBREVIATED = "|".join(m for m in ABBREVIATED_MONTHS if m != "May")
_ABBREVIATION = (
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Rev|No|vs|"
    rf"{_MONTHS_ABBREVIATED}|\p{{Lu}})\.\s+[\p{{Lu}}\p{{N}}]"
)
# A paragraph whose last character is not sentence-final punctuation.
_UNTERMINATED = rf"[^.!?…。！？」』）{_CLOSERS}\s][ \t]*(?:\n\n|$)"
_PARAGRAPH = r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*"


def sentence_count(body: pl.Expr) -> pl.Expr:
    ends = body.str.count_matches(_SENTENCE_END) - body.str.count_matches(_ABBREVIATION)
    return (
        ends.clip(lower_bound=0)
        + body.str.count_matches(_CJK_SENTENCE_END)
        + body.str.count_matches(_UNTERMINATED)
    ).cast(pl.Int64)


def counts_v2(frame: pl.DataFrame) -> pl.DataFrame:
    body = readable_body(pl.col("body"), pl.col("body_truncated")).fill_null("")
    words = word_count(body)
    return frame.select(
        char_count=body.str.len_chars().cast(pl.Int64),
        word_count=words,
        sentence_count=sentence_count(body),
        paragraph_count=body.str.count_matches(_PARAGRAPH).cast(pl.Int64),
        reading_time_min=(words / WORDS_PER_MINUTE).round(2),
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "char_count",
            pl.Int64(),
            "Characters in body; a truncated body without its marker and cut-off last word "
            "(counts_v2)",
        ),
        Column(
            "word_count",
            pl.Int64(),
            "Words in body: whitespace-separated tokens holding a letter or digit, and each "
            "letter of a script written without spaces (Chinese, Japanese, Thai); a truncated "
            "body without its marker and cut-off last word (newsflow/text_rules.py) (counts_v2)",
        ),
        Column(
            "sentence_count",
            pl.Int64(),
            "Sentences in body, approximate: sentence-final punctuation before a capital or "
            "the end, less abbreviations, plus 。！？ and unpunctuated paragraphs (counts_v2)",
        ),
        Column(
            "paragraph_count",
            pl.Int64(),
            "Paragraphs in body (counts_v2)",
        ),
        Column(
            "reading_time_min",
            pl.Float64(),
            "word_count / 238 words (or CJK characters) per minute (Brysbaert 2019), in "
            "minutes (counts_v2)",
        ),
    ),
    add=counts_v2,
    position=10,
    replaces=("counts_v1",),
)
