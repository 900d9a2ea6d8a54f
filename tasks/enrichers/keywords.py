"""keywords_v2: the article's key phrases, from the article alone and a fixed word list.

A phrase is one word, or two adjacent words, with nothing but a space between them
(no punctuation, digit or line break), no stop word at either edge, letters only
(inner hyphens and apostrophes allowed; a possessive "'s" ends the phrase). Words
of one letter, month and weekday names are never phrase edges.

Each phrase scores  sum(weight of each occurrence) * sum(rarity of its words):

* weight: 3 in the title, 2 in the lead (the body's first `LEAD_CHARS` characters),
  1 after it: the title and lead state what an article is about.
* rarity: how unlikely the word is to appear in any article of `DOC_WORDS` words,
  from wordfreq's fixed table of word frequencies (p) for the body's language:
  -ln(1 - exp(-DOC_WORDS * p)). "said" (p 1e-3) ~0.9, "minister" ~3, a word wordfreq
  never saw (p taken as `UNSEEN`) ~9.9. A language wordfreq lacks gets the same rarity
  for every word, so frequency and position alone decide.
* A name of two capitalised words ("Margaret Holloway") also counts the later
  mentions of its last word alone ("Holloway said"); any other two-word phrase must
  occur twice.

Best first, a phrase is dropped when half its words are in a better one ("Holloway"
after "Margaret Holloway"); the first `TOP` are kept, each in its most frequent
written form. Stop words: spaCy's list for the language and wordfreq's words of
p >= `STOP_P`; an acronym in capitals ("US", "IT") is not a stop word. Scripts written
without spaces (Chinese, Japanese, Thai, …) get no keywords.

Nothing depends on the other documents of a batch or on the machine: the same
article gets the same keywords in any batch and on any runner. A truncated body
(`body_truncated`) loses its marker ("[+1197 chars]", a trailing "…") and its
cut-off last word first. Pure Python (~1 ms per BBC article), run in worker
processes (`tasks/enrichers/workers.py`); wordfreq loads once per process.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache

import polars as pl

from tasks.enrichers.language import languages_of
from tasks.enrichers.quality import UNSPACED_LANGUAGES, stop_words
from tasks.enrichers.workers import map_chunks

NAME = "keywords_v2"
COLUMNS = ("keywords",)
PACKAGES = ("wordfreq",)
TOP = 10
BODY_CHARS = 20_000
LEAD_CHARS = 400
DOC_WORDS = 500
UNSEEN = 1e-7
STOP_P = 1e-3
TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
# A rarity for every word where wordfreq has no table for the language.
FLAT_RARITY = 5.0

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
# Month and weekday names and their abbreviations ("Dec", "Sept", "Tue").
CALENDAR = frozenset(
    [form for name in f"{_MONTHS} {_DAYS}".split() for form in (name, name[:3])]
    + ["sept", "tues", "thur", "thurs"]
)
# Titles before a name ("Mr Blair"): not part of a key phrase, in any language.
HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "messrs"})
# Lower-case words inside a name: "Bank of England", "Rio de Janeiro".
CONNECTORS = frozenset(
    {
        "of",
        "for",
        "de",
        "da",
        "di",
        "do",
        "du",
        "des",
        "del",
        "la",
        "le",
        "von",
        "van",
        "der",
        "den",
    }
)
NAME_WORDS = 5
_CONTRACTION = re.compile(r"['’](?:ve|re|ll|d|m|t)$")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")
# What a feed appends to a cut body: "… [+1197 chars]", "…", "...", "Read more".
_CHAR_COUNT_MARKER = re.compile(r"\s*\[\+\d+ chars?\]")
_TRAILING_MARKER = re.compile(
    r"(?:\s*(?:\.\.\.|…|\[…\]|\[\.\.\.\]|(?i:read more|continue reading)\W*))+\s*$"
)


def readable_body(body: str, truncated: bool) -> str:
    """The body without what a source appended when it cut it, and, when it was cut
    (`truncated`), without its last word, which may be a fragment ("the governm…")."""
    text = _TRAILING_MARKER.sub("", _CHAR_COUNT_MARKER.sub("", body))
    if truncated:
        text = re.sub(r"\s*\S+$", "", text)
    return text


@dataclass(frozen=True)
class Vocabulary:
    """What a language contributes: its stop words and each word's rarity."""

    stop: frozenset[str]
    frequency: dict[str, float]

    def rarity(self, key: str) -> float:
        if not self.frequency:
            return FLAT_RARITY
        p = self.frequency.get(key)
        if p is None and "-" in key:  # "anti-terror": as rare as its rarest part
            p = min(self.frequency.get(part, UNSEEN) for part in key.split("-"))
        return -math.log(-math.expm1(-DOC_WORDS * (p or UNSEEN)))


