"""A feed's teasers from ingest to enriched: records with their flag, never rejects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from expectations.validate import validate_stage
from newsflow.config import PipelineConfig
from newsflow.inputs import list_inputs, plan_batches
from newsflow.quality_config import QualityConfig
from tasks.clean import clean_frame
from tasks.enrich import enrich_frame, select_enrichers
from tasks.ingest import ingest_files
from tests.dedupe_on_lake import dedupe_frame

RUN_DATE = dt.date(2025, 1, 1)
# Invented NewsAPI `content` teasers: ~200 characters cut mid-word, then the marker.
TEASERS = [
    "Harbour councillors voted on Tuesday to close the old ferry pier for repairs after "
    "engineers found cracks in two of its supporting piles, a decision that traders "
    "said would hurt the summer mark… [+3120 chars]",
    "The county library service will lend laptops and mobile hotspots to members without "
    "internet at home from next month, its director said, as part of a plan to widen "
    "access to online lear… [+2045 chars]",
    "Rail passengers between Northgate and the coast face a month of replacement buses "
    "from March while the operator rebuilds a bridge damaged in last winter's floods, "
    "the company annou… [+1876 chars]",
]


def test_newsapi_teasers_reach_enriched_with_their_flag(tmp_path: Path) -> None:
    articles = [
        {
            "source": {"id": None, "name": "Harbour Times"},
            "author": "Ada Quill",
            "title": f"Teaser {i}",
            "description": None,
            "url": f"https://news.example/story/{i}",
            "urlToImage": None,
            "publishedAt": f"2024-03-0{i + 1}T09:00:00Z",
            "content": content,
        }
        for i, content in enumerate(TEASERS)
    ]
    (tmp_path / "newsapi.json").write_text(
        json.dumps({"status": "ok", "totalResults": 3, "articles": articles})
    )
    config = PipelineConfig(input_dir=tmp_path)
    files, _ = list_inputs(tmp_path)
    [batch] = plan_batches(files, batch_size=10, max_bytes=10**9)
    ingested = ingest_files(batch, tmp_path, config, run_id="r").ingested
    assert ingested.height == 3

    outputs = clean_frame(ingested, RUN_DATE)
    cleaned, quarantined = outputs[0], outputs[-1]  # the first and last output
    assert quarantined.is_empty()
    assert cleaned["truncation_reason"].to_list() == ["char_count_marker"] * 3
    gate = validate_stage("cleaned", cleaned, QualityConfig(), RUN_DATE)
    assert gate.rows_to_quarantine().is_empty()  # under 30 words, kept as teasers

    deduped, _ = dedupe_frame(cleaned, "r")
    names = ["counts_v2", "language_v2", "keywords_v2", "quality_v2"]
    enriched = enrich_frame(deduped, select_enrichers(names))
    assert enriched.height == 3
    assert enriched["body_truncated"].to_list() == [True] * 3
    assert enriched["truncation_reason"].to_list() == ["char_count_marker"] * 3
    assert (enriched["quality_score"] <= 0.5).all()
    phrases = enriched["keywords"].explode().drop_nulls().to_list()
    assert phrases
    words = {word.casefold() for phrase in phrases for word in phrase.split()}
    assert not words & {"chars", "mark", "lear", "annou"}  # marker and cut-off words
