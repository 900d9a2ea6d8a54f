"""Large files stream: JSON Lines, CSV and WARC files are read record by record and their
rows built and written in chunks, so memory stays bounded however large the file is."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import tracemalloc
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import zstandard

from newsflow.config import PipelineConfig
from newsflow.lake import Lake
from newsflow.schema import INGESTED
from tasks.ingest import IngestLog, ingest, ingest_files, ingested_chunks
from tasks.streams import HEAD_BYTES
from tests.articles import FERRY, LIBRARY, MARKET
from tests.feed_files import ARTICLES, Capture, html_page, warc_file
from tests.unit.test_ingest import one_batch, write

RUN = "run-stream"
SENTENCES = FERRY + LIBRARY + MARKET


def article(i: int) -> dict[str, str]:
    """An invented article, different for every i."""
    first = SENTENCES[i % len(SENTENCES)]
    rest = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(1, 5))
    return {
        "title": f"Story number {i}",
        "date": f"2024-03-{1 + i % 28:02d}",
        "url": f"https://gazette.example/story/{i}",
        "body": f"Item {i}. {first}\n\n{rest}",
    }


def jsonl(count: int) -> str:
    return "".join(json.dumps(article(i)) + "\n" for i in range(count))


def csv_text(count: int) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["title", "date", "url", "body"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(article(i) for i in range(count))
    return out.getvalue()


# Over HEAD_BYTES: a file that fits in the head is read whole, whatever its size setting.
BIG = 2_500
STREAMING = PipelineConfig(stream_min_bytes=1, ingest_chunk_rows=100)
WHOLE = PipelineConfig(ingest_chunk_rows=100)


def ingest_folder(root: Path, config: PipelineConfig) -> pl.DataFrame:
    result = ingest_files(one_batch(root), root, config, RUN)
    assert result.quarantined.is_empty()
    return result.ingested


@pytest.mark.parametrize(
    ("name", "data", "layout"),
    [
        ("big.jsonl", jsonl(BIG).encode(), "jsonl"),
        ("big.jsonl.gz", gzip.compress(jsonl(BIG).encode()), "jsonl"),
        ("big.jsonl.bz2", bz2.compress(jsonl(BIG).encode()), "jsonl"),
        ("big.csv.zst", zstandard.ZstdCompressor().compress(csv_text(BIG).encode()), "csv"),
        ("big.csv", csv_text(BIG).encode(), "csv"),
    ],
)
def test_a_large_file_streamed_gives_the_rows_of_reading_it_whole(
    tmp_path: Path, name: str, data: bytes, layout: str
) -> None:
    write(tmp_path / "raw", name, data)
    streamed = ingest_folder(tmp_path / "raw", STREAMING)
    whole = ingest_folder(tmp_path / "raw", WHOLE)
    assert len(jsonl(BIG) if "jsonl" in name else csv_text(BIG)) > HEAD_BYTES
    assert streamed.height == BIG
    assert streamed["layout"].unique().to_list() == [layout]
    assert streamed.drop("layout").equals(whole.drop("layout"))  # doc_ids included


@pytest.mark.parametrize("name", ["big.jsonl", "big.csv"])
def test_a_streamed_file_counts_its_unmapped_columns_as_a_whole_one(
    tmp_path: Path, name: str
) -> None:
    rows = [{**article(i), "desk": f"Desk {i % 3}"} for i in range(BIG)]
    if name.endswith(".jsonl"):
        text = "".join(json.dumps(row) + "\n" for row in rows)
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = out.getvalue()
    write(tmp_path / "raw", name, text)
    batch = one_batch(tmp_path / "raw")
    streamed = ingest_files(batch, tmp_path / "raw", STREAMING, RUN).unmapped_columns
    whole = ingest_files(batch, tmp_path / "raw", WHOLE, RUN).unmapped_columns
    assert streamed == whole == {"desk": {"rows": BIG, "text_like": 0}}


@pytest.mark.parametrize(("name", "text"), [("big.jsonl", jsonl(BIG)), ("big.csv", csv_text(BIG))])
def test_rows_are_built_one_chunk_at_a_time(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path / "raw", name, text)
    log = IngestLog()
    chunks = ingested_chunks(one_batch(tmp_path / "raw"), tmp_path / "raw", STREAMING, RUN, log)
    first = next(chunks)
    # The first chunk is handed on before the rest of the file is read.
    assert first.height == STREAMING.ingest_chunk_rows
    assert log.records_in == STREAMING.ingest_chunk_rows
    heights = [first.height, *(chunk.height for chunk in chunks)]
    assert max(heights) == STREAMING.ingest_chunk_rows
    assert sum(heights) == log.rows == BIG


def test_warc_rows_are_built_one_chunk_at_a_time(tmp_path: Path) -> None:
    pages = [
        Capture(f"{ARTICLES[i % 3].url}?n={i}", html_page(ARTICLES[i % 3]).encode())
        for i in range(60)
    ]
    write(tmp_path / "raw", "crawl.warc.gz", warc_file(pages))
    config = PipelineConfig(ingest_chunk_rows=25)
    log = IngestLog()
    chunks = ingested_chunks(one_batch(tmp_path / "raw"), tmp_path / "raw", config, RUN, log)
    first = next(chunks)
    assert (first.height, log.records_in) == (25, 25)
    assert [c.height for c in chunks] == [25, 10]
    assert log.skipped == {"warc_warcinfo": 1, "warc_request": 60}


def _peak_traced_bytes(root: Path, config: PipelineConfig) -> int:
    tracemalloc.start()
    try:
        log = IngestLog()
        for _ in ingested_chunks(one_batch(root), root, config, RUN, log):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Python-side peak while ingesting JSON Lines: the same for a file three times larger
    when streamed (the head read to detect the layout is a fixed cost), and more than the
    file when read whole, which shows the measure can tell the two apart."""
    small = len(write(tmp_path / "small", "a.jsonl", jsonl(4_000)).read_bytes())
    large = len(write(tmp_path / "large", "a.jsonl", jsonl(12_000)).read_bytes())
    streamed_small = _peak_traced_bytes(tmp_path / "small", STREAMING)
    streamed_large = _peak_traced_bytes(tmp_path / "large", STREAMING)
    assert large > 3 * small - 1000
    assert streamed_large < 1.2 * streamed_small, (streamed_small, streamed_large)
    assert streamed_large < large / 2, (streamed_large, large)
    assert _peak_traced_bytes(tmp_path / "small", WHOLE) > small