@cache
def vocabulary(language: str) -> Vocabulary:
    import wordfreq  # ~0.2 s per process: imported only where keywords are extracted

    frequency = (
        wordfreq.get_frequency_dict(language, "small")
        if language in wordfreq.available_languages("small")
        else {}
    )
    common = {word for word, p in frequency.items() if p >= STOP_P}
    return Vocabulary(stop_words(language) | common | HONORIFICS, frequency)


def background() -> object:
    """Load English's table (what a worker process warms up with)."""
    return vocabulary("en")


@dataclass(frozen=True)
class _Token:
    key: str
    form: str
    weight: float
    capitalised: bool
    sentence_start: bool
    in_title: bool


def _chunks(title: str, body: str) -> list[list[_Token]]:
    """Runs of words with only spaces between them, from the title and the body.

    A word glued to a digit ("bn" of "1.13bn", "year-old" of "28-year-old") is no word.
    """
    chunks: list[list[_Token]] = []
    for text, in_title in ((title, True), (body, False)):
        chunk: list[_Token] = []
        end = 0
        for match in _WORD.finditer(text):
            start, gap = match.start(), text[end : match.start()]
            sentence_start = end == 0 or bool(_SENTENCE_END.search(gap))
            end = match.end()
            if gap.strip(" ") and chunk:
                chunks.append(chunk)
                chunk = []
            before, after = text[max(start - 2, 0) : start], text[end : end + 1]
            if after.isdigit() or before[-1:].isdigit() or re.fullmatch(r"\d[-.]", before):
                if chunk:
                    chunks.append(chunk)
                chunk = []
                continue
            form = match.group()
            possessive = _POSSESSIVE.search(form)
            if possessive:
                form = form[: possessive.start()]
            if in_title:
                weight = TITLE_WEIGHT
            else:
                weight = LEAD_WEIGHT if start < LEAD_CHARS else BODY_WEIGHT
            token = _Token(
                form.casefold(), form, weight, form[0].isupper(), sentence_start, in_title
            )
            chunk.append(token)
            if possessive:  # "Britain's economy": the possessive ends a phrase
                chunks.append(chunk)
                chunk = []
        if chunk:
            chunks.append(chunk)
    return chunks


def _is_edge(token: _Token, vocab: Vocabulary) -> bool:
    """Whether a phrase may start or end with this word."""
    if len(token.key) < 2 or token.key in CALENDAR or _CONTRACTION.search(token.key):
        return False
    if token.form.isupper() and len(token.form) <= 4:
        return True  # an acronym: US, UK, IT
    return token.key not in vocab.stop


