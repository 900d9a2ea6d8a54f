"""How well does dedupe find copies, and does it ever merge different articles?

Usage (from the repository root):

    .venv/bin/python -m evals.dedupe_eval [--corpus ../shared/corpus] [--details]
    .venv/bin/python -m evals.dedupe_eval --synthetic 10000 [--dup-rate 0.3] [--seed 7]

Runs the pipeline's stages (`benchmarks.common.run_stages`: ingest, line statistics,
clean, `dedupe_frame`: the dedupe stage on a temporary lake; no Prefect) and scores the
clusters dedupe makes, read from its duplicates frame (doc_id -> kept_doc_id):

1. `bbc_fulltext/`: raw/ (2,225 files) and the Kaggle CSV (928 rows) deduped
   together, scored pairwise against `derived/duplicate_groups.tsv` and
   `derived/kaggle_row_to_raw.tsv`; see `bbc_scores` for the universe of each score.
2. `newsplease_5w1h/news_cluster/`: every merged pair is checked against the event
   ids. A false merge is a pair from two events, or from one event where neither body
   is a copy of the other (`is_copy`: word-level difflib ratio 0.8, or 0.8 of the
   shorter body's word 3-grams inside the longer one). Pages whose whole body is a short
   text shared with other files (page furniture) are listed with their fate.
3. `--synthetic N`: `dedupe_synth_eval.py` (a generated corpus with known copies).

Prints a table per corpus and the time of every stage; `--details` also lists the
false and missed pairs by title (to the terminal only: corpus text never goes into
the repository). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import itertools
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from benchmarks.common import StageRun, cluster_ids, fmt, ratio, run_stages
from newsflow.inputs import list_inputs

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
MIN_PRECISION, MIN_RECALL = 0.99, 0.98
EDIT_RATIO_SPLIT = 0.5  # below: a developing story's update, not an edited copy
SAME_TEXT_RATIO = 0.8
SHORT_BODY_WORDS = 30  # a body this short found in several files is page furniture
CSV_NAME = "kaggle_bbc-text_sport_politics.csv"
SHOW = 40  # pairs listed per score with --details

Pair = tuple[str, str]
Edge = tuple[str, str]


def words(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", (text or "").lower())


def text_ratio(a: str | None, b: str | None) -> float:
    """difflib ratio of the two texts' lower-cased word sequences (no autojunk)."""
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def trigram_containment(a: str | None, b: str | None) -> float:
    """Share of the shorter text's word 3-grams found in the longer one.

    Order-insensitive on purpose: one outlet runs a wire story's photo caption first,
    another fourth, which sinks a difflib ratio but not this. 3-grams across sentence
    and paragraph breaks, unlike dedupe's 5-word in-sentence shingles, so the judge
    is not the method it judges.
    """
    grams = [{tuple(w[i : i + 3]) for i in range(len(w) - 2)} for w in (words(a), words(b))]
    shorter = min(grams, key=len)
    return len(grams[0] & grams[1]) / len(shorter) if shorter else 0.0


def is_copy(a: str | None, b: str | None) -> bool:
    """One body is a copy of the other: the same text edited (difflib ratio >= 0.8), or
    one holds nearly all of the other (a wire story inside a longer page, an update
    that keeps the earlier version)."""
    return text_ratio(a, b) >= SAME_TEXT_RATIO or trigram_containment(a, b) >= SAME_TEXT_RATIO


