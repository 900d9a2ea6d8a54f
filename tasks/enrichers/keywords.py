"""keywords_v2: the article's key phrases, from the article alone and a fixed word list.

Candidates, from the title and the body, never across punctuation, a digit or a line
break, letters only (inner hyphens and apostrophes allowed; a possessive "'s" ends a
phrase; a word glued to a digit, "bn" of "1.13bn", is none), no stop word, one-letter
word, month or weekday name at an edge:

* names: two to `NAME_WORDS` capitalised words, with connectors inside ("Bank of
  England"); titles before a person are left out ("Prime Minister Margaret Holloway"
  -> Margaret Holloway); a sentence's first word joins only if it is written with a
  capital mid-sentence too ("Buying MCI" is no name);
* one word, or two adjacent words outside a name.

Each scores  sum(weight of each mention) * sum(rarity of its words):

* weight: 3 in the title, 2 in the lead (the body's first `LEAD_CHARS` characters),
  1 after it: the title and lead state what an article is about.
* rarity: how unlikely the word is to appear in an article of `DOC_WORDS` words, from
  wordfreq's fixed table of word frequencies (p) for the language:
  -ln(1 - exp(-DOC_WORDS * p)). "said" (p 1e-3) ~0.9, "minister" ~3, a word the table
  lacks (p taken as `UNSEEN`) ~9.9; a hyphenated word is as rare as its rarest part. A
  language wordfreq lacks gets one rarity for every word: frequency and position decide.
* A name also counts the later mentions of its last word alone ("Holloway said").
  A phrase must be in the body, in its lead if only once; a phrase that is neither a
  name nor a word capitalised mid-sentence must occur twice.

Best first, a phrase is dropped when half its words are in a better one ("Holloway"
after "Margaret Holloway"); the first `TOP` are kept, each in its most frequent
written form. Stop words: spaCy's list for the language, wordfreq's words of
p >= `STOP_P`, honorifics and contractions; an acronym in capitals ("US", "IT") is
none. Scripts written without spaces (Chinese, Japanese, Thai, …) get no keywords.

Nothing depends on the other documents of a batch or on the machine: the same
article gets the same keywords in any batch and on any runner. A truncated body
(`body_truncated`) loses its marker ("[+1197 chars]", a trailing "…") and, when it
stops mid-sentence, its last word (`readable_body`). Pure Python (~1-2 ms per BBC
article), run in worker processes (`tasks/enrichers/workers.py`); wordfreq's table
loads once per process (0.2 s with the import).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import polars as pl

from newsflow.schema import Column
from newsflow.text_rules import MONTH_NAMES, WEEKDAY_NAMES
from tasks.enrichers import Enricher
from tasks.enrichers.language import languages_of
from tasks.enrichers.quality import stop_words
from tasks.enrichers.workers import map_chunks
from tasks.truncation import readable_body


def _words(text: str) -> list[str]:
    return text.split()


NAME = "keywords_v2"
PACKAGES = ("wordfreq",)
# Languages written without spaces between words: whitespace words mean nothing there.
UNSPACED_LANGUAGES = frozenset(["zh", "ja", "th", "lo", "km", "my", "bo", "dz", "wuu", "yue"])
TOP = 10
BODY_CHARS = 20_000
LEAD_CHARS = 400
DOC_WORDS = 500
UNSEEN = 1e-7
STOP_P = 1e-3
TITLE_WEIGHT, LEAD_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
# A rarity for every word where wordfreq has no table for the language.
FLAT_RARITY = 5.0

# Month and weekday names and their abbreviations ("Dec", "Sept", "Tue").
CALENDAR = frozenset(
    [form for name in (*MONTH_NAMES, *WEEKDAY_NAMES) for form in (name.lower(), name[:3].lower())]
    + ["sept", "tues", "thur", "thurs"]
)
# Titles before a name ("Mr Blair"): not part of a key phrase, in any language.
HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "messrs"})
# Lower-case words inside a name: "Bank of England", "Rio de Janeiro".
CONNECTORS = frozenset(_words("of for de da di do du des del la le von van der den"))
NAME_WORDS = 5
# Titles before a person's name, left out of the name (English, as most titles met).
TITLES = frozenset(
    _words(
        "president minister chancellor secretary senator governor mayor king queen prince "
        "princess pope general chief judge justice coach captain manager director chairman "
        "chairwoman leader lord lady sir dame professor archbishop bishop ambassador "
        "commissioner inspector sergeant colonel major lieutenant admiral sheikh emperor "
        "spokesman spokeswoman striker midfielder defender goalkeeper boss executive prime "
        "vice deputy foreign finance defence defense interior home"
    )
)
_CONTRACTION = re.compile(r"['’](?:ve|re|ll|d|m|t)$")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_POSSESSIVES = ("'s", "’s", "'S", "’S")
_SENTENCE_END = re.compile(r"[.!?\n]")


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


class _Seen:
    """What one phrase's occurrences add up to."""

    __slots__ = ("count", "forms", "in_body", "in_lead", "name", "proper", "weight")

    def __init__(self) -> None:
        self.weight = 0.0
        self.count = 0
        self.in_body = 0
        self.in_lead = False
        self.name = False  # a name of capitalised words ("Margaret Holloway")
        self.proper = False  # one word written with a capital mid-sentence
        self.forms: dict[str, int] = {}


