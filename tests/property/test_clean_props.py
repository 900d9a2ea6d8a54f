"""Properties of boilerplate removal for any body: idempotent, adds nothing, loses nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsflow.config import RepeatThresholds
from newsflow.schema import INGESTED, conform
from tasks.boilerplate import line_hash
from tasks.clean import PARAGRAPH_BREAK, clean_frame, normalised_text

RUN_DATE = dt.date(2026, 11, 23)
URLS = [None, "https://www.examplegazette.com/a", "https://other-paper.example.org/b"]
REPEATED = [
    "Got a story? Send it to the news desk.",
    '"We are ready," she said.',  # recurs, but a quote: kept
    "Updated 14 May 2019",
]
PARAGRAPHS = st.sampled_from(
    [
        *REPEATED,
        "The council met on Monday.",
        "Share this article",
        "Read more:",
        "Photo: Jane Roe/Example Wire",
        "© 2021 Example Media Ltd",
        "Examplegazette will not be held responsible for comments on our website.",
        "Examplegazette reported that the minister resigned.",
        "Washington, Dec 8 (IANS) The talks lasted two hours.",
        "She said she would subscribe to the plan.",
        "updated 2 may 2020",
        "Advertisement",
        "Yes.",
        "cafÃ© owners",
        # Rules that read the rest of the body: the title ("T") repeated, a bio teaser,
        # a consent wall and a cookie line that goes only with one.
        "T",
        "Jane Roe is a writer at Example Gazette who covers ferries.",
        "If you click 'Accept all', we and our partners will store data.",
        "Our partners use cookies on this quay.",
    ]
)
BODY = st.one_of(
    st.lists(PARAGRAPHS | st.text(max_size=60), max_size=8).map(PARAGRAPH_BREAK.join),
    st.text(max_size=200),
)
THRESHOLDS = RepeatThresholds(min_domain_docs=10, repeat_min_docs=3, repeat_min_share=0.2)
# Both domains of URLS have a repeated footer; only the first one holds enough documents.
STATS = pl.concat(
    pl.DataFrame({"text": REPEATED}).select(
        domain=pl.lit(domain),
        line_hash=line_hash(pl.col("text")),
        doc_count=pl.lit(8, dtype=pl.Int64),
        domain_docs=pl.lit(docs, dtype=pl.Int64),
    )
    for domain, docs in [("examplegazette.com", 10), ("example.org", 9)]
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(bodies: list[str]) -> pl.DataFrame:
    rows = [
        {
            "doc_id": f"d{i}",
            "run_id": "r",
            "batch_id": "b",
            "source_file": f"f{i}",
            "record_index": 0,
            "layout": "plain",
            "encoding": "utf-8",
            "title": "T",
            "date_raw": "20211208",
            "url": URLS[i % len(URLS)],
            "body": body,
            "site_name": None,
        }
        for i, body in enumerate(bodies)
    ]
    return pl.DataFrame(rows, schema=INGESTED)


def cleaned(ingested: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return clean_frame(ingested, RUN_DATE, STATS, THRESHOLDS)


def normalised_paragraphs(body: str) -> list[str]:
    text = pl.select(normalised_text(pl.lit(body, dtype=pl.String))).item() or ""
    return text.split(PARAGRAPH_BREAK)


@SETTINGS
@given(st.lists(BODY, min_size=1, max_size=6))
@example(["Â\r0"])  # a line break that becomes a space beside "Â" (a mojibake lead)
def test_cleaning_twice_is_cleaning_once(bodies: list[str]) -> None:
    once, _, _ = cleaned(frame(bodies))
    again = conform(once.with_columns(url=pl.col("url_raw")).select(INGESTED.names()), INGESTED)
    twice, metadata_only, quarantined = cleaned(again)
    assert quarantined.is_empty()
    assert metadata_only.is_empty()
    assert twice.select("doc_id", "body").equals(once.select("doc_id", "body"))
    assert twice["removed_lines"].list.len().sum() == 0  # nothing left to remove


# Characters where ftfy and white-space normalisation meet: mojibake lead characters,
# line breaks of every kind, no-break and ideographic spaces, C1 controls, entities.
TRICKY = st.lists(
    st.sampled_from(list("ÂÃâ€™\x80\x85\xa0\u3000\u2028 \r\n\t&;amp’“é0a")), max_size=12
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TRICKY, st.text(max_size=40)))
def test_normalising_text_twice_is_normalising_once(text: str) -> None:
    once = pl.select(normalised_text(pl.lit(text, dtype=pl.String))).item()
    assert pl.select(normalised_text(pl.lit(once, dtype=pl.String))).item() == once


@SETTINGS
@given(st.lists(BODY, min_size=1, max_size=6))
def test_every_paragraph_is_kept_or_recorded_and_nothing_is_added(bodies: list[str]) -> None:
    ingested = frame(bodies)
    rows, metadata_only, quarantined = cleaned(ingested)
    assert rows.height + metadata_only.height + quarantined.height == ingested.height
    bodies_by_id = dict(zip(ingested["doc_id"], ingested["body"], strict=True))
    # Every row has a title: metadata-only exactly when the source's body is blank.
    blank = {d for d, body in bodies_by_id.items() if not "".join(normalised_paragraphs(body))}
    assert set(metadata_only["doc_id"]) == blank
    assert metadata_only["body"].is_null().all()
    for row in rows.iter_rows(named=True):
        before = Counter(normalised_paragraphs(bodies_by_id[row["doc_id"]]))
        kept = Counter(row["body"].split(PARAGRAPH_BREAK))
        removed = Counter(line["text"] for line in row["removed_lines"])
        assert kept <= before  # clean never adds or rewrites a paragraph
        assert kept + removed == before  # and every paragraph it drops is on record
        assert all(line["rule"] for line in row["removed_lines"])
    for row in quarantined.iter_rows(named=True):  # emptied rows: all of it was boilerplate
        paragraphs = [p for p in normalised_paragraphs(bodies_by_id[row["doc_id"]]) if p]
        assert f"({len(paragraphs)} paragraphs removed as boilerplate" in row["detail"]
        # Every row has a title, so a quarantined row had text: the rules emptied it.
        assert paragraphs
        assert row["rule"] == "furniture_only"
