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
    nodes = docs.select("doc_id").with_row_index("row").sort("doc_id").with_row_index("node")
    # A short body is linked by its key only under an agreeing title and date: those
    # links are in near_doc_ids (tasks/short_links.py).
    keyed = (
        docs.filter(~pl.col("short_body"))
        .select("doc_id", "exact_key", "sentence_key")
        .join(nodes, on="doc_id")
    )
    edges = [
        keyed.select(u="node", v=pl.col("node").min().over(key))
        for key in ("exact_key", "sentence_key")
    ]
    near = (
        docs.select("doc_id", other="near_doc_ids")
        .explode("other", empty_as_null=False)
        .join(nodes.select("doc_id", u="node"), on="doc_id")
        .join(nodes.select(other="doc_id", v="node"), on="other")
        .select("u", "v")
    )
    all_edges = pl.concat([*edges, near], how="vertical_relaxed")
    labels = components(
        nodes.height, all_edges["u"].to_numpy().astype(np.int64), all_edges["v"].to_numpy()
    )
    ids = nodes["doc_id"].to_numpy()[labels]
    by_row = nodes.select("row", cluster=pl.Series(ids, dtype=pl.String)).sort("row")
    return by_row["cluster"]
