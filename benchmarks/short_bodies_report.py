"""Short bodies in real corpora: how many there are, how many share their text with
another document, and what dedupe's short-body rule (tasks/short_links.py) does with them.

Usage (from the repository root):

    .venv/bin/python benchmarks/short_bodies_report.py [../shared/corpus]

Runs ingest and clean (`_common.run_stages`, no Prefect, no lake) over
newsplease_5w1h/news_cluster, dragnet_meta/meta and bbc_fulltext/raw, fingerprints the
cleaned rows with the default `DedupeConfig`, and prints per corpus: cleaned documents,
short bodies (`short_body`), short bodies that share an exact or sentence-set key with
another document, the pairs among those (a pair = two documents sharing a key, one of
them short), how many of those pairs the rule links (agreeing title, dates within the
window) and how many it keeps apart, and the clusters dedupe makes of short bodies.
Titles are never printed (corpus text stays out of the output).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import polars as pl
from _common import dedupe_frame, run_stages

from newsflow.config import DedupeConfig
from newsflow.inputs import list_inputs
from tasks.fingerprints import fingerprints

CORPORA = ("newsplease_5w1h/news_cluster", "dragnet_meta/meta", "bbc_fulltext/raw")


def links(a: dict[str, Any], b: dict[str, Any], config: DedupeConfig) -> bool:
    """The short-body rule on one pair: agreeing titles, dates within the window."""
    titles = None in (a["title_key"], b["title_key"]) or a["title_key"] == b["title_key"]
    dates = (a["published_date"], b["published_date"])
    window = config.date_window_days
    return titles and (None in dates or window is None or abs((dates[0] - dates[1]).days) <= window)


def report(root: Path, config: DedupeConfig) -> None:
    files, _ = list_inputs(root)
    run = run_stages(root, files, "short")
    cleaned = run.cleaned
    fp = fingerprints(cleaned, config).join(cleaned.select("doc_id", "published_date"), on="doc_id")
    short = fp.filter("short_body")
    pairs: dict[tuple[str, str], bool] = {}  # each pair once, whichever key it shares
    for key in ("exact_key", "sentence_key"):
        groups = fp.filter(pl.col("short_body").any().over(key) & (pl.len().over(key) > 1))
        for _, group in groups.group_by(key):
            for a, b in itertools.combinations(group.sort("doc_id").rows(named=True), 2):
                if a["short_body"] or b["short_body"]:
                    pairs[a["doc_id"], b["doc_id"]] = links(a, b, config)
    linked = sum(pairs.values())
    shared = short.filter(
        (pl.len().over("exact_key") > 1) | (pl.len().over("sentence_key") > 1)
    ).height
    deduped, duplicates = dedupe_frame(cleaned, "short", config)
    short_ids = short["doc_id"].implode()
    merged_short = duplicates.filter(pl.col("doc_id").is_in(short_ids)).height
    print(
        f"{root.name}: {cleaned.height} cleaned, {short.height} short bodies, {shared} of them "
        f"sharing a key; {len(pairs)} key-sharing pairs with a short body: {linked} linked, "
        f"{len(pairs) - linked} kept apart; {merged_short} short bodies merged into a record "
        f"({deduped.height} records)"
    )


def main(corpus: Path) -> None:
    config = DedupeConfig()
    for name in CORPORA:
        report(corpus / name, config)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"))
