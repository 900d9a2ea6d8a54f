"""Clusters of copies: connected components over every link between documents.

Two documents are linked when they share an exact key or a sentence-set key (neither
of them a short body), or when one lists the other among its near duplicates and short
links. Components rather than pairs:
a copy linked to another copy of an article belongs with all of them.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected components of nodes 0..n-1 over edges (u, v): each node's smallest node.

    Min-label propagation with pointer jumping: a few vectorised passes, whatever the
    length of a chain.
    """
    labels = np.arange(n)
    while True:
        low = np.minimum(labels[u], labels[v])
        new = labels.copy()
        np.minimum.at(new, u, low)
        np.minimum.at(new, v, low)
        while not np.array_equal(jumped := new[new], new):
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


def cluster_ids(docs: pl.DataFrame) -> pl.Series:
    """Per row of `docs` (doc_id, exact_key, sentence_key, short_body, near_doc_ids): the
    smallest doc_id of its cluster."""
    # Nodes are row numbers: no sort or join of a million ids to find edges by key.
    nodes = docs.select("short_body", "exact_key", "sentence_key").with_row_index("node")
    # A short body is linked by its key only under an agreeing title and date: those
    # links are in near_doc_ids (tasks/short_links.py).
    keyed = nodes.filter(~pl.col("short_body"))
    edges = [
        keyed.select(u="node", v=pl.col("node").min().over(key))
        for key in ("exact_key", "sentence_key")
    ]
    ids = docs.select("doc_id").with_row_index("node")
    near = (
        docs.select(u=pl.int_range(pl.len(), dtype=pl.UInt32), other="near_doc_ids")
        .filter(pl.col("other").list.len() > 0)
        .explode("other")
        .join(ids.select(other="doc_id", v="node"), on="other")
        .select("u", "v")
    )
    all_edges = pl.concat([*edges, near], how="vertical_relaxed")
    labels = components(
        docs.height, all_edges["u"].to_numpy().astype(np.int64), all_edges["v"].to_numpy()
    )
    # The node a component's label names is not its smallest id: take that per label.
    by_label = ids.select("doc_id", label=pl.Series(labels))
    return by_label.select(cluster=pl.col("doc_id").min().over("label"))["cluster"]
