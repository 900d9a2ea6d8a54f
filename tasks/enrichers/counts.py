"""counts_v1: characters, words, sentences, paragraphs and reading time, in pure polars.

Words are whitespace-separated tokens holding a letter or digit ("don't", "U.S.",
"COVID-19" and "(IANS)" are one word each; a lone dash is none), the way word
processors and reading-speed studies count them. Sentences are approximate: runs of
`.`, `!`, `?` or `…` followed by a capital, a digit or the end, minus common
abbreviations and initials ("Mr. Smith", "U.S. President"), plus paragraphs that end
without punctuation (a heading or a caption is one sentence).
"""

from __future__ import annotations

import polars as pl

NAME = "counts_v1"
COLUMNS = ("char_count", "word_count", "sentence_count", "paragraph_count", "reading_time_min")

# Brysbaert (2019), a meta-analysis of 190 studies: adults read English non-fiction
# silently at about 238 words per minute.
WORDS_PER_MINUTE = 238

WORD = r"\S*[\p{L}\p{N}]\S*"
_CLOSERS = "\"'”’)\\]"
_SENTENCE_END = rf"[.!?…]+[{_CLOSERS}]*(?:\s+[\"'“‘(\[]?[\p{{Lu}}\p{{N}}]|\s*$)"
_ABBREVIATION = (
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Rev|No|vs|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|\p{Lu})\.\s+[\p{Lu}\p{N}]"
)
# A paragraph whose last character is not sentence-final punctuation.
_UNTERMINATED = rf"[^.!?…{_CLOSERS}\s][ \t]*(?:\n\n|$)"
_PARAGRAPH = r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*"


def word_count(body: pl.Expr) -> pl.Expr:
    return body.str.count_matches(WORD).cast(pl.Int64)


def sentence_count(body: pl.Expr) -> pl.Expr:
    ends = body.str.count_matches(_SENTENCE_END) - body.str.count_matches(_ABBREVIATION)
    return (ends.clip(lower_bound=0) + body.str.count_matches(_UNTERMINATED)).cast(pl.Int64)


def counts_v1(frame: pl.DataFrame) -> pl.DataFrame:
    body = pl.col("body").fill_null("")
    words = word_count(body)
    return frame.select(
        char_count=body.str.len_chars().cast(pl.Int64),
        word_count=words,
        sentence_count=sentence_count(body),
        paragraph_count=body.str.count_matches(_PARAGRAPH).cast(pl.Int64),
        reading_time_min=(words / WORDS_PER_MINUTE).round(2),
    )
