"""`cluster_ids` against a plain union-find over the same links: every document gets the
smallest doc_id of its cluster, whatever the row order."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.clusters import cluster_ids

# A document: (exact key, sentence key, short body, indices of its near duplicates).
document = st.tuples(
    st.integers(0, 5), st.integers(0, 5), st.booleans(), st.lists(st.integers(0, 11), max_size=3)
)


def reference(ids: list[str], docs: list[tuple[int, int, bool, list[int]]]) -> list[str]:
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(i)] = root(j)

    for i, (exact, sentence, short, near) in enumerate(docs):
        for j, (other_exact, other_sentence, other_short, _) in enumerate(docs):
            keyed = not short and not other_short
            if keyed and (exact == other_exact or sentence == other_sentence):
                join(i, j)
        for j in near:
            if j < len(ids):
                join(i, j)
    smallest: dict[int, str] = {}
    for i, doc_id in enumerate(ids):
        smallest[root(i)] = min(smallest.get(root(i), doc_id), doc_id)
    return [smallest[root(i)] for i in range(len(ids))]


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(document, min_size=1, max_size=12), order=st.randoms())
def test_every_document_gets_the_smallest_id_of_its_cluster(
    docs: list[tuple[int, int, bool, list[int]]], order: object
) -> None:
    ids = [f"doc-{n:02d}" for n in range(len(docs))]
    order.shuffle(ids)  # type: ignore[attr-defined]
    frame = pl.DataFrame(
        {
            "doc_id": ids,
            "exact_key": [d[0] for d in docs],
            "sentence_key": [d[1] for d in docs],
            "short_body": [d[2] for d in docs],
            "near_doc_ids": [[ids[j] for j in d[3] if j < len(ids)] for d in docs],
        },
        schema_overrides={
            "exact_key": pl.UInt64,
            "sentence_key": pl.UInt64,
            "near_doc_ids": pl.List(pl.String),
        },
    )
    assert cluster_ids(frame).to_list() == reference(ids, docs)
