"""How publication dates in real crawler output parse: present, parsed, flagged, from the URL.

Usage (from the repository root):

    .venv/bin/python -m evals.date_parse_report [../shared/corpus]

Reads the raw date and URL of every record straight from the corpus JSON (not through
ingest, so the numbers are about `tasks.dates` alone):

- newsplease_5w1h/*/*.json: `date_publish`
- dragnet_meta/meta/*.json: `dt_published`
- trafilatura_eval_en/gold.jsonl: the gold `date` (YYYY-MM-DD); used to check the
  URL fallback, which is compared with the gold date wherever the URL has one.

Prints per corpus: records, raw dates present, parsed from raw, flags, dates taken from
the URL, how often a URL date agrees with a parsed raw date (exactly, and within a day:
a URL carries the date in the newsroom's zone, a raw datetime often another), how many
strings reached the per-row Python fallback, and rows/s of `published_date` (on the
corpus rows repeated to at least 500,000, so the fixed cost of a query does not dominate).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

import tasks.dates
from tasks.dates import date_from_url, parsed_date, published_date

RUN_DATE = dt.date.today()
TIMED_ROWS = 500_000
SOURCES = {
    "newsplease_5w1h": ("newsplease_5w1h/*/*.json", "date_publish"),
    "dragnet_meta": ("dragnet_meta/meta/*.json", "dt_published"),
}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def json_records(corpus: Path, pattern: str, date_key: str) -> tuple[pl.DataFrame, int]:
    """(raw date, url) per readable JSON file, and how many files could not be read."""
    rows: list[dict[str, str | None]] = []
    unreadable = 0
    for path in sorted(corpus.glob(pattern)):
        try:
            record = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            unreadable += 1
            continue
        if not isinstance(record, dict):
            unreadable += 1
            continue
        rows.append({"raw": _text(record.get(date_key)), "url": _text(record.get("url"))})
    return pl.DataFrame(rows, schema={"raw": pl.String, "url": pl.String}), unreadable


def gold_records(corpus: Path) -> pl.DataFrame:
    lines = (corpus / "trafilatura_eval_en" / "gold.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return pl.DataFrame(
        [{"raw": _text(r.get("date")) or None, "url": _text(r.get("url"))} for r in rows],
        schema={"raw": pl.String, "url": pl.String},
    )


def report(name: str, df: pl.DataFrame, unreadable: int = 0) -> dict[str, Any]:
    calls: list[str] = []
    fallback = tasks.dates._fallback_date

    def counted(text: str) -> dt.date | None:
        calls.append(text)
        return fallback(text)

    tasks.dates._fallback_date = counted
    try:
        out = df.with_columns(
            from_raw=parsed_date(pl.col("raw")),
            from_url=date_from_url(pl.col("url")),
            dates=published_date(pl.col("raw"), pl.col("url"), RUN_DATE),
        ).unnest("dates")
    finally:
        tasks.dates._fallback_date = fallback
    both = out.filter(pl.col("from_raw").is_not_null() & pl.col("from_url").is_not_null())
    days_apart = (both["from_raw"] - both["from_url"]).dt.total_days().abs()
    flags = out.group_by("date_flag").len().drop_nulls().sort("date_flag")
    unparsed = out.filter(pl.col("raw").is_not_null() & pl.col("from_raw").is_null())
    return {
        "corpus": name,
        "records": out.height,
        "unreadable_files": unreadable,
        "raw_present": out.filter(~tasks.dates.is_missing(pl.col("raw"))).height,
        "parsed_from_raw": out["from_raw"].is_not_null().sum(),
        "python_fallback_calls": len(calls),
        "flags": dict(flags.iter_rows()),
        "usable_date": out["published_date"].is_not_null().sum(),
        "by_source": dict(
            out.group_by("date_source").len().drop_nulls().sort("date_source").rows()
        ),
        "url_date_when_raw_missing_or_unparseable": out.filter(
            pl.col("date_source") == "url"
        ).height,
        "url_has_date": out["from_url"].is_not_null().sum(),
        "url_agrees_with_raw": f"{(days_apart == 0).sum()}/{both.height}",
        "url_within_1_day_of_raw": f"{(days_apart <= 1).sum()}/{both.height}",
        "unparsed_examples": unparsed["raw"].unique().sort().head(5).to_list(),
        "rows_per_s": rows_per_second(df),
    }


def rows_per_second(df: pl.DataFrame) -> int:
    """Best of three runs: the machine is shared."""
    repeated = pl.concat([df] * max(1, TIMED_ROWS // max(df.height, 1))).rechunk()
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        repeated.select(published_date(pl.col("raw"), pl.col("url"), RUN_DATE))
        seconds.append(time.perf_counter() - started)
    return round(repeated.height / min(seconds))


def main(corpus: Path) -> None:
    results = [report(name, *json_records(corpus, *src)) for name, src in SOURCES.items()]
    results.append(report("trafilatura_eval_en (gold dates)", gold_records(corpus)))
    for result in results:
        print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"))