def test_a_single_json_document_over_the_limit_is_still_too_large(tmp_path: Path) -> None:
    text = json.dumps([article(i) for i in range(BIG)])
    write(tmp_path / "raw", "big.json", text)
    config = PipelineConfig(stream_min_bytes=1, max_file_bytes=HEAD_BYTES)
    result = ingest_files(one_batch(tmp_path / "raw"), tmp_path / "raw", config, RUN)
    assert result.quarantined.select("record_index", "rule").to_dicts() == [
        {"record_index": None, "rule": "too_large"}
    ]


def test_streamed_jsonl_rejects_bad_lines_and_decodes_a_stray_encoding(tmp_path: Path) -> None:
    lines = jsonl(BIG).encode().split(b"\n")
    lines[3] = b'{"title": "cut off'
    lines[7] = '{"title": "Caf\u00e9 \u00a35", "body": "Price \u00a35."}'.encode("cp1252")
    write(tmp_path / "raw", "big.jsonl", b"\n".join(lines))
    result = ingest_files(one_batch(tmp_path / "raw"), tmp_path / "raw", STREAMING, RUN)
    assert result.quarantined.select("record_index", "rule").to_dicts() == [
        {"record_index": 3, "rule": "invalid_json_line"}
    ]
    row = result.ingested.filter(pl.col("record_index") == 7).row(0, named=True)
    assert (row["title"], row["body"]) == ("Caf\u00e9 \u00a35", "Price \u00a35.")
    assert result.records_in == BIG


def test_write_chunks_writes_one_file_chunk_by_chunk(tmp_path: Path) -> None:
    rows = [{**dict.fromkeys(INGESTED.names()), "doc_id": f"d{i}"} for i in range(7)]
    chunks = (pl.DataFrame(rows[i : i + 3], schema=INGESTED) for i in range(0, 7, 3))
    lake = Lake(tmp_path / "lake")
    assert lake.write_chunks(chunks, "ingested", "b1", RUN) == 7
    path = lake.stage_dir("ingested") / "b1.parquet"
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    back = pl.read_parquet(path)
    assert back["doc_id"].to_list() == [r["doc_id"] for r in rows]
    assert back.schema == INGESTED
    assert pq.read_schema(path).metadata[b"newsflow.run_id"] == RUN.encode()


def test_write_chunks_of_nothing_writes_an_empty_file(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    assert lake.write_chunks(iter([]), "ingested", "b0", RUN) == 0
    path = lake.stage_dir("ingested") / "b0.parquet"
    assert pl.read_parquet(path).schema == INGESTED
    assert pl.read_parquet(path).is_empty()


def test_ingest_task_writes_a_large_file_in_row_groups(tmp_path: Path) -> None:
    write(tmp_path / "raw", "big.jsonl", jsonl(BIG))
    config = PipelineConfig(
        input_dir=tmp_path / "raw",
        lake_dir=tmp_path / "lake",
        stream_min_bytes=1,
        ingest_chunk_rows=1_000,
    )
    batch = one_batch(tmp_path / "raw")
    counts = ingest.fn(batch, config, RUN)
    assert (counts.rows_in, counts.rows_out, counts.quarantined) == (BIG, BIG, 0)
    path = Lake(tmp_path / "lake").stage_dir("ingested") / f"{batch.batch_id}.parquet"
    groups = pq.ParquetFile(path).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [1000, 1000, 500]
    assert counts.manifest["records"].to_list() == [BIG]
