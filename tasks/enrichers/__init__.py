"""One module per enricher: a module here that defines `ENRICHER` is one, found without
registering it anywhere else.

An enricher is a function `frame -> frame of new columns` (same rows, same order): it
reads the article columns and never changes them. A change to what an enricher
computes is a new version (`counts_v2`), so a column always says which logic made it.
Its module declares everything about it in one `Enricher`: name, the columns it adds
(type and meaning: they join the `enriched` contract through `enriched_columns`, and
docs/SCHEMA.md), the packages behind it, its model loader, how much body it reads,
where it runs among the others, whether a run without `enrichers` runs it, and the
names it replaces.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import polars as pl

from newsflow.schema import Column


@dataclass(frozen=True)
class Enricher:
    name: str
    output: tuple[Column, ...]
    add: Callable[[pl.DataFrame], pl.DataFrame]
    # Where it runs among the enrichers, and so where its columns stand in `enriched`:
    # an enricher reads the columns of those before it (entities reads `language`).
    position: int
    # Distributions whose versions decide the output, recorded in the file metadata.
    packages: tuple[str, ...] = ()
    # Loads the model a worker process needs (see `tasks/enrichers/workers.py`).
    load_model: Callable[[], object] | None = None
    # What of the body it reads: the first N characters, or None for the whole body.
    # `enrich_frame` passes it only that much (every other column whole, the title too).
    body_chars: int | None = None
    # Run when a run names no enrichers; an opt-in enricher runs only when named, and its
    # columns are null otherwise.
    default: bool = True
    # Earlier versions it replaced: a configuration naming one fails with this name, and
    # batches they wrote are enriched again (`tasks.enrich.outdated_batches`).
    replaces: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.output)


@cache
def registered() -> tuple[Enricher, ...]:
    """Every enricher of this package, in `position` order."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "ENRICHER", None)
        if isinstance(declared, Enricher):
            found.append(declared)
    return in_order(found)


def in_order(enrichers: Iterable[Enricher]) -> tuple[Enricher, ...]:
    """Enrichers by position; two with one name or one position are a mistake."""
    ordered = tuple(sorted(enrichers, key=lambda e: e.position))
    for attribute in ("name", "position"):
        values = [getattr(e, attribute) for e in ordered]
        if len(set(values)) != len(values):
            raise ValueError(f"two enrichers share a {attribute}: {values}")
    return ordered


def enriched_columns() -> tuple[Column, ...]:
    """The columns the enrichers add to `enriched`, in order: the entry point through
    which core's contract (`newsflow.schema.enriched_schema`) gets them."""
    return tuple(column for enricher in registered() for column in enricher.output)