class _Token(NamedTuple):
    key: str
    form: str
    weight: float
    capitalised: bool
    sentence_start: bool
    in_title: bool


def _chunks(title: str, body: str) -> list[list[_Token]]:
    """Runs of words with only spaces between them, from the title and the body.

    A word glued to a digit ("bn" of "1.13bn", "year-old" of "28-year-old") or part of
    an address ("com" of "meteors.com") is no word.
    """
    chunks: list[list[_Token]] = []
    for text, in_title in ((title, True), (body, False)):
        chunk: list[_Token] = []
        end = 0
        for match in _WORD.finditer(text):
            start = match.start()
            gap = text[end:start]
            sentence_start = end == 0 or (gap != " " and bool(_SENTENCE_END.search(gap)))
            end = match.end()
            if gap != " " and chunk and gap.strip(" "):
                chunks.append(chunk)
                chunk = []
            previous = text[start - 1] if start else ""
            following = text[end : end + 2]
            if (
                following[:1].isdigit()
                or previous.isdigit()
                or (previous in "-." and start > 1 and text[start - 2].isdigit())
                # Part of an address: "com" of "meteors.com", "jane" of "jane@…".
                or (previous and previous in "./@")
                or following[:1] in ("@", "/")
                or (following[:1] == "." and following[1:2].isalnum())
            ):
                if chunk:
                    chunks.append(chunk)
                chunk = []
                continue
            form = match.group()
            possessive = form[-2:] in _POSSESSIVES
            if possessive:
                form = form[:-2]
            if in_title:
                weight = TITLE_WEIGHT
            else:
                weight = LEAD_WEIGHT if start < LEAD_CHARS else BODY_WEIGHT
            chunk.append(
                _Token(form.casefold(), form, weight, form[0].isupper(), sentence_start, in_title)
            )
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
            if chunk[j].key == chunk[j - 1].key:  # "Bitcoin Bitcoin": a repeat ends it
                break
            if chunk[j].capitalised:
                j += 1
            elif chunk[j].key in CONNECTORS and j + 1 < len(chunk) and chunk[j + 1].capitalised:
                j += 2
            else:
                break
        end = j
        while j > i + 1 and not edges[j - 1]:
            j -= 1
        i = _after_titles(chunk, i, j)
        if j - i >= 2 and j - i <= NAME_WORDS and not chunk[i].in_title:
            spans.append((i, j))
        i = end
    return spans


def _after_titles(chunk: list[_Token], start: int, end: int) -> int:
    """Where a name starts once the titles before it are left out ("Prime Minister
    Margaret Holloway" -> Margaret Holloway, "US President George Bush" -> George Bush);
    a title followed by a connector is part of the name ("Director of Public
    Prosecutions")."""
    last_title = max(
        (k for k in range(start, end - 2) if chunk[k].key.rsplit("-", 1)[-1] in TITLES),
        default=None,
    )
    if last_title is None or chunk[last_title + 1].key in CONNECTORS:
        return start
    return last_title + 1


def keywords(title: str, body: str, language: str | None) -> list[str]:
    """The key phrases of one article, best first."""
    if not language or language in UNSPACED_LANGUAGES:
        return []
    vocab = vocabulary(language)
    stats = _phrases_seen(_chunks(title, body), vocab)
    return _best(_scores(stats, vocab), stats)


Phrases = dict[tuple[str, ...], _Seen]


def _seen(stats: Phrases, key: tuple[str, ...], tokens: list[_Token]) -> _Seen:
    """Count one occurrence of the phrase `key`, written as `tokens`."""
    entry = stats.get(key)
    if entry is None:
        entry = stats[key] = _Seen()
    first = tokens[0]
    weight = max(t.weight for t in tokens) if len(tokens) > 1 else first.weight
    entry.weight += weight
    entry.count += 1
    if not first.in_title:
        entry.in_body += 1
        entry.in_lead = entry.in_lead or weight > BODY_WEIGHT
    form = first.form if len(tokens) == 1 else " ".join(t.form for t in tokens)
    # A sentence's first word is capitalised anyway: its form counts less.
    entry.forms[form] = entry.forms.get(form, 0) + (1 if first.sentence_start else 2)
    return entry


