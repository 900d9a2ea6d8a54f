"""dedupe, the stage: cleaned/ -> deduped/ (one record per article) and duplicates/ (a
trace of every copy merged), with a persistent, partitioned index (tasks/dedupe_index.py)
so that every run matches its new documents against everything before.

`run_dedupe` runs the phases below in order. Each is a thin Prefect task
(tasks/dedupe_phases.py) over the pure rules of tasks/dedupe_rules.py, submitted once
per partition through the flow's task runner, so threads or Dask workers share the work:

1. plan: which cleaned documents are new, and whether the index must be rebuilt;
2. fingerprints, per group of `ROUTE_BATCHES` cleaned batches with new documents: keys,
   shingle sets, band keys, each routed to the index partition it belongs to;
3. candidates, per band partition: pairs sharing a band key, worth verifying, in
   buckets by their searched document;
4. routes: the buckets packed into verify partitions of at most `VERIFY_PAIRS` pairs;
   which shingle sets each partition needs, per batch;
5. shingle routes, per group of batches: each needed shingle set sent to its verify
   partition;
6. verify, per verify partition: MinHash estimate, then the real similarity;
7. keys, per key partition: indexed documents sharing an exact or sentence key;
8. neighbours: the indexed documents met by key or by a verified pair, then their index
   rows (documents, per index partition), their clusters' members (members, per cluster
   partition) and those members' rows (documents again);
9. components: clusters of the new documents and those neighbours; the merge plan;
10. row routes, per group of batches: each member's cleaned row sent to its merge
    partition;
11. merge, per cluster partition: the best copy of each cluster, and its duplicates;
12. outputs: rewrite the changed deduped/ and duplicates/ files;
13. index, per index partition touched: its rows with this run's changes;
14. finish: the index's batch list (last), then the scratch area is cleared.

Rows move between phases as Parquet files in the run's scratch area of the lake
(`Lake.scratch`), never through one process's memory, so remote workers share them.
Every rule works per document, per pair or per cluster, so partitions change no output.

Memory. Each task holds one partition: of a group of cleaned batches, of the index (one
of its tables, ~5,000 documents: `INDEX_DOCS`), of candidate pairs (at most
`VERIFY_PAIRS`) and their shingle sets, of merged clusters. Components holds the new
documents and the indexed ones they meet, with every member of their clusters (no band
keys, no signatures: ~0.4 KB each), so on a rebuild it holds every document's, the only
phase that grows with the corpus.

A nightly run with few new documents reads and writes only the index partitions its
documents (their ids, band keys, exact and sentence keys) and the clusters they join
hash to, fingerprints only their batches, and rewrites only the batch files of the
clusters they join.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prefect import Task
from prefect.futures import as_completed

from newsflow.config import DedupeConfig
from newsflow.progress import run_logger
from tasks.dedupe_index import BANDS, KEYS
from tasks.dedupe_phases import (
    Touched,
    batch_groups,
    connect_components,
    find_candidates,
    fingerprint_batches,
    finish,
    look_up_documents,
    look_up_members,
    match_keys,
    merge_partition,
    plan_dedupe,
    rewrite_outputs,
    route_neighbours,
    route_pairs,
    route_rows,
    route_shingles,
    verify_pairs,
    write_index_partition,
)
from tasks.futures import release

# The phase tasks by their names here, in the order they run (flows/bare.py swaps them).
PHASES = (
    "plan_dedupe",
    "fingerprint_batches",
    "find_candidates",
    "route_pairs",
    "route_shingles",
    "verify_pairs",
    "match_keys",
    "route_neighbours",
    "look_up_documents",
    "look_up_members",
    "connect_components",
    "route_rows",
    "merge_partition",
    "rewrite_outputs",
    "write_index_partition",
    "finish",
)


def run_dedupe(
    lake_dir: str,
    run_id: str,
    config: DedupeConfig | None = None,
    submit: bool = True,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """Index the lake's new cleaned rows and rewrite the clusters they join.

    With `submit`, each phase's tasks go to the current flow's task runner; without,
    they run here one after another (`.fn`: tests and benchmarks without Prefect).
    Returns counts over the whole lake, the batches whose deduped/ files changed
    (`batches`: rewritten, to enrich again; `touched`: rewritten or removed) and the
    seconds of each phase.
    """
    config = config or DedupeConfig()
    run = Phases(submit, timeout_seconds)
    args = (lake_dir, run_id)
    (plan,) = run(plan_dedupe, [(*args, config)])
    clusters, written = 0, []
    if plan.new:
        groups = batch_groups(plan.new_batches)
        fresh = union(run(fingerprint_batches, [(*args, g, plan.parts, config) for g in groups]))
        run(find_candidates, [(*args, part, plan, config) for part in fresh.of(BANDS)])
        ((shingled, verify_parts),) = run(route_pairs, [args])
        run(route_shingles, [(*args, group, config) for group in batch_groups(shingled)])
        run(verify_pairs, [(*args, part, config) for part in verify_parts])
        run(match_keys, [(*args, part, plan) for part in fresh.of(KEYS)])
        (met,) = run(route_neighbours, [(*args, plan)])
        clustered = flat(run(look_up_documents, [(*args, part, plan, "met") for part in met]))
        members = flat(run(look_up_members, [(*args, part, plan) for part in clustered]))
        run(look_up_documents, [(*args, part, plan, "members") for part in members])
        (merge,) = run(connect_components, [(*args, plan, config)])
        run(route_rows, [(*args, group, config) for group in batch_groups(merge.batches)])
        clusters = sum(run(merge_partition, [(*args, c, plan, config) for c in merge.chunks]))
        (written,) = run(rewrite_outputs, [(*args, plan)])
        run(write_index_partition, [(*args, table, part, plan) for table, part in written])
    (result,) = run(finish, [(*args, plan, written)])
    run_logger().info(
        "dedupe phases (s): %s", ", ".join(f"{k} {v:.1f}" for k, v in run.seconds.items())
    )
    return {**result, "clusters_rewritten": clusters, "phase_seconds": run.seconds}


class Phases:
    """Runs one phase's calls (submitted to the task runner, or in-process) and adds up
    each phase's seconds."""

    def __init__(self, submit: bool, timeout_seconds: float | None) -> None:
        self.submit, self.timeout_seconds = submit, timeout_seconds
        self.seconds: dict[str, float] = {}

    def __call__(self, phase: Task[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        started = time.perf_counter()
        if self.submit:
            if self.timeout_seconds:
                phase = phase.with_options(timeout_seconds=self.timeout_seconds)
            position_of = {phase.submit(*call): i for i, call in enumerate(calls)}
            results: list[Any] = [None] * len(calls)
            # Each result read as it completes, then released on its worker (as the
            # flow's collector does): a phase of a thousand batches held to its end
            # would hold a thousand finished tasks on the workers.
            for future in as_completed(list(position_of)):
                results[position_of.pop(future)] = future.result()
                release(future)
        else:
            results = [phase.fn(*call) for call in calls]
        name = phase.name.removeprefix("dedupe-")
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return results


def union(routes: list[Touched]) -> Touched:
    total = Touched()
    for touched in routes:
        total = total | touched
    return total


def flat(parts: list[list[int]]) -> list[int]:
    return sorted({part for found in parts for part in found})
