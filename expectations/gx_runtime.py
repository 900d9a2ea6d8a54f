"""The one Great Expectations context of the process, and frames handed to it.

GX takes ~5 s to import and a moment to set up a context, so both happen once, on
first use, never at import time of this package. The context is ephemeral (no files,
no account); analytics and progress bars are off, so a run is quiet and offline.
GX objects are not thread-safe: Prefect runs tasks in threads, so validation holds
`GX_LOCK`.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:  # pandas (~0.5 s) is imported by runs that validate, not by every run
    import pandas as pd

GX_LOCK = threading.RLock()
DATASOURCE = "newsflow"


@cache
def gx_context() -> Any:
    """The process's ephemeral GX context (created on first call)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _datasource() -> Any:
    # Created once: add_or_update would replace it, and with it the other stages' assets.
    return gx_context().data_sources.add_or_update_pandas(DATASOURCE)


@cache
def batch_definition(stage: str) -> Any:
    """A whole-dataframe batch definition on an asset named after the stage."""
    asset = _datasource().add_dataframe_asset(stage)
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _pandas_type(arrow_type: pa.DataType) -> Any:
    # Timestamps go to numpy datetime64 (None = pyarrow's default): GX compares those
    # with datetime bounds and names their type; everything else stays Arrow-backed, so
    # Int64 with nulls stays an integer column instead of turning into floats.
    import pandas as pd

    return None if pa.types.is_timestamp(arrow_type) else pd.ArrowDtype(arrow_type)


def _numpy_type(arrow_type: pa.DataType) -> Any:
    # Nullable integers stay integers; the rest is numpy/object, which GX reads fastest.
    import pandas as pd

    return pd.Int64Dtype() if pa.types.is_integer(arrow_type) else None


def as_pandas(frame: pl.DataFrame, *, arrow_backed: bool = True) -> pd.DataFrame:
    """polars -> pandas through Arrow, with Date columns as datetime64 (see _pandas_type).

    `arrow_backed=False` gives numpy/object columns: GX looks up every failing row one
    value at a time, ~10x faster on those than on Arrow-backed ones. Row checks use it;
    the type checks need the Arrow-backed frame, which keeps every column's type.
    """
    dates = [name for name, dtype in frame.schema.items() if dtype == pl.Date]
    frame = frame.with_columns(pl.col(dates).cast(pl.Datetime("ms")))
    table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    return table.to_pandas(types_mapper=_pandas_type if arrow_backed else _numpy_type)
