"""ingest: a batch of raw files -> `ingested/` rows, `quarantine/` rows, manifest rows.

Every file of the batch ends up either as records or as a quarantine row with the
rule that rejected it; a file never takes the run down with it.
"""

from __future__ import annotations

import stat
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
from newsflow.redact import redact_credentials, redact_url
from newsflow.schema import FILE_MANIFEST, INGESTED, QUARANTINE, rule_counts
from tasks.decode import Unreadable, decode_text, decompress
from tasks.layouts import Mapping, Parsed, parse
from tasks.unmapped import ColumnCounts, merged


@dataclass
class IngestResult:
    ingested: pl.DataFrame
    quarantined: pl.DataFrame
    manifest: pl.DataFrame
    # Records the parsers found, counted before any row is built: the books compare it
    # with the rows written, so a record lost on the way shows (not counted from them).
    records_in: int
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


def read_file(path: Path, size_limit: int, mappings: list[Mapping]) -> tuple[Parsed, str]:
    """Parse one raw file into records. Raises `Unreadable` for a file that is no use."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):  # reading a FIFO would block forever
        raise Unreadable("unreadable_file", "not a regular file")
    if status.st_size > size_limit:
        raise Unreadable("too_large", f"{status.st_size} bytes, limit {size_limit}")
    data, _ = decompress(path.read_bytes(), size_limit)
    text, encoding = decode_text(data)
    return parse(text, mappings), encoding


def ingest_files(
    batch: Batch, input_root: Path, config: PipelineConfig, run_id: str
) -> IngestResult:
    """Read every file of `batch`; pure apart from reading the input files."""
    rows: list[dict[str, object]] = []
    rejects: list[dict[str, object]] = []
    manifest: list[dict[str, object]] = []
    lineage = {"run_id": run_id, "batch_id": batch.batch_id}
    mappings = config.mappings()
    records_in = 0
    unmapped: list[ColumnCounts] = []

    def reject(f: InputFile, index: int | None, rule: str, detail: str) -> None:
        rid = None if index is None else doc_id(f.path, f.content_hash, index)
        rejects.append(
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
        try:
            path = input_path(input_root, f.path)
            parsed, encoding = read_file(path, config.max_file_bytes, mappings)
        except Unreadable as exc:
            reject(f, None, exc.rule, exc.detail)
            status, count = "quarantined", 0
        except OSError as exc:
            reject(f, None, "unreadable_file", f"{type(exc).__name__}: {exc}")
            status, count = "quarantined", 0
        else:
            records_in += len(parsed.records)
            unmapped.append(parsed.unmapped_columns)
            rejected = {index for index, _, _ in parsed.rejects}
            for index, rule, detail in parsed.rejects:
                reject(f, index, rule, detail)
            for index, record in enumerate(parsed.records):
                if index in rejected:
                    continue
                rows.append(
                    {
                        "doc_id": doc_id(f.path, f.content_hash, index),
                        **lineage,
                        "source_file": f.path,
                        "record_index": index,
                        "layout": parsed.layout,
                        "encoding": encoding,
                        **record,
                        "url": redact_url(record.get("url")),
                        "authors": record.get("authors") or [],
                        "tags": record.get("tags") or [],
                    }
                )
            status, count = "ingested", len(parsed.records) - len(rejected)
        manifest.append(
            {
                "content_hash": f.content_hash,
                "source_file": f.path,
                "size_bytes": f.size,
                "status": status,
                "records": count,
                **lineage,
            }
        )
    return IngestResult(
        ingested=pl.DataFrame(rows, schema=INGESTED),
        quarantined=pl.DataFrame(rejects, schema=QUARANTINE),
        manifest=pl.DataFrame(manifest, schema=FILE_MANIFEST),
        records_in=records_in,
        unmapped_columns=merged(unmapped),
    )


@task(
    name="ingest",
    retries=2,
    retry_delay_seconds=1,
    cache_policy=NO_CACHE,
    task_run_name="ingest-{batch.batch_id}",
)
def ingest(batch: Batch, config: PipelineConfig, run_id: str) -> dict[str, Any]:
    """Ingest one batch into `ingested/<batch_id>.parquet`; returns counts and the file manifest."""
    lake = Lake(config.lake_dir)
    result = ingest_files(batch, config.input_dir, config, run_id)
    lake.write(result.ingested, "ingested", batch.batch_id, run_id)
    lake.write(result.quarantined, "quarantine", f"ingest-{batch.batch_id}", run_id)
    return {
        "batch_id": batch.batch_id,
        "files": len(batch.files),
        "records": result.records_in,
        "quarantined_records": int(result.quarantined["record_index"].is_not_null().sum()),
        "ingested": result.ingested.height,
        "quarantined": result.quarantined.height,
        "quarantined_by_rule": rule_counts(result.quarantined),
        "unmapped_columns": result.unmapped_columns,
        "manifest": result.manifest,
    }
