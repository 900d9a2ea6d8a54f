"""keywords_v1: the body's top key phrases (YAKE), in the body's language.

YAKE scores candidate phrases from statistics of the document alone (position,
frequency, case, spread over sentences, context), so it needs no corpus and no
model, and an article's keywords never depend on the batch it came in. It uses the
stop-word list bundled for the body's language (its language-independent list
otherwise). Phrases of one or two words: with three, YAKE's list fills with
fragments such as "blamed high fuel". YAKE's own de-duplication (string similarity)
lets "Joe Biden", "President Joe" and "Biden" through together, so a phrase is
dropped when half its words are already in a better one; month and weekday names
(the dateline's "Dec") are dropped too. Phrases are kept as written, best first.
Only the first `MAX_CHARS` characters are read: YAKE's cost grows with the text and
a news article states its subject early. YAKE is pure Python: it runs in worker
processes (`tasks/enrichers/workers.py`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from tasks.enrichers.language import languages_of
from tasks.enrichers.workers import map_chunks
from tasks.truncation import readable_body

if TYPE_CHECKING:
    import yake

NAME = "keywords_v1"
COLUMNS = ("keywords",)
TOP = 10
MAX_NGRAM = 2
MAX_CHARS = 20_000
_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
# Month and weekday names and their abbreviations ("Dec", "Sept", "Tue").
_CALENDAR = frozenset(
    [form for name in f"{_MONTHS} {_DAYS}".split() for form in (name, name[:3])]
    + ["sept", "tues", "thur", "thurs"]
)


@cache
def extractor(language: str) -> yake.KeywordExtractor:
    import yake  # ~0.2 s per process: imported only where keywords are extracted

    # Candidates to spare for the overlap filter; 0.99 keeps YAKE's own filter to
    # near-identical strings (at 1.0 YAKE returns its lower-cased keys instead).
    return yake.KeywordExtractor(lan=language, n=MAX_NGRAM, top=TOP * 4, dedup_lim=0.99)


def keywords(text: str, language: str | None) -> list[str]:
    if not text.strip():
        return []
    phrases: list[str] = []
    taken: list[set[str]] = []
    for phrase, _score in extractor(language or "en").extract_keywords(text[:MAX_CHARS]):
        words = set(phrase.casefold().split())
        if words <= _CALENDAR or any(2 * len(words & t) >= len(words) for t in taken):
            continue
        phrases.append(phrase)
        taken.append(words)
        if len(phrases) == TOP:
            break
    return phrases


def keyword_rows(rows: list[tuple[str, str | None]]) -> list[list[str]]:
    """Keywords of each (body, language) pair (what a worker process computes for a chunk)."""
    return [keywords(body, language) for body, language in rows]


def keywords_v1(frame: pl.DataFrame) -> pl.DataFrame:
    # Only the characters YAKE reads travel to the worker processes; never a truncation
    # marker ("chars" of "[+4047 chars]") or a cut-off last word.
    body = readable_body(pl.col("body"), pl.col("body_truncated"))
    bodies = frame.select(body.fill_null("").str.slice(0, MAX_CHARS)).to_series().to_list()
    pairs = list(zip(bodies, languages_of(frame).to_list(), strict=True))
    return pl.DataFrame(
        {"keywords": map_chunks(keyword_rows, pairs)}, schema={"keywords": pl.List(pl.String)}
    )
