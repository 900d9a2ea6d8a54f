"""ingest: a batch of raw files -> `ingested/` rows, `quarantine/` rows, manifest rows.

Every file of the batch ends up either as records or as a quarantine row with the
rule that rejected it; a file never takes the run down with it. Rows are built and
written in chunks of `ingest_chunk_rows`, and large JSON Lines/CSV files and WARC
files are read as streams (tasks/streams.py), so one huge file takes bounded memory.
"""

from __future__ import annotations

import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.config import PipelineConfig
from newsflow.faults import checkpoint
from newsflow.inputs import Batch, InputFile, digest, storable
from newsflow.lake import Lake
from newsflow.object_inputs import local_input_root
from newsflow.progress import run_logger
from newsflow.redact import redact_authority, redact_credentials, redact_url
from newsflow.schema import FILE_MANIFEST, INGESTED, QUARANTINE, rule_counts
from tasks.decode import Unreadable, decode_text, decompress
from tasks.layouts import Mapping, parse
from tasks.parsed import Parsed
from tasks.streams import (
    FileRecords,
    content_larger_than,
    decompressed_head,
    streamable_layout,
    streamed_records,
)
from tasks.unmapped import ColumnCounts, merged
from tasks.warc import is_warc, warc_records


@dataclass
class IngestResult:
    ingested: pl.DataFrame
    quarantined: pl.DataFrame
    manifest: pl.DataFrame
    # Records the parsers found, counted before any row is built: the books compare it
    # with the rows written, so a record lost on the way shows (not counted from them).
    records_in: int
    # What files held that is not an article (a WARC's requests, redirects, non-HTML
    # payloads), by kind: not records, so neither ingested nor quarantined.
    skipped: dict[str, int] = field(default_factory=dict)
    # JSON/CSV source columns no field of the chosen mapping names: {name: {rows, text_like}}.
    unmapped_columns: ColumnCounts = field(default_factory=dict)


def doc_id(source_file: str, content_hash: str, record_index: int) -> str:
    """Stable across re-runs: the same record of the same file keeps its id."""
    return digest(source_file, content_hash, str(record_index))


def input_path(root: Path, relative: str) -> Path:
    """`root / relative`, resolved; refuses a path that leads outside `root`.

    Listing already rejects links out of the input folder; this holds for a batch built
    by other means, and for a file swapped for such a link after it was listed.
    """
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise Unreadable("outside_input_root", f"{relative} leads outside the input folder")
    return path


def _regular_file_size(path: Path) -> int:
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):  # reading a FIFO would block forever
        raise Unreadable("unreadable_file", "not a regular file")
    return status.st_size


def read_file(path: Path, size_limit: int, mappings: list[Mapping]) -> tuple[Parsed, str]:
    """Parse one raw file into records. Raises `Unreadable` for a file that is no use."""
    size = _regular_file_size(path)
    if size > size_limit:
        raise Unreadable("too_large", f"{size} bytes, limit {size_limit}")
    data, _ = decompress(path.read_bytes(), size_limit)
    text, encoding = decode_text(data)
    return parse(text, mappings), encoding


def file_records(path: Path, config: PipelineConfig, mappings: list[Mapping]) -> FileRecords:
    """The records of one raw file, read whole or, when it is large and its layout allows,
    as a stream. Raises `Unreadable` for a file that is no use.

    A WARC file is always streamed; a JSON Lines or CSV file over `stream_min_bytes`
    (decompressed) is read line by line. Anything else is read whole, within
    `max_file_bytes`.
    """
    _regular_file_size(path)
    head, complete = decompressed_head(path)
    if is_warc(head):
        return warc_records(path, config.max_file_bytes)
    if not complete and content_larger_than(path, config.stream_min_bytes):
        streamable = streamable_layout(head)
        if streamable is not None:
            return streamed_records(path, *streamable, mappings)
    parsed, encoding = read_file(path, config.max_file_bytes, mappings)
    return FileRecords.whole(parsed, encoding)


@dataclass
class IngestLog:
    """What ingesting a batch reports besides its rows: quarantine rows, one manifest row
    per file, records found, non-article entries skipped. Filled as the rows stream."""

    rejects: list[dict[str, object]] = field(default_factory=list)
    manifest: list[dict[str, object]] = field(default_factory=list)
    records_in: int = 0
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    # Per file: JSON/CSV source columns no mapping names (tasks/unmapped.py).
    unmapped: list[ColumnCounts] = field(default_factory=list)

    def quarantined(self) -> pl.DataFrame:
        return pl.DataFrame(self.rejects, schema=QUARANTINE)


def _row(
    f: InputFile, index: int, record: dict[str, Any], records: FileRecords, lineage: dict[str, str]
) -> dict[str, object]:
    return {
        "doc_id": doc_id(f.path, f.content_hash, index),
        **lineage,
        "source_file": f.path,
        "record_index": index,
        "layout": records.layout,
        "encoding": records.encoding,
        **record,
        "url": redact_url(record.get("url")),
        "url_raw": redact_url(record.get("url_raw")),
        "site_name": redact_authority(record.get("site_name")),
        "authors": record.get("authors") or [],
        "tags": record.get("tags") or [],
    }


