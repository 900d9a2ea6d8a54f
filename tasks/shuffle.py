"""Rows routed to numbered parts on disk in one pass, each part read back whole.

Dedupe needs rows together that live in different batch files (both documents of a
pair to verify, every copy of a cluster). Reading each batch file once and appending its
rows to the part that needs them costs one read and one write per row; fetching the
rows part by part instead reads every batch file once per part, which grows with the
square of the corpus (issue #10).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def extended(schema: pl.Schema, **more: pl.DataType) -> pl.Schema:
    """`schema` with the columns `more` appended."""
    return pl.Schema([*schema.items(), *more.items()])


class Shuffle:
    """One Parquet file per part under `folder`; `add` appends a row group to each part
    it touches, `read` (after `close`) returns a part's rows in the order added."""

    def __init__(self, folder: Path, schema: pl.Schema) -> None:
        self.folder = folder
        self.schema = schema
        self._arrow: pa.Schema | None = None
        self._writers: dict[int, pq.ParquetWriter] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, part: int) -> Path:
        return self.folder / f"{part:06d}.parquet"

    def add(self, frame: pl.DataFrame, part: str) -> None:
        """Append each row of `frame` (with the shuffle's columns) to the part named by
        its integer column `part`."""
        for (key,), rows in frame.group_by(part, maintain_order=True):
            table = rows.select(pl.col(c).cast(t) for c, t in self.schema.items()).to_arrow()
            if self._arrow is None:
                self._arrow = table.schema
            writer = self._writers.get(int(key))
            if writer is None:
                writer = pq.ParquetWriter(self._path(int(key)), self._arrow)
                self._writers[int(key)] = writer
            writer.write_table(table.cast(self._arrow))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def parts(self) -> list[int]:
        """Parts that received rows, in order."""
        return sorted(self._writers)

    def read(self, part: int) -> pl.DataFrame:
        """Every row added to `part` (none if it received none)."""
        path = self._path(part)
        if not path.exists():
            return pl.DataFrame(schema=self.schema)
        frame = pl.read_parquet(path)
        return frame.select(pl.col(c).cast(t) for c, t in self.schema.items())

    def __enter__(self) -> Shuffle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
