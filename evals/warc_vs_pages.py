"""Real pages through the WARC path and as saved files: do they give the same records?

Wraps the trafilatura evaluation pages (real HTML) as HTTP responses in a gzipped WARC
built in a temporary folder, ingests and cleans both the WARC and the pages, and
compares title, body, published_date and url per page. The target URI of each
response is the page's gold URL, so a page without a canonical link still matches.

    .venv/bin/python -m evals.warc_vs_pages [../shared/corpus/trafilatura_eval_en]
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from tasks.clean import clean_frame
from tasks.ingest import ingest_files

COMPARED = ["title", "body", "published_date", "url", "authors"]


def ingest_and_clean(root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    files, _ = list_inputs(root)
    [batch] = plan_batches(files, batch_size=10_000, max_bytes=1 << 62)
    result = ingest_files(batch, root, PipelineConfig(), "warc-vs-pages")
    cleaned, _, _ = clean_frame(result.ingested, dt.date.today())
    return cleaned, result.quarantined


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpus/trafilatura_eval_en")
    gold = {
        json.loads(line)["html_file"]: json.loads(line)
        for line in (corpus / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    }
    with tempfile.TemporaryDirectory() as tmp:
        pages, crawl = Path(tmp) / "pages", Path(tmp) / "crawl"
        pages.mkdir()
        crawl.mkdir()
        targets = {}
        with (crawl / "crawl.warc.gz").open("wb") as out:
            writer = WARCWriter(out, gzip=True)
            for path in sorted((corpus / "html").glob("*.gz")):
                html = gzip.decompress(path.read_bytes())
                name = path.name.removesuffix(".gz")
                shutil.copyfile(path, pages / path.name)
                entry = gold.get(f"html/{path.name}") or gold.get(path.name) or {}
                target = entry.get("url") or ""
                if not target.startswith("http"):  # gold has "hard::<name>" for some pages
                    target = f"https://pages.example/{name}"
                targets[path.name] = target
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
                record = writer.create_warc_record(
                    target, "response", payload=io.BytesIO(html), http_headers=headers
                )
                writer.write_record(record)
        saved, saved_rejects = ingest_and_clean(pages)
        warc, warc_rejects = ingest_and_clean(crawl)
    saved = saved.with_columns(page=pl.col("source_file"))
    warc = warc.with_columns(
        page=pl.col("record_index").map_elements(
            lambda i: sorted(targets)[i], return_dtype=pl.String
        )
    )
    joined = saved.select("page", *COMPARED).join(
        warc.select("page", *COMPARED), on="page", suffix="_warc", how="full", coalesce=True
    )
    print(f"pages: {len(targets)}; cleaned records: saved {saved.height}, warc {warc.height}")
    print(f"quarantined: saved {saved_rejects.height}, warc {warc_rejects.height}")
    for column in COMPARED:
        same = joined.filter(pl.col(column).eq_missing(pl.col(f"{column}_warc"))).height
        print(f"{column}: identical for {same} of {joined.height} pages")
    url_from_target = warc.filter(pl.col("url") == pl.col("url_raw")).height
    print(f"warc url equal to its target URI (no canonical link, or the same): {url_from_target}")


if __name__ == "__main__":
    main()
