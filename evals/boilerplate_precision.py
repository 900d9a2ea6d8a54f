"""Does any boilerplate rule delete real text? Per-rule removals against gold, and samples.

Usage (from the repository root):

    .venv/bin/python -m evals.boilerplate_precision [--corpus ../shared/corpus] \
        [--sample 20] [--seed 1] [--rule NAME ...]

Runs the pipeline's pure steps (`boilerplate_report.ingested`: ingest per batch,
line statistics over every ingested row, then `clean_frame`) over the development
corpora together, as one run would: trafilatura_eval_en's HTML pages,
newsplease_5w1h, bbc_fulltext/raw and dragnet_meta. Prints per removal rule the
paragraphs removed per corpus and, on trafilatura_eval_en, how many of them hold a
gold `with` snippet (a false removal: text the gold says is the article) or a gold
`without` snippet (confirmed furniture). Where no gold exists, a seeded sample of
each rule's removals is printed for reading by hand (`--sample`; to the terminal
only: corpus text never goes into the repository). Then the clean stage's
quarantine rules, and the `with` found / `without` removed shares of
trafilatura_eval_en computed exactly as `html_eval.py` computes them.

Exits 1 when a rule removes a gold `with` snippet or a share misses its floor
(`FLOORS`: the figures before this script existed).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import polars as pl

from evals.boilerplate_report import RUN_DATE, ingested
from evals.html_eval import evaluate, norm
from newsflow.config import PipelineConfig
from newsflow.schema import LINE_DOCS
from tasks.boilerplate import repeated_lines
from tasks.clean import clean_frame, normalised_text, without_boilerplate
from tasks.line_stats import document_lines, domain_lines, merged_documents

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
# corpus folder name -> the folder(s) of files to ingest under it
FOLDERS = {
    "trafilatura_eval_en": ["html"],
    "newsplease_5w1h": ["news_cluster", "google_news"],
    "bbc_fulltext": ["raw"],
    "dragnet_meta": ["meta"],
}
GOLD = "trafilatura_eval_en"
# The shares through ingest + clean before this script: never fall below them.
FLOORS = {"with": 0.949, "without": 0.917}


def gold_snippets(corpus: Path) -> dict[str, dict[str, list[str]]]:
    """source_file (relative to html/) -> normalised `with` and `without` snippets."""
    lines = (corpus / GOLD / "gold.jsonl").read_text().splitlines()
    gold = {}
    for entry in (json.loads(line) for line in lines if line):
        name = Path(entry["html_file"]).relative_to("html").as_posix()
        gold[name] = {k: [norm(s) for s in entry[k] if norm(s)] for k in ("with", "without")}
    return gold


def cleaned_corpora(
    corpus: Path,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(ingested, cleaned, quarantined, line stats) over every corpus, as one run."""
    config = PipelineConfig()
    folders = [corpus / name / sub for name, subs in FOLDERS.items() for sub in subs]
    rows = ingested([f for f in folders if f.is_dir()], config)
    rows = rows.with_columns(
        corpus=pl.col("folder").replace({sub: name for name, s in FOLDERS.items() for sub in s})
    )
    documents = merged_documents(pl.DataFrame(schema=LINE_DOCS), document_lines(rows, "precision"))
    stats = domain_lines(documents)
    cleaned, _, quarantined = clean_frame(
        rows.drop("folder", "corpus"), RUN_DATE, stats, config.domain_repeat
    )
    return rows, cleaned, quarantined, stats


def removals(
    rows: pl.DataFrame, cleaned: pl.DataFrame, quarantined: pl.DataFrame, stats: pl.DataFrame
) -> pl.DataFrame:
    """One row per removed paragraph: doc_id, corpus, source_file, url, rule, text.

    A quarantined record's paragraphs are not in `cleaned`: its removals are read back
    with the same function clean calls, so the paragraphs of emptied records count too.
    """
    emptied = rows.filter(pl.col("doc_id").is_in(quarantined["doc_id"].implode()))
    again = without_boilerplate(
        emptied.with_columns(
            title=normalised_text(pl.col("title")),
            body=normalised_text(pl.col("body")).fill_null(""),
            url_raw="url",
        ),
        repeated_lines(stats.lazy(), PipelineConfig().domain_repeat).collect(),
    )
    lines = pl.concat(
        [
            cleaned.select("doc_id", "source_file", "url", "removed_lines"),
            again.select("doc_id", "source_file", "url", "removed_lines"),
        ]
    )
    return (
        lines.explode("removed_lines")
        .drop_nulls("removed_lines")
        .unnest("removed_lines")
        .join(rows.select("doc_id", "corpus"), on="doc_id")
    )


