"""How often clean flags bodies as truncated: complete articles against teasers.

Usage (from the repository root):

    .venv/bin/python -m evals.truncation_eval [--corpus ../shared/corpus] [--show 10]

Runs ingest, line statistics and `clean_frame` (the pipeline's own pure steps, no
Prefect) over three corpora of complete articles:

* `trafilatura_eval_en/html` (HTML pages, extracted by the HTML path),
* `newsplease_5w1h/news_cluster` and `google_news` (news-please JSON, one corpus),
* `bbc_fulltext/raw` (plain text),

and prints, per corpus, the share of cleaned bodies flagged `body_truncated`, per
`truncation_reason`. Every body there was published as a whole article, so a flag is
a false alarm unless the corpus copy itself is cut (a paywall teaser; read them with
`--show`). Issue 24 asks for at most 2 %.

Then it makes teasers of the same articles, the way feeds cut them, and prints the
share of each kind that is flagged (recall):

* `newsapi`: the first 200 characters, then "… [+N chars]" (NewsAPI's `content`);
* `rss_ellipsis`: the first ~300 characters cut at a word boundary, then "…";
* `rss_bracket`: the same, then " […]" (WordPress excerpts);
* `cut_mid_word`: the first ~300 characters cut inside a word, no marker;
* `cut_after_word`: the first ~300 characters cut after a word, no marker (a cut
  that happens to fall after a sentence end is undetectable and stays in the count).

`--show N` prints the last 100 characters of N flagged complete bodies per reason, to
read for false alarms. Corpus text is printed to the terminal only; never paste it
into the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import polars as pl

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.schema import LINE_DOCS
from tasks.clean import clean_frame
from tasks.ingest import ingest_files
from tasks.line_stats import document_lines, domain_lines, merged_documents

RUN_DATE = dt.date.today()
CORPORA = {
    "trafilatura_eval_en": ["trafilatura_eval_en/html"],
    "newsplease_5w1h": ["newsplease_5w1h/news_cluster", "newsplease_5w1h/google_news"],
    "bbc_fulltext": ["bbc_fulltext/raw"],
}
TEASER_CHARS = 300


def ingested(corpus: Path, config: PipelineConfig) -> pl.DataFrame:
    frames = []
    for name, folders in CORPORA.items():
        for folder in folders:
            root = corpus / folder
            files, _ = list_inputs(root)
            for batch in plan_batches(files, batch_size=config.batch_size, max_bytes=10**12):
                rows = ingest_files(batch, root, config, "truncation_eval").ingested
                frames.append(rows.with_columns(corpus=pl.lit(name)))
    return pl.concat(frames)


def cleaned(rows: pl.DataFrame, config: PipelineConfig) -> pl.DataFrame:
    """clean_frame over all rows, with line statistics counted first (as a run does)."""
    documents = merged_documents(pl.DataFrame(schema=LINE_DOCS), document_lines(rows, "eval"))
    stats = domain_lines(documents)
    out = clean_frame(rows.drop("corpus"), RUN_DATE, stats, config.domain_repeat)[0]
    return out.join(rows.select("doc_id", "corpus"), on="doc_id")


def flagged_shares(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """Per group: bodies, share flagged, and share flagged per reason (in %)."""
    reasons = sorted(frame["truncation_reason"].drop_nulls().unique())
    return (
        frame.group_by(by)
        .agg(
            bodies=pl.len(),
            flagged_pct=(pl.col("body_truncated").mean() * 100).round(2),
            **{
                f"{reason}_pct": (is_reason.fill_null(False).mean() * 100).round(2)
                for reason in reasons
                for is_reason in [pl.col("truncation_reason") == reason]
            },
        )
        .sort(by)
    )


def _cut(body: str, *, mid_word: bool) -> str:
    """The first ~TEASER_CHARS characters of a body's text, cut inside or after a word."""
    text = " ".join(body.split())[: TEASER_CHARS + 40]
    if len(text) <= TEASER_CHARS:
        return ""
    head = text[:TEASER_CHARS]
    if mid_word:
        # Inside the word that straddles the cut: keep at least two of its letters.
        start = head.rstrip().rfind(" ") + 1
        word_end = text.find(" ", start)
        word = text[start : word_end if word_end > 0 else len(text)]
        if len(word) < 4 or not word.isalpha():
            return ""
        return text[: start + len(word) // 2]
    return head.rsplit(" ", 1)[0]


def teasers(bodies: pl.DataFrame) -> pl.DataFrame:
    """Feed-style teasers of complete bodies: kind, doc_id and the teaser as a body."""
    rows = []
    for doc_id, body in bodies.select("doc_id", "body").iter_rows():
        flat = " ".join(body.split())
        if len(flat) > 400:
            rows.append(("newsapi", doc_id, f"{flat[:200]}… [+{len(flat) - 200} chars]"))
        after_word = _cut(body, mid_word=False)
        if after_word:
            rows.append(("rss_ellipsis", doc_id, after_word + "…"))
            rows.append(("rss_bracket", doc_id, after_word + " […]"))
            rows.append(("cut_after_word", doc_id, after_word))
        mid_word = _cut(body, mid_word=True)
        if mid_word:
            rows.append(("cut_mid_word", doc_id, mid_word))
    return pl.DataFrame(rows, schema=["kind", "doc_id", "teaser"], orient="row")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--show", type=int, default=0, help="flagged bodies to print per reason")
    args = parser.parse_args(argv)
    config = PipelineConfig()

    rows = ingested(args.corpus, config)
    complete = cleaned(rows, config)
    with pl.Config(tbl_rows=20, tbl_cols=12, tbl_width_chars=160):
        print("complete articles (a flag is a false alarm unless the copy is cut):")
        print(flagged_shares(complete, "corpus"))
        print(flagged_shares(complete.with_columns(corpus=pl.lit("all")), "corpus"))
        if args.show:
            flagged = complete.filter(pl.col("body_truncated"))
            for (reason,), group in flagged.group_by("truncation_reason", maintain_order=True):
                print(f"\n=== {reason}: {min(args.show, group.height)} of {group.height}")
                for corpus, body in (
                    group.sample(min(args.show, group.height), seed=1)
                    .select("corpus", "body")
                    .iter_rows()
                ):
                    print(f"  [{corpus[:12]}] …{body[-100:]!r}")

        made = teasers(complete)
        teaser_rows = (
            rows.drop("body")
            .join(made, on="doc_id")
            .with_columns(
                body=pl.col("teaser"),
                doc_id=pl.concat_str("doc_id", pl.lit("-"), "kind"),
            )
        )
        kinds = teaser_rows.select("doc_id", "kind")
        teaser_clean = cleaned(teaser_rows.drop("teaser", "kind"), config).join(kinds, on="doc_id")
        print("\nteasers made from the same articles (every flag is a hit):")
        print(flagged_shares(teaser_clean, "kind"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