def _skipped_detail(what: str, skipped: Counter[str]) -> str:
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(skipped.items()))
    return f"{what}; skipped, not articles: {kinds}" if kinds else what


def ingested_chunks(
    batch: Batch, input_root: Path, config: PipelineConfig, run_id: str, log: IngestLog
) -> Iterator[pl.DataFrame]:
    """Read every file of `batch`, yielding INGESTED frames of at most
    `config.ingest_chunk_rows` rows; pure apart from reading the input files.

    At most one chunk of rows is held at a time, however large a file is. A stream that
    breaks part-way (a cut gzip member, a broken CSV quote) keeps the records read
    before the break and quarantines the rest of the file with the reason.
    """
    lineage = {"run_id": run_id, "batch_id": batch.batch_id}
    mappings = config.mappings()
    rows: list[dict[str, object]] = []

    def reject(f: InputFile, index: int | None, rule: str, detail: str) -> None:
        rid = None if index is None else doc_id(f.path, f.content_hash, index)
        log.rejects.append(
            {
                "source_file": f.path,
                "record_index": index,
                "stage": "ingest",
                "rule": rule,
                "detail": redact_credentials(storable(detail)),  # details may quote the input
                "doc_id": rid,
                **lineage,
            }
        )

    for f in batch.files:
        checkpoint("ingest.file")
        seen = kept = 0
        try:
            path = input_path(input_root, f.path)
            records = file_records(path, config, mappings)
            try:
                for index, record in records.items:
                    seen += 1
                    log.records_in += 1
                    if isinstance(record, Unreadable):
                        reject(f, index, record.rule, record.detail)
                        continue
                    rows.append(_row(f, index, record, records, lineage))
                    kept += 1
                    if len(rows) >= config.ingest_chunk_rows:
                        log.rows += len(rows)
                        yield pl.DataFrame(rows, schema=INGESTED)
                        rows = []
            finally:
                log.skipped.update(records.skipped)
                log.unmapped.append(records.unmapped_columns)
                close = getattr(records.items, "close", None)
                if close is not None:
                    close()  # the file a stream holds open
            if not seen:  # a stream with nothing in it (a WARC of images, a bare CSV header)
                raise Unreadable("no_records", _skipped_detail("no records", records.skipped))
        except Unreadable as exc:
            after = f" (after {seen} records)" if seen else ""
            reject(f, None, exc.rule, exc.detail + after)
        except OSError as exc:
            reject(f, None, "unreadable_file", f"{type(exc).__name__}: {exc}")
        log.manifest.append(
            {
                "content_hash": f.content_hash,
                "source_file": f.path,
                "size_bytes": f.size,
                # A file whose stream broke after some records keeps them: ingested.
                "status": "ingested" if seen else "quarantined",
                "records": kept,
                **lineage,
            }
        )
    if rows:
        log.rows += len(rows)
        yield pl.DataFrame(rows, schema=INGESTED)


def ingest_files(
    batch: Batch, input_root: Path, config: PipelineConfig, run_id: str
) -> IngestResult:
    """Read every file of `batch` into one result (all rows at once: for small batches)."""
    log = IngestLog()
    chunks = list(ingested_chunks(batch, input_root, config, run_id, log))
    return IngestResult(
        ingested=pl.concat(chunks) if chunks else pl.DataFrame(schema=INGESTED),
        quarantined=log.quarantined(),
        manifest=pl.DataFrame(log.manifest, schema=FILE_MANIFEST),
        records_in=log.records_in,
        skipped=dict(log.skipped),
        unmapped_columns=merged(log.unmapped),
    )


@task(
    name="ingest",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="ingest-{batch.batch_id}",
)
def ingest(batch: Batch, config: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Ingest one batch into `ingested/<batch_id>.parquet`; returns counts and the file manifest.

    Rows go to the file chunk by chunk as they are read (`Lake.write_chunks`).
    """
    lake = Lake(config.lake_dir)
    log = IngestLog()
    root = local_input_root(batch, config.input_dir, config.lake_dir)  # copies of s3:// input
    chunks = ingested_chunks(batch, root, config, run_id, log)
    # Counted by the writer, not the reader: the books then catch a row lost in between.
    written = lake.write_chunks(chunks, "ingested", batch.batch_id, run_id)
    quarantined = log.quarantined()
    lake.write(quarantined, "quarantine", f"ingest-{batch.batch_id}", run_id)
    if log.skipped:
        run_logger().info(_skipped_detail(f"ingest {batch.batch_id}", log.skipped))
    return {
        "batch_id": batch.batch_id,
        "files": len(batch.files),
        "records": log.records_in,
        "quarantined_records": int(quarantined["record_index"].is_not_null().sum()),
        "ingested": written,
        "quarantined": quarantined.height,
        "quarantined_by_rule": rule_counts(quarantined),
        "skipped_by_kind": dict(sorted(log.skipped.items())),
        "unmapped_columns": merged(log.unmapped),
        "manifest": pl.DataFrame(log.manifest, schema=FILE_MANIFEST),
    }