def with_gold(removed: pl.DataFrame, gold: dict[str, dict[str, list[str]]]) -> pl.DataFrame:
    """`removed` plus, on the gold corpus, whether each paragraph holds a with/without
    snippet of its page (null elsewhere)."""

    def holds(kind: str) -> pl.Expr:
        return pl.struct("source_file", "text", "corpus").map_elements(
            lambda r: (
                None
                if r["corpus"] != GOLD
                else any(s in norm(r["text"]) for s in gold.get(r["source_file"], {}).get(kind, []))
            ),
            return_dtype=pl.Boolean,
        )

    return removed.with_columns(holds_with=holds("with"), holds_without=holds("without"))


def print_rule_table(removed: pl.DataFrame) -> None:
    per_corpus = removed.pivot(
        on="corpus", index="rule", values="text", aggregate_function="len"
    ).fill_null(0)
    gold = (
        removed.filter(pl.col("corpus") == GOLD)
        .group_by("rule")
        .agg(
            false_with=pl.col("holds_with").sum(),
            confirmed_without=pl.col("holds_without").sum(),
        )
    )
    table = (
        per_corpus.join(gold, on="rule", how="left")
        .fill_null(0)
        .with_columns(all=pl.sum_horizontal(c for c in per_corpus.columns if c != "rule"))
        .sort("rule")
    )
    with pl.Config(tbl_rows=60, tbl_cols=20, tbl_width_chars=200):
        print(table)


def print_samples(removed: pl.DataFrame, size: int, seed: int, only: list[str]) -> None:
    """Removals with no gold verdict (other corpora, or gold pages where the paragraph
    holds no snippet), a seeded sample per rule, to judge by hand."""
    unjudged = removed.filter(~pl.col("holds_with").fill_null(False))
    for (rule,), group in unjudged.group_by("rule", maintain_order=True):
        if only and rule not in only:
            continue
        sample = group.sample(min(size, group.height), seed=seed)
        print(f"\n=== {rule}: {sample.height} of {group.height} without a gold verdict")
        for corpus, url, text, confirmed in sample.select(
            "corpus", "url", "text", "holds_without"
        ).iter_rows():
            mark = "W" if confirmed else " "
            print(f"  {mark} [{corpus[:8]} {(url or '-')[8:50]}] {text[:220]!r}")


def main(argv: list[str]) -> int:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=int, default=20, help="removals per rule to print")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rule", action="append", default=[], help="sample only these rules")
    args = parser.parse_args(argv)

    rows, cleaned, quarantined, stats = cleaned_corpora(args.corpus)
    removed = with_gold(removals(rows, cleaned, quarantined, stats), gold_snippets(args.corpus))
    print(f"rows ingested {rows.height}:", dict(rows["corpus"].value_counts().iter_rows()))
    print("removed paragraphs per rule and corpus; on the gold corpus, how many hold a")
    print("`with` snippet (false removals) and a `without` snippet (confirmed furniture):")
    print_rule_table(removed)
    quarantine = quarantined.join(rows.select("doc_id", "corpus"), on="doc_id", how="left")
    print("\nclean's quarantine per rule and corpus:")
    print(quarantine.group_by("corpus", "rule").len().sort("corpus", "rule"))
    if args.sample:
        print_samples(removed, args.sample, args.seed, args.rule)

    result = evaluate(args.corpus / GOLD)
    tally = result["tally"]
    print(f"\n{GOLD} through ingest + clean (html_eval.py's measure):")
    met = not removed["holds_with"].any()
    for key, floor in FLOORS.items():
        ok, total = tally[f"{key}_ok"], tally[f"{key}_total"]
        met &= ok / total >= floor
        print(f"  {key}: {ok / total:.3f} ({ok} / {total}), floor {floor}")
    print(f"  false removals (gold `with` in a removed paragraph): {removed['holds_with'].sum()}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
