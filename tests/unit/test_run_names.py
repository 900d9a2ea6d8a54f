"""Names that make runs findable: the lake's slug, batch labels, the run id in a name."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from flows.run_names import RUN_ID, artifact_key, batch_label, labels_from_manifest, new_run_id
from newsflow.config import PipelineConfig, lake_slug
from newsflow.inputs import Batch, InputFile, digest
from newsflow.schema import FILE_MANIFEST


def test_the_slug_is_the_lake_folder_s_last_two_parts_unless_named() -> None:
    assert lake_slug(Path("/srv/News Feeds/lake")) == "news-feeds-lake"
    assert lake_slug("/srv/news/lake", "Nightly BBC") == "nightly-bbc"
    config = PipelineConfig(lake_dir=Path("/srv/a/lake"))
    assert artifact_key("newsflow-run-counts", config) == "newsflow-run-counts-a-lake"


@given(st.text(min_size=1, max_size=40))
def test_a_slug_is_always_a_valid_artifact_key_part(name: str) -> None:
    slug = lake_slug("/x/y", name)
    assert slug
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert slug == slug.lower()


def test_a_batch_label_is_short_readable_and_keeps_six_hex_of_its_id() -> None:
    batch_id = digest("x")
    assert batch_label("bbc/business/001.txt", 500, batch_id) == f"001.txt+499-{batch_id[:6]}"
    assert batch_label("one.json", 1, batch_id) == f"one.json-{batch_id[:6]}"
    long = batch_label("a-very-long-file-name-from-a-crawler-2026.warc.gz", 3, batch_id)
    assert long == f"a-very-long-file-name-f~+2-{batch_id[:6]}"
    assert len(long) < 40


def test_labels_cover_earlier_batches_from_the_manifest_and_this_run_s_plan() -> None:
    manifest = pl.DataFrame(
        {
            "content_hash": ["h1", "h2", "h3"],
            "source_file": ["old/a.txt", "old/b.txt", "old/c.txt"],
            "size_bytes": [1, 1, 1],
            "batch_id": ["b" * 32, "b" * 32, "c" * 32],
            "run_id": ["r"] * 3,
            "status": ["ingested"] * 3,
            "records": [1] * 3,
        },
        schema=FILE_MANIFEST,
    )
    planned = Batch("d" * 32, (InputFile("new/x.txt", "h4", 1),))
    labels = labels_from_manifest(manifest, [planned])
    assert labels == {
        "b" * 32: "a.txt+1-bbbbbb",
        "c" * 32: "c.txt-cccccc",
        "d" * 32: "x.txt-dddddd",
    }


def test_a_run_id_is_found_again_in_a_run_name() -> None:
    run_id = new_run_id()
    assert RUN_ID.fullmatch(run_id)
    match = RUN_ID.search(f"news-lake {run_id}")
    assert match
    assert match.group(0) == run_id
