"""How well does newsflow read HTML pages? Our ingest + clean path against trafilatura's gold.

Usage (from the repository root, after `make setup`):

    .venv/bin/python -m evals.html_eval [../shared/corpus/trafilatura_eval_en] [--details]

The folder holds `html/*.html.gz` (164 gzipped English pages) and `gold.jsonl`
(one line per page: `with` snippets the body must keep, `without` snippets it must
not, and `title` / `date` / `author` where annotated). The pages go through the same code a
run uses (list_inputs -> plan_batches -> ingest_files -> clean_frame), without
Prefect or a lake (so clean has no lake-wide line statistics). Snippets are
compared after ftfy, straight quotes and collapsed whitespace on both sides (case
kept); titles are also case-folded. A quarantined page counts as an empty body, no
date and no title. Prints one table (with the body scores before clean too), the
quarantine rules and the misses of every metric by cause, then the authors found
(ingested `authors` against gold `author`, both split by tasks/authors.py and
compared case-folded without punctuation; no target yet); `--details` lists every
miss. Exits 1 when a metric misses its target.
"""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import logging
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import ftfy
import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.authors import author_names
from tasks.clean import clean_frame
from tasks.ingest import ingest_files

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "trafilatura_eval_en"
TARGETS = {"with": 0.95, "without": 0.90, "date": 0.90, "title": 0.90}
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'}
    | {"\u201e": '"', "\u2033": '"', "\u00a0": " "}
)
_SPACE = re.compile(r"\s+")
# The nearest date key before a date says what the page calls it.
_DATE_KEY = re.compile(r"(modif|updat|revis|publish|pubdate|creat|written|posted)", re.IGNORECASE)


def norm(text: str | None) -> str:
    return _SPACE.sub(" ", ftfy.fix_text(text or "").translate(_QUOTES)).strip()


def run_pages(html_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, float]:
    """Ingested, cleaned and quarantined rows (ingest and clean), and seconds spent."""
    config = PipelineConfig(input_dir=html_dir)
    files, rejected = list_inputs(html_dir)
    assert not rejected, rejected
    ingested, cleaned, quarantined, seconds = [], [], [], 0.0
    for batch in plan_batches(
        files, batch_size=config.batch_size, max_bytes=config.batch_max_bytes
    ):
        started = time.perf_counter()
        result = ingest_files(batch, html_dir, config, run_id="html-eval")
        rows, _, rejects = clean_frame(result.ingested, dt.date.today())
        seconds += time.perf_counter() - started
        ingested.append(result.ingested)
        cleaned.append(rows)
        quarantined += [result.quarantined, rejects]
    return pl.concat(ingested), pl.concat(cleaned), pl.concat(quarantined), seconds


def date_cause(page: str, gold: str, ours: str | None) -> str:
    if not ours:
        return "no date (none extracted, or flagged at clean)"
    keys = []
    for match in re.finditer(re.escape(gold), page):
        before = _DATE_KEY.findall(page[max(0, match.start() - 60) : match.start()])
        keys.append(before[-1].lower() if before else "")
    if not keys:
        return "gold date not in the page as YYYY-MM-DD"
    if all(k in ("modif", "updat", "revis") for k in keys if k) and any(keys):
        return "gold date is the page's modified/updated date"
    return "we chose another date of the page"


def _with_cause(snippet: str, row: dict[str, Any], removed: list[str]) -> str:
    if not row:
        return "page quarantined"
    if any(snippet in r for r in removed):
        return "removed by clean"
    if snippet in norm(row.get("title")):
        return "headline (kept in title, not in body)"
    return "not extracted by trafilatura"


def title_cause(page: str, gold: str, ours: str | None) -> str:
    if not ours:
        return "no title"
    if norm(gold).casefold() not in norm(html.unescape(page)).casefold():
        return "gold title not on the page"
    if (
        norm(ours).casefold() in norm(gold).casefold()
        or norm(gold).casefold() in norm(ours).casefold()
    ):
        return "containment only"
    return "another title of the page chosen"


