"""language_v2: the body's language (ISO 639-1) and the identifier's probability for it.

py3langid ships its model inside the package (no download). With normalised
probabilities its softmax is length-calibrated (temperature sqrt(bytes)), so
`language_confidence` is a probability in [0, 1], not a log score. The first
`MAX_CHARS` characters decide, and the cost grows with them. On the 2,660 BBC and
news-please articles the first 1,000 give the whole body's label for all but one (a
page of links: Nigerian Pidgin from the whole text, English from its head), in 54 %
of the time of the first 3,000 that language_v1 read. A body without a letter has no
language (null). The identifier is pure Python: it runs in worker processes
(`tasks/enrichers/workers.py`).
"""

from __future__ import annotations

import re
import threading
from functools import cache

import polars as pl
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from newsflow.schema import Column
from tasks.enrichers import Enricher
from tasks.enrichers.workers import map_chunks

NAME = "language_v2"
MAX_CHARS = 1000

_LETTER = re.compile(r"[^\W\d_]")
_LOAD = threading.Lock()


@cache
def _cached_identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identifier() -> LanguageIdentifier:
    """The identifier, loaded once per process (about 1 s), even under threads."""
    with _LOAD:
        return _cached_identifier()


def detected(heads: list[str]) -> list[tuple[str | None, float | None]]:
    """(language, confidence) of each text's head (what a worker process computes)."""
    model = identifier()
    out: list[tuple[str | None, float | None]] = []
    for head in heads:
        if head and _LETTER.search(head):
            language, probability = model.classify(head)
            out.append((language, min(max(float(probability), 0.0), 1.0)))
        else:
            out.append((None, None))
    return out


def detect(texts: list[str | None]) -> tuple[list[str | None], list[float | None]]:
    """Languages and confidences of many texts, spread over worker processes."""
    found = map_chunks(detected, [(text or "")[:MAX_CHARS] for text in texts])
    return [language for language, _ in found], [confidence for _, confidence in found]


def language_v2(frame: pl.DataFrame) -> pl.DataFrame:
    languages, confidences = detect(frame["body"].to_list())
    return pl.DataFrame(
        {"language": languages, "language_confidence": confidences},
        schema={"language": pl.String, "language_confidence": pl.Float64},
    )


def languages_of(frame: pl.DataFrame) -> pl.Series:
    """The `language` column when language_v2 already ran, else detected here.

    Entities, keywords and quality depend on the language; they read it from the
    frame so a run that selects them without language_v2 still gets it right.
    """
    if "language" in frame.columns:
        return frame["language"]
    return language_v2(frame)["language"]


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "language",
            pl.String(),
            "ISO 639-1 code of the body's language (py3langid); null when the body has no "
            "letter (language_v2)",
        ),
        Column(
            "language_confidence",
            pl.Float64(),
            "py3langid's normalised probability of `language`, 0-1 (language_v2)",
        ),
    ),
    add=language_v2,
    position=30,
    packages=("py3langid",),
    load_model=identifier,
    body_chars=MAX_CHARS,
    replaces=("language_v1",),
)