def _phrases_seen(chunks: list[list[_Token]], vocab: Vocabulary) -> Phrases:
    """Every candidate phrase of the chunks (names, words, pairs of words) and its
    occurrences."""
    stats: Phrases = {}
    capitals = {
        t.key
        for chunk in chunks
        for t in chunk
        if t.capitalised and not (t.sentence_start or t.in_title)
    }
    edge_of: dict[tuple[str, str], bool] = {}
    for chunk in chunks:
        edges = []
        for t in chunk:
            edge = edge_of.get((t.key, t.form))
            if edge is None:
                edge = edge_of[t.key, t.form] = _is_edge(t, vocab)
            edges.append(edge)
        spans = _names(chunk, edges, capitals)
        for start, end in spans:
            tokens = chunk[start:end]
            _seen(stats, tuple(t.key for t in tokens), tokens).name = True
        inside = {k for start, end in spans for k in range(start, end - 1)}
        _words_and_pairs_seen(stats, chunk, edges, inside)
    return stats


def _words_and_pairs_seen(
    stats: Phrases, chunk: list[_Token], edges: list[bool], inside: set[int]
) -> None:
    """Count the single words of a chunk, and the pairs of adjacent words that do not
    start inside a name (`inside`: positions followed by a word of the same name)."""
    for i, token in enumerate(chunk):
        if not edges[i]:
            continue
        entry = _seen(stats, (token.key,), [token])
        # A capital mid-sentence marks a name, but "Prime" of "Prime Minister" is none.
        if token.capitalised and not token.sentence_start and token.key not in TITLES:
            entry.proper = True
        if (
            i + 1 < len(chunk)
            and edges[i + 1]
            and (i not in inside or token.in_title)
            and chunk[i + 1].key != token.key  # "Bitcoin Bitcoin": a repeat, no phrase
        ):
            pair = chunk[i : i + 2]
            _seen(stats, (token.key, pair[1].key), pair)


def _scores(stats: Phrases, vocab: Vocabulary) -> dict[tuple[str, ...], float]:
    """The score of each phrase that may be a keyword (see the module's docstring)."""
    scores: dict[tuple[str, ...], float] = {}
    for key, entry in stats.items():
        # A name counts the later mentions of its last word alone ("Holloway said").
        mentions = stats[key[-1:]] if entry.name and key[-1:] in stats else entry
        weight = max(entry.weight, mentions.weight) if entry.name else entry.weight
        # In the body at least once, and only once when in its lead; a common word or
        # pair of words (not a name) twice.
        if not mentions.in_body or (mentions.in_body == 1 and not mentions.in_lead):
            continue
        if mentions.count < 2 and not (entry.name or entry.proper):
            continue
        scores[key] = weight * sum(vocab.rarity(word) for word in key if word not in CONNECTORS)
    return scores


def _best(scores: dict[tuple[str, ...], float], stats: Phrases) -> list[str]:
    """The first `TOP` phrases by score, each in its written form, leaving out a phrase
    when half its words are in a better one."""
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    phrases: list[str] = []
    taken: list[set[str]] = []
    for key in ranked:
        words = set(key) - CONNECTORS
        if any(2 * len(words & t) >= len(words) for t in taken):
            continue
        phrases.append(_written(stats[key].forms))
        taken.append(words)
        if len(phrases) == TOP:
            break
    return phrases


def _written(forms: dict[str, int]) -> str:
    """The most frequent written form (a mid-sentence use counts double), ties to the
    first seen."""
    return max(forms, key=forms.__getitem__)


def keyword_rows(rows: list[tuple[str, str, str | None]]) -> list[list[str]]:
    """Keywords of each (title, readable body, language) row (a worker's chunk)."""
    return [keywords(title, body, language) for title, body, language in rows]


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
            frame.select(
                readable_body(
                    pl.col("body").fill_null("").str.slice(0, BODY_CHARS), pl.lit(_cut(frame))
                )
            )
            .to_series()
            .to_list(),
            languages_of(frame).to_list(),
            strict=True,
        )
    )
    return pl.DataFrame(
        {"keywords": map_chunks(keyword_rows, rows)}, schema={"keywords": pl.List(pl.String)}
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "keywords",
            pl.List(pl.String),
            'Up to 10 key phrases of the title and body, best first: names ("Margaret '
            'Holloway", "Bank of England") and one- or two-word phrases, scored by title and '
            "lead position, frequency in the article and rarity in wordfreq's fixed word list "
            "for the language; from the article alone, never a truncation marker or cut-off "
            "word; empty for unspaced scripts (keywords_v2)",
        ),
    ),
    add=keywords_v2,
    position=60,
    packages=PACKAGES,
    load_model=background,
    body_chars=BODY_CHARS,
    replaces=("keywords_v1",),
)