def evaluate(corpus: Path) -> dict[str, Any]:
    html_dir = corpus / "html"
    gold = [json.loads(line) for line in (corpus / "gold.jsonl").read_text().splitlines() if line]
    ingested, cleaned, quarantined, seconds = run_pages(html_dir)
    extracted = dict(zip(ingested["source_file"], ingested["body"], strict=True))
    authors = dict(zip(ingested["source_file"], ingested["authors"].to_list(), strict=True))
    by_file = {row["source_file"]: row for row in cleaned.to_dicts()}
    tally: Counter[str] = Counter()
    causes: dict[str, Counter[str]] = {k: Counter() for k in TARGETS}
    details: list[str] = []
    for entry in gold:
        name = Path(entry["html_file"]).relative_to("html").as_posix()
        row = by_file.get(name, {})
        body = norm(row.get("body"))
        before_clean = norm(extracted.get(name))
        removed = [norm(r["text"]) for r in row.get("removed_lines") or []]
        page = ""
        for snippet in entry["with"]:
            tally["with_total"] += 1
            tally["with_extracted"] += norm(snippet) in before_clean
            if norm(snippet) in body:
                tally["with_ok"] += 1
                continue
            cause = _with_cause(norm(snippet), row, removed)
            causes["with"][cause] += 1
            details.append(f"with     {name}: {snippet!r} ({cause})")
        for snippet in entry["without"]:
            tally["without_total"] += 1
            tally["without_extracted"] += norm(snippet) not in before_clean
            if norm(snippet) not in body:
                tally["without_ok"] += 1
                continue
            causes["without"]["boilerplate kept"] += 1
            details.append(f"without  {name}: {snippet!r}")
        if entry.get("date"):
            tally["date_total"] += 1
            ours = row.get("published_date")
            ours_text = ours.isoformat() if ours else None
            if ours_text == entry["date"]:
                tally["date_ok"] += 1
            else:
                page = page or _page(html_dir / name)
                cause = date_cause(page, entry["date"], ours_text)
                causes["date"][cause] += 1
                details.append(f"date     {name}: gold {entry['date']} ours {ours_text} ({cause})")
        if "author" in entry:
            _tally_authors(tally, details, name, entry["author"], authors.get(name) or [])
        if entry.get("title"):
            tally["title_total"] += 1
            ours, want = norm(row.get("title")).casefold(), norm(entry["title"]).casefold()
            tally["title_ok"] += ours == want
            tally["title_contained"] += bool(ours) and (ours in want or want in ours)
            if ours != want:
                page = page or _page(html_dir / name)
                cause = title_cause(page, entry["title"], row.get("title"))
                causes["title"][cause] += 1
                details.append(
                    f"title    {name}: gold {entry['title']!r} ours {row.get('title')!r}"
                )
    return {
        "pages": len(gold),
        "cleaned": cleaned.height,
        "seconds": seconds,
        "tally": tally,
        "quarantined": Counter(quarantined["rule"].to_list()),
        "causes": causes,
        "details": details,
    }


def _name_key(name: str) -> str:
    """A name case-folded without punctuation: trafilatura drops the dots of initials."""
    return _SPACE.sub(" ", re.sub(r"[^\w\s]", "", name)).strip().casefold()


def _tally_authors(
    tally: Counter[str], details: list[str], name: str, gold: str, ours: list[str]
) -> None:
    """Pages with a gold author that got one, and got the same names; pages whose gold
    says "no author" but got one."""
    want = [_name_key(n) for n in author_names(gold)]
    got = [_name_key(n) for n in ours]
    if not want:
        tally["author_none_total"] += 1
        tally["author_none_but_found"] += bool(got)
        return
    tally["author_total"] += 1
    tally["author_found"] += bool(got)
    tally["author_ok"] += got == want
    tally["author_all_gold_found"] += set(want) <= set(got)
    if got != want:
        details.append(f"author   {name}: gold {gold!r} ours {ours!r}")


def _page(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


def report(result: dict[str, Any], show_details: bool) -> bool:
    tally = result["tally"]
    print(
        f"pages {result['pages']}, cleaned {result['cleaned']}, "
        f"{result['pages'] / result['seconds']:.1f} pages/s (ingest + clean, "
        f"{result['seconds']:.1f} s)"
    )
    print("quarantined:", dict(result["quarantined"]) or "none")
    print()
    print("| metric | score | hits / total | target | before clean |")
    print("| --- | --- | --- | --- | --- |")
    met = True
    for key, target in TARGETS.items():
        ok, total = tally[f"{key}_ok"], tally[f"{key}_total"]
        score = ok / total if total else 0.0
        met &= score >= target
        extracted = tally.get(f"{key}_extracted")
        before = f"{extracted / total:.3f}" if extracted is not None and total else ""
        print(f"| {key} | {score:.3f} | {ok} / {total} | >= {target:.2f} | {before} |")
    contained = tally["title_contained"]
    print(
        f"| title containment | {contained / tally['title_total']:.3f} | "
        f"{contained} / {tally['title_total']} | | |"
    )
    total, none_total = tally["author_total"], tally["author_none_total"]
    if total:
        print(
            f"authors: {tally['author_found']} / {total} pages with a gold author get one; "
            f"{tally['author_ok']} match it exactly, {tally['author_all_gold_found']} hold "
            f"every gold name; {tally['author_none_but_found']} / {none_total} pages whose "
            "gold has no author get one"
        )
    print()
    for key, causes in result["causes"].items():
        if causes:
            print(f"{key} misses by cause: {dict(causes.most_common())}")
    if show_details:
        print("\n".join(["", *result["details"]]))
    return met


def main(argv: list[str]) -> int:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    args = [a for a in argv if not a.startswith("--")]
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    met = report(evaluate(corpus), "--details" in argv)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