def pairs_of(partition: dict[str, str]) -> set[Pair]:
    """Every (sorted) pair of names in one group of `partition` (name -> group)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name, group in partition.items():
        groups[group].append(name)
    return {
        pair for members in groups.values() for pair in itertools.combinations(sorted(members), 2)
    }


def linked(names: Iterable[str], *edge_lists: list[Edge]) -> set[Pair]:
    """Pairs joined by a chain of edges (labels are closed transitively)."""
    return pairs_of(cluster_ids(names, itertools.chain(*edge_lists)))


@dataclass
class Score:
    label: str
    universe: str
    target: str
    labelled: int
    predicted: int
    agreed: int
    false_pairs: list[Pair]
    missed_pairs: list[Pair]

    @property
    def precision(self) -> float | None:
        return ratio(self.agreed, self.predicted)

    @property
    def recall(self) -> float | None:
        return ratio(self.agreed, self.labelled)

    def met(self) -> bool:
        if self.target.startswith("P >="):
            return (self.precision or 0) >= MIN_PRECISION and (self.recall or 0) >= MIN_RECALL
        return True

    def row(self) -> str:
        return (
            f"| {self.label} | {self.universe} | {self.labelled:,} | {self.predicted:,} | "
            f"{self.agreed:,} | {fmt(self.precision)} | {fmt(self.recall)} | {self.target} |"
        )


def score(
    label: str,
    universe: tuple[str, Callable[[Pair], bool]],
    predicted: set[Pair],
    positive: set[Pair],
    unsure: set[Pair] | None = None,
    target: str = "",
) -> Score:
    """Pairwise precision and recall over the pairs inside `universe`. A predicted pair
    in `unsure` (the business of another label set) counts neither way."""
    name, inside = universe
    pos = {p for p in positive if inside(p)}
    pred = {p for p in predicted if inside(p) and (p in pos or p not in (unsure or set()))}
    return Score(
        label,
        name,
        target,
        len(pos),
        len(pred),
        len(pred & pos),
        sorted(pred - pos),
        sorted(pos - pred),
    )


# --- bbc_fulltext --------------------------------------------------------------------


def record_names(cleaned: pl.DataFrame) -> dict[str, str]:
    """doc_id -> `raw/<category>/<NNN>.txt`, or `csv:<row>` (1-based, as the TSV counts)."""
    rows = cleaned.select("doc_id", "source_file", "record_index").iter_rows()
    return {d: (f"csv:{i + 1}" if f == CSV_NAME else f) for d, f, i in rows}


@dataclass
class BbcLabels:
    """The labels as edges between record names.

    `exact`: exact_bytes + same_normalised_text groups. `same_body`: found here, raw
    files whose bodies are identical after lower-casing and keeping only letters and
    digits (the labels' own normalisation) but whose titles differ; the TSV misses
    them because it normalises title and body together. `edited` / `update`:
    same_title_text_differs at or above / below a difflib ratio of 0.5. `csv`: CSV
    row -> raw file. `retitled`: edited versions filed under another title, which the
    TSV misses for the same reason as `same_body`; found among the pairs dedupe
    merged that no label links (`is_copy`), so they have no recall.
    """

    exact: list[Edge]
    same_body: list[Edge]
    edited: list[Edge]
    update: list[Edge]
    csv: list[Edge]
    retitled: list[Edge] = field(default_factory=list)

    def all(self) -> list[list[Edge]]:
        return [self.exact, self.same_body, self.edited, self.update, self.csv, self.retitled]


def bbc_labels(bbc: Path, ingested: pl.DataFrame) -> BbcLabels:
    labels = BbcLabels([], [], [], [], [])
    groups = pl.read_csv(
        bbc / "derived" / "duplicate_groups.tsv", separator="\t", infer_schema=False
    )
    for kind, _, files, difflib_ratio in groups.iter_rows():
        first, *rest = files.split()
        if kind in ("exact_bytes", "same_normalised_text"):
            labels.exact += [(first, f) for f in rest]
        elif kind == "same_title_text_differs":
            edited = float(difflib_ratio) >= EDIT_RATIO_SPLIT
            (labels.edited if edited else labels.update).extend((first, f) for f in rest)
    mapping = pl.read_csv(bbc / "derived" / "kaggle_row_to_raw.tsv", separator="\t")
    for row, _, files in mapping.iter_rows():
        labels.csv += [(f"csv:{row}", f) for f in files.split()]

    raw = ingested.filter(pl.col("source_file").str.starts_with("raw/"))
    in_tsv = cluster_ids(raw["source_file"], labels.exact)
    body_key = pl.col("body").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    for _, files in raw.group_by(body_key.alias("key")).agg("source_file").iter_rows():
        first, *rest = sorted(files)
        labels.same_body += [(first, f) for f in rest if in_tsv[f] != in_tsv[first]]
    return labels


def bbc_scores(run: StageRun, labels: BbcLabels) -> tuple[list[Score], Score]:
    """Scores per label set, each over its own universe of record pairs.

    (i)   raw x raw. Duplicates: exact + normalised-text groups and same body under
          another title. Pairs linked only through the edited/update labels are unsure.
    (ii)  CSV x raw, and CSV x CSV (the CSV holds some articles twice). Duplicates:
          the CSV map closed over (i). Pairs linked only through edited/update labels
          are unsure.
    (iii) the same_title_text_differs pairs alone: how many are merged. A story update
          is merged only when it keeps nearly all of the earlier text (containment 0.8,
          dedupe's own rule). Re-titled copies: merged pairs no label links that
          `is_copy` confirms; unsure in (i) and (ii), like the edited versions.
    all   every pair of records. Duplicates: all of the above plus the edited versions
          (ratio >= 0.5) and re-titled copies; the story updates (< 0.5) are not
          duplicates. Nothing unsure.
    Also returns (i) against the TSV alone: same-body pairs count as false there.
    """
    names = record_names(run.cleaned)
    merged = cluster_ids(names, run.duplicates.select("doc_id", "kept_doc_id").iter_rows())
    predicted = pairs_of({names[d]: c for d, c in merged.items()})
    every = list(names.values())
    bodies = {names[d]: b for d, b in run.cleaned.select("doc_id", "body").iter_rows()}
    unlabelled = predicted - linked(every, *labels.all())
    labels.retitled = [p for p in sorted(unlabelled) if is_copy(bodies[p[0]], bodies[p[1]])]
    same_text = linked(every, labels.exact, labels.same_body)
    with_csv = linked(every, labels.exact, labels.same_body, labels.csv)
    edits = (labels.edited, labels.retitled)
    ours = linked(every, labels.exact, labels.same_body, labels.csv, *edits)
    anything = linked(every, *labels.all())

    def csv_count(p: Pair) -> int:
        return p[0].startswith("csv:") + p[1].startswith("csv:")

    raw_raw = ("raw x raw", lambda p: csv_count(p) == 0)
    csv_raw = ("CSV x raw", lambda p: csv_count(p) == 1)
    csv_csv = ("CSV x CSV", lambda p: csv_count(p) == 2)
    target = f"P >= {MIN_PRECISION}, R >= {MIN_RECALL}"
    edited = {tuple(sorted(e)) for e in labels.edited}
    update = {tuple(sorted(e)) for e in labels.update}
    its_pairs = ("its pairs", (edited | update).__contains__)
    retitled = set(labels.retitled)
    found_retitled = ("merged, no label", retitled.__contains__)
    scores = [
        score("(i) exact + normalised text", raw_raw, predicted, same_text, anything, target),
        score("(ii) CSV row <-> raw file", csv_raw, predicted, with_csv, anything, target),
        score("(ii) CSV row <-> CSV row", csv_csv, predicted, with_csv, anything, target),
        score("(iii) edited, ratio >= 0.5", its_pairs, predicted, edited, update, "all merged"),
        score("(iii) story updates, < 0.5", its_pairs, predicted, update, edited, "only if kept"),
        score("(iii) re-titled copies", found_retitled, predicted, retitled, None, "is_copy"),
        score("all (our position)", ("all pairs", lambda p: True), predicted, ours),
    ]
    tsv_alone = linked(every, labels.exact)
    as_given = score("(i) vs the TSV alone", raw_raw, predicted, tsv_alone, anything - same_text)
    return scores, as_given


def print_bbc(bbc: Path, details: bool) -> bool:
    files, _ = list_inputs(bbc)
    files = [f for f in files if f.path.startswith("raw/") or f.path == CSV_NAME]
    run = run_stages(bbc, files, "dedupe-eval-bbc")
    labels = bbc_labels(bbc, run.ingested)
    scores, as_given = bbc_scores(run, labels)
    print(
        f"\n## bbc_fulltext: {len(files):,} files -> {run.ingested.height:,} records -> "
        f"{run.cleaned.height:,} cleaned -> {run.deduped_rows:,} deduped"
    )
    print(run.timing_line())
    print("| label set | pairs of | labelled | predicted | agreed | precision | recall | target |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in scores:
        print(s.row())
    print(
        f"\nLabel gap: {len(labels.same_body)} raw pairs have identical normalised bodies under "
        "different titles and are in no group of duplicate_groups.tsv (it normalises title "
        "and body together); (i) counts them as duplicates. Against the TSV alone, (i) "
        f"scores precision {fmt(as_given.precision)}, recall {fmt(as_given.recall)}."
    )
    if details:
        rows = run.cleaned.select("doc_id", "title", "body").iter_rows()
        names = record_names(run.cleaned)
        titles = {names[d]: title or f"[{body[:70]}]" for d, title, body in rows}
        bodies = {names[d]: body for d, body in run.cleaned.select("doc_id", "body").iter_rows()}
        for s in scores[:-1]:
            for kind, pairs in (("false", s.false_pairs), ("missed", s.missed_pairs)):
                for a, b in pairs[:SHOW]:
                    print(
                        f"  {s.label} {kind}: ratio {text_ratio(bodies[a], bodies[b]):.3f} "
                        f"{a} {titles[a]!r} ~ {b} {titles[b]!r}"
                    )
                if len(pairs) > SHOW:
                    print(f"  {s.label} {kind}: … and {len(pairs) - SHOW} more")
    return all(s.met() for s in scores)


# --- newsplease_5w1h/news_cluster ----------------------------------------------------


def events(folder: Path) -> dict[str, tuple[int, str]]:
    """source_file -> (EventId, Event) from each file's `newsCluster` (a dict or its repr)."""
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            cluster = json.loads(path.read_text(encoding="utf-8")).get("newsCluster")
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(cluster, str):
            cluster = ast.literal_eval(cluster)
        if cluster:
            found[path.name] = (int(cluster["EventId"]), str(cluster.get("Event", "")))
    return found


def near_identical(docs: dict[str, tuple[str, str, str]], event_of: dict) -> set[Pair]:
    """Same-event pairs where one body is a copy of the other (`is_copy`; sharing a
    third of their words rules out the rest cheaply): the copies a dedupe should find."""
    by_event: dict[int, list[str]] = defaultdict(list)
    for doc, (source, _, _) in docs.items():
        if source in event_of:
            by_event[event_of[source][0]].append(doc)
    found = set()
    for members in by_event.values():
        for a, b in itertools.combinations(sorted(members), 2):
            wa, wb = set(words(docs[a][2])), set(words(docs[b][2]))
            overlapping = bool(wa and wb) and len(wa & wb) >= len(min(wa, wb, key=len)) / 3
            if overlapping and is_copy(docs[a][2], docs[b][2]):
                found.add((a, b))
    return found


def print_news(folder: Path, details: bool) -> bool:
    files, _ = list_inputs(folder)
    run = run_stages(folder, files, "dedupe-eval-news")
    event_of = events(folder)
    columns = run.cleaned.select("doc_id", "source_file", "title", "body").iter_rows()
    docs = {d: (f, t, b) for d, f, t, b in columns}
    clusters = cluster_ids(docs, run.duplicates.select("doc_id", "kept_doc_id").iter_rows())
    merged = pairs_of(clusters)

    def event(doc: str) -> tuple[int | None, str]:
        return event_of.get(docs[doc][0], (None, "?"))

    verdicts: dict[str, list[tuple[Pair, float]]] = defaultdict(list)
    for a, b in sorted(merged):
        value = text_ratio(docs[a][2], docs[b][2])
        if event(a)[0] != event(b)[0]:
            verdicts["different events: false merge"].append(((a, b), value))
        elif value >= SAME_TEXT_RATIO:
            verdicts[f"same event, ratio >= {SAME_TEXT_RATIO}: true"].append(((a, b), value))
        elif is_copy(docs[a][2], docs[b][2]):
            verdicts["same event, shorter 3-grams >= 0.8 contained: true"].append(((a, b), value))
        else:
            verdicts["same event, not a copy: false merge"].append(((a, b), value))
    false_merges = sum(len(v) for k, v in verdicts.items() if k.endswith("false merge"))
    near = near_identical(docs, event_of)

    n_events = len({e for e, _ in event_of.values()})
    print(
        f"\n## newsplease_5w1h/news_cluster: {len(files)} files -> {run.ingested.height} "
        f"records -> {run.cleaned.height} cleaned -> {run.deduped_rows} deduped "
        f"({len(event_of)} files with an event id, {n_events} events)"
    )
    print(run.timing_line())
    print("| merged pairs | count |\n| --- | --- |")
    print(f"| all predicted duplicate pairs | {len(merged)} |")
    for verdict, pairs in sorted(verdicts.items()):
        print(f"| {verdict} | {len(pairs)} |")
    print(f"| **false merges** (target 0) | **{false_merges}** |")
    print(f"| same-event copies (`is_copy`) merged | {len(near & merged)} of {len(near)} |")
    # Pages whose whole body is one short text several files share (the two CNN video
    # pages whose only text is a Messenger prompt): merged or not?
    furniture = run.ingested.filter(
        pl.col("body").str.count_matches(r"\S+") < SHORT_BODY_WORDS,
        pl.len().over("body") > 1,
    )
    for doc, source, title in furniture.select("doc_id", "source_file", "title").iter_rows():
        if doc not in docs:
            rules = run.quarantined.filter(pl.col("doc_id") == doc)["rule"].to_list()
            fate = f"quarantined ({', '.join(rules) or '?'})"
        else:
            mates = [docs[d][0] for d, c in clusters.items() if c == clusters[doc] and d != doc]
            fate = f"merged with {', '.join(mates)}" if mates else "kept on its own"
        event_id, name = event_of.get(source, (None, "?"))
        print(f"shared short body: {source} (event {event_id} {name}, {title!r}): {fate}")
    if details:
        listed = [(k, p, v) for k, ps in sorted(verdicts.items()) for p, v in ps]
        listed += [
            ("copy, not merged", p, text_ratio(docs[p[0]][2], docs[p[1]][2]))
            for p in sorted(near - merged)
        ]
        for kind, (a, b), value in listed:
            print(
                f"  {kind}: ratio {value:.3f} {docs[a][0]} {docs[a][1]!r} (event {event(a)[0]})"
                f" ~ {docs[b][0]} {docs[b][1]!r} (event {event(b)[0]})"
            )
    return false_merges == 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--details", action="store_true", help="list false and missed pairs")
    parser.add_argument("--synthetic", type=int, metavar="N", help="score N synthetic docs")
    parser.add_argument("--dup-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the synthetic corpus here (not tmp)")
    args = parser.parse_args(argv)
    if args.synthetic:
        from evals.dedupe_synth_eval import print_synthetic

        source = args.corpus / "bbc_fulltext" / "raw"
        print_synthetic(args.synthetic, args.dup_rate, args.seed, source, args.keep, args.details)
        return 0
    ok = print_bbc(args.corpus / "bbc_fulltext", args.details)
    ok &= print_news(args.corpus / "newsplease_5w1h" / "news_cluster", args.details)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
