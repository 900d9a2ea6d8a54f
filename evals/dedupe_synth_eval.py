"""Dedupe on a generated corpus with known copies: pairwise scores, recall per copy kind.

Usage (from the repository root):

    .venv/bin/python -m evals.dedupe_eval --synthetic 10000 [--dup-rate 0.3] \
        [--seed 7] [--keep /tmp/synth10k] [--details]

`synth_corpus.generate` writes N documents into a temporary folder (or `--keep`),
the pipeline's pure stages run over them (`benchmarks.common.run_stages`), and the clusters
are scored against `truth.tsv`: a pair of files is a duplicate when both hold the
same article id. Counting is by group sizes (sum of n(n-1)/2), so no pairs are
listed and 100k documents cost nothing extra. Also printed: the share of each kind
of copy that ended in its original's cluster, and what clean did with the injected
comment disclaimers (a copy keeps them, its twin in the other layout has none).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.common import cluster_ids, fmt, ratio, run_stages
from benchmarks.synth_corpus import DISCLAIMERS, SITES, generate
from newsflow.inputs import list_inputs


def pair_count(frame: pl.DataFrame, *keys: str) -> int:
    """Pairs of rows that agree on all `keys`."""
    sizes = frame.group_by(keys).len()["len"].cast(pl.Int64)
    return int((sizes * (sizes - 1) // 2).sum())


def disclaimer_report(cleaned: pl.DataFrame) -> tuple[int, pl.DataFrame]:
    """Injected disclaimer lines left in cleaned bodies, and removals per rule split into
    disclaimers and article sentences (a removed sentence is a clean false positive)."""
    known = [d.format(site=site) for d in DISCLAIMERS for site in SITES.values()]
    left = cleaned.select(
        pl.col("body").str.split("\n\n").list.eval(pl.element().is_in(known)).list.sum()
    )
    removed = (
        cleaned.select(pl.col("removed_lines").list.explode(keep_nulls=False))
        .unnest("removed_lines")
        .group_by("rule", disclaimer=pl.col("text").is_in(known))
        .len()
        .sort("rule", "disclaimer")
    )
    return int(left.to_series().sum()), removed


def print_synthetic(
    n: int, dup_rate: float, seed: int, source: Path, keep: Path | None, details: bool
) -> None:
    with tempfile.TemporaryDirectory(prefix="newsflow-synth-") as tmp:
        out = keep or Path(tmp)
        started = time.perf_counter()
        info = generate(source, out, n, dup_rate, seed)
        generated = time.perf_counter() - started
        files, _ = list_inputs(out / "docs")
        run = run_stages(out / "docs", files, "dedupe-eval-synth")
        truth = pl.read_csv(out / "truth.tsv", separator="\t", infer_schema=False)

    file_of = dict(run.cleaned.select("doc_id", "source_file").iter_rows())
    clusters = cluster_ids(file_of, run.duplicates.select("doc_id", "kept_doc_id").iter_rows())
    predicted = pl.DataFrame({"file": [file_of[d] for d in clusters], "cluster": clusters.values()})
    # A file without a cleaned row (quarantined) is a cluster of its own.
    scored = truth.join(predicted, on="file", how="left").with_columns(
        pl.col("cluster").fill_null(pl.col("file"))
    )
    labelled = pair_count(scored, "article_id")
    found = pair_count(scored, "cluster")
    agreed = pair_count(scored, "cluster", "article_id")
    originals = scored.filter(pl.col("role") == "original").select(
        "article_id", original_cluster="cluster"
    )
    per_kind = (
        scored.filter(pl.col("role") == "duplicate")
        .join(originals, on="article_id")
        .group_by("kind")
        .agg(copies=pl.len(), merged=(pl.col("cluster") == pl.col("original_cluster")).sum())
        .sort("kind")
    )
    left, removed = disclaimer_report(run.cleaned)

    print(f"\n## synthetic: {n:,} documents, dup rate {dup_rate}, seed {seed}")
    print(
        f"generated in {generated:.1f} s: {info['originals']:,} originals "
        f"({info['originals_real']:,} real, {info['originals_recombined']:,} recombined; "
        f"largest word Jaccard between two: {info['max_word_jaccard_between_originals']}), "
        f"{info['duplicates']:,} copies"
    )
    print(
        f"{run.ingested.height:,} ingested -> {run.cleaned.height:,} cleaned -> "
        f"{run.deduped_rows:,} deduped (truth: {info['originals']:,} articles)"
    )
    print(run.timing_line())
    print("| pairs | labelled | predicted | agreed | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| all | {labelled:,} | {found:,} | {agreed:,} | {fmt(ratio(agreed, found))} | "
        f"{fmt(ratio(agreed, labelled))} |"
    )
    print("\n| copy kind | copies | in their original's cluster | share |")
    print("| --- | --- | --- | --- |")
    for kind, copies, merged in per_kind.iter_rows():
        print(f"| {kind} | {copies:,} | {merged:,} | {fmt(ratio(merged, copies))} |")
    injected = int(truth["disclaimers"].cast(pl.Int64).sum())
    print(f"\ninjected disclaimer lines left after clean: {left:,} of {injected:,}")
    for rule, disclaimer, count in removed.iter_rows():
        print(f"removed by {rule}: {count:,} {'disclaimers' if disclaimer else 'article lines'}")
    if details:
        mixed = (
            scored.group_by("cluster")
            .agg("file", "article_id", articles=pl.col("article_id").n_unique())
            .filter(pl.col("articles") > 1)
            .sort("cluster")
        )
        print(f"clusters holding more than one article: {mixed.height}")
        for _, members, article_ids, _ in mixed.head(30).iter_rows():
            print(
                "  false merge:", ", ".join(map(":".join, zip(members, article_ids, strict=True)))
            )