def _names(chunk: list[_Token], edges: list[bool], capitals: set[str]) -> list[tuple[int, int]]:
    """(start, end) of each name in a body chunk: capitalised words, joined by
    connectors ("Bank of England"), at least two, no stop word at an edge, at most
    `NAME_WORDS` words. A sentence's first word belongs to a name only if it is
    capitalised mid-sentence somewhere too (`capitals`): "Buying MCI" is no name."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(chunk):
        token = chunk[i]
        if not (token.capitalised and edges[i]) or (
            token.sentence_start and token.key not in capitals
        ):
            i += 1
            continue
        j = i + 1
        while j < len(chunk):
            if chunk[j].capitalised:
                j += 1
            elif chunk[j].key in CONNECTORS and j + 1 < len(chunk) and chunk[j + 1].capitalised:
                j += 2
            else:
                break
        while j > i + 1 and not edges[j - 1]:
            j -= 1
        if j - i >= 2 and j - i <= NAME_WORDS and not chunk[i].in_title:
            spans.append((i, j))
        i = j
    return spans


def keywords(title: str, body: str, language: str | None) -> list[str]:
    """The key phrases of one article, best first."""
    if not language or language in UNSPACED_LANGUAGES:
        return []
    vocab = vocabulary(language)
    weights: dict[tuple[str, ...], float] = defaultdict(float)
    counts: Counter[tuple[str, ...]] = Counter()
    in_body: Counter[tuple[str, ...]] = Counter()
    in_lead: set[tuple[str, ...]] = set()
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    names: set[tuple[str, ...]] = set()
    proper: set[tuple[str, ...]] = set()

    def seen(tokens: list[_Token]) -> tuple[str, ...]:
        key = tuple(t.key for t in tokens)
        weight = max(t.weight for t in tokens)
        weights[key] += weight
        counts[key] += 1
        if not tokens[0].in_title:
            in_body[key] += 1
            if weight > BODY_WEIGHT:
                in_lead.add(key)
        # A sentence's first word is capitalised anyway: its form counts less.
        forms[key][" ".join(t.form for t in tokens)] += 1 if tokens[0].sentence_start else 2
        if len(tokens) == 1 and tokens[0].capitalised and not tokens[0].sentence_start:
            proper.add(key)
        return key

    chunks = _chunks(title, body)
    capitals = {
        t.key
        for chunk in chunks
        for t in chunk
        if t.capitalised and not (t.sentence_start or t.in_title)
    }
    for chunk in chunks:
        edges = [_is_edge(t, vocab) for t in chunk]
        spans = _names(chunk, edges, capitals)
        inside = {k for start, end in spans for k in range(start, end - 1)}
        for start, end in spans:
            names.add(seen(chunk[start:end]))
        for i, token in enumerate(chunk):
            if not edges[i]:
                continue
            seen([token])
            if i + 1 < len(chunk) and edges[i + 1] and (i not in inside or chunk[i].in_title):
                seen(chunk[i : i + 2])
    scores: dict[tuple[str, ...], float] = {}
    for key, weight in weights.items():
        # A name counts the later mentions of its last word alone ("Holloway said").
        mentions = key[-1:] if key in names else key
        if key in names:
            weight = max(weight, weights[mentions])
        # In the body at least once, and only once when in its lead; a common word or
        # pair of words (not a name) twice.
        if not in_body[mentions] or (in_body[mentions] == 1 and mentions not in in_lead):
            continue
        if counts[mentions] < 2 and key not in names and key not in proper:
            continue
        scores[key] = weight * sum(vocab.rarity(word) for word in key if word not in CONNECTORS)
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    phrases: list[str] = []
    taken: list[set[str]] = []
    for key in ranked:
        words = set(key) - CONNECTORS
        if any(2 * len(words & t) >= len(words) for t in taken):
            continue
        phrases.append(_written(forms[key]))
        taken.append(words)
        if len(phrases) == TOP:
            break
    return phrases


def _written(forms: Counter[str]) -> str:
    """The most frequent written form (a mid-sentence use counts double), ties to the
    first seen."""
    return max(forms, key=lambda f: forms[f])


def keyword_rows(rows: list[tuple[str, str, bool, str | None]]) -> list[list[str]]:
    """Keywords of each (title, body, truncated, language) row (a worker's chunk)."""
    return [
        keywords(title, readable_body(body, truncated), language)
        for title, body, truncated, language in rows
    ]


def _cut(frame: pl.DataFrame) -> pl.Series:
    """Whether each body may end in a fragment: the source cut it (`body_truncated`;
    absent from files deduped before schema 4), or it was read to BODY_CHARS."""
    cut = frame["body"].str.len_chars() >= BODY_CHARS
    if "body_truncated" in frame.columns:
        cut = cut | frame["body_truncated"]
    return cut.fill_null(False)


def keywords_v2(frame: pl.DataFrame) -> pl.DataFrame:
    rows = list(
        zip(
            frame["title"].fill_null("").to_list(),
            frame["body"].fill_null("").str.slice(0, BODY_CHARS).to_list(),
            _cut(frame).to_list(),
            languages_of(frame).to_list(),
            strict=True,
        )
    )
    return pl.DataFrame(
        {"keywords": map_chunks(keyword_rows, rows)}, schema={"keywords": pl.List(pl.String)}
    )
