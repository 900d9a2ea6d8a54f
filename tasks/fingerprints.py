"""Fingerprints of an article body: what two copies of one article have in common.

* `exact_key`: the body with case, punctuation and spacing folded away.
* `sentence_key`: the *set* of such sentences, so a copy whose sentences were shuffled
  (the headed layout) meets its twin.
* shingles: hashes of runs of `shingle_size` words that never cross a sentence boundary
  (a shorter sentence is one shingle), so shuffling sentences does not change the set.
  Words are those of `newsflow/text_rules.py`: in scripts written without spaces (Chinese,
  Japanese, Thai, ...) each letter is a word, so shingles there are letter n-grams.

A body under `short_body_words` words (or `min_shingles` shingles) is too short to
name an article on its own (an author-bio teaser, "Chat with us in Facebook Messenger.
..."): it is marked `short_body`, and dedupe links it to a copy only when their
`title_key`s agree (or one is missing) and their dates lie within the window
(tasks/short_links.py). The keys themselves never include the title, so a copy without
a title still meets its titled twin.

Every hash here is BLAKE2b-based and computed the same way by every version of the
libraries, because the keys are stored in the lake (`dedupe_index/`) and must meet keys
computed by later runs. (Polars' own `hash` may change between releases.)
"""

from __future__ import annotations

from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from newsflow.config import DedupeConfig
from newsflow.text_rules import (
    FINGERPRINT_UNSPACED_SCRIPTS,
    ByteOrder,
    hash64,
    stable_hash,
    word_rule,
    words_apart,
)

# A sentence ends at . ! or ? (and any closing quotes or brackets) before white space;
# paragraph and line breaks end one too. The full stops of Chinese and Japanese
# (。！？) end one with no space after them.
_SENTENCE_END = r"([.!?][\"'”’)\]]*)\s+"
_CJK_SENTENCE_END = r"([。！？][」』”’）)]*)"
_SEP = "\x1f"
# Words of a normalised body (letters, digits and single spaces), with the script set
# fingerprint_v3 counted with (see FINGERPRINT_UNSPACED_SCRIPTS).
_WORD = word_rule(FINGERPRINT_UNSPACED_SCRIPTS)
# The stored keys and shingles read the BLAKE2b digest little-endian.
KEY_BYTE_ORDER: ByteOrder = "little"


def normalised(text: pl.Expr) -> pl.Expr:
    """Lower case, letters and digits only, single spaces: what copies share."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def _sentence_lines(body: pl.Expr) -> pl.Expr:
    """The body normalised with one sentence per line (lines may carry outer spaces)."""
    return (
        words_apart(
            body.str.replace_all(_SENTENCE_END, "$1\n").str.replace_all(_CJK_SENTENCE_END, "$1\n")
        )
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}\n]+", " ")
    )


def sentences(body: pl.Expr) -> pl.Expr:
    """The body's normalised sentences, in order, empty ones dropped."""
    return (
        _sentence_lines(body)
        .str.split("\n")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def body_words(body: pl.Expr) -> pl.Expr:
    """Words of the normalised body (a character of a spaceless script is one)."""
    return _words(normalised(body))


def _words(normalised_body: pl.Expr) -> pl.Expr:
    return normalised_body.str.count_matches(_WORD).cast(pl.Int64)


def title_key(title: pl.Expr) -> pl.Expr:
    """Hash of the normalised title; null when there is none (or nothing but punctuation)."""
    text = normalised(title)
    return stable_hash(pl.when(text != "").then(text), KEY_BYTE_ORDER)


def is_short(words: pl.Expr, shingle_count: pl.Expr, config: DedupeConfig) -> pl.Expr:
    """Too short to identify an article without its title (see the module docstring)."""
    return (words < config.short_body_words) | (shingle_count < config.min_shingles)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    mixed: np.ndarray = h ^ (h >> np.uint64(33))
    return mixed


def combine(columns: list[np.ndarray], start: int) -> np.ndarray:
    """Hash an ordered tuple of uint64 columns into one uint64 column."""
    h = np.full(len(columns[0]) if columns else 0, start, dtype=np.uint64)
    for column in columns:
        h = _fmix64(h ^ column.astype(np.uint64, copy=False))
    return h


# Bodies shingled at a time: the word table of a chunk (one row per word, ~60 bytes
# each) is what bounds memory, ~0.2 GB per 5,000 news bodies instead of growing with
# the whole corpus. Each body's set depends on that body alone, so chunks change nothing.
SHINGLE_CHUNK = 5_000


def shingle_sets(body: pl.Series, size: int) -> pl.Series:
    """For each body, the sorted set of its shingle hashes (List(UInt64)).

    Words are hashed once per distinct word (BLAKE2b); a shingle's hash folds its
    words' hashes in order with a bijective mixer, all in numpy.
    """
    if len(body) > SHINGLE_CHUNK:
        parts = [
            _chunk_shingle_sets(body.slice(start, SHINGLE_CHUNK), size)
            for start in range(0, len(body), SHINGLE_CHUNK)
        ]
        return pl.concat(parts).alias(body.name)
    return _chunk_shingle_sets(body, size)


def _chunk_shingle_sets(body: pl.Series, size: int) -> pl.Series:
    words = (
        pl.DataFrame({"body": body})
        .select(
            doc=pl.int_range(pl.len(), dtype=pl.UInt32),
            sentence=_sentence_lines(pl.col("body")).str.split("\n"),
        )
        .explode("sentence", empty_as_null=False)
        .with_columns(pl.col("sentence").str.strip_chars())
        .filter(pl.col("sentence") != "")
        .with_row_index("sid")
        .select("doc", "sid", word=pl.col("sentence").str.split(" "))
        .explode("word", empty_as_null=False)
    )
    vocab = words["word"].unique()
    vocab_hashes = pl.Series([hash64(w, KEY_BYTE_ORDER) for w in vocab], dtype=pl.UInt64)
    word_hash = words["word"].replace_strict(vocab, vocab_hashes).to_numpy()
    doc, sid = words["doc"].to_numpy(), words["sid"].to_numpy()
    n_words = len(sid)
    if n_words == 0:
        return pl.Series(body.name, [[]] * len(body), dtype=pl.List(pl.UInt64))
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    lengths = np.diff(np.r_[starts, n_words])
    per_sentence = np.maximum(lengths - size + 1, 1)  # a short sentence is one shingle
    first = np.repeat(starts, per_sentence)
    offset = np.arange(first.size) - np.repeat(np.cumsum(per_sentence) - per_sentence, per_sentence)
    shingle_start = first + offset
    width = np.repeat(np.minimum(lengths, size), per_sentence)
    h = np.full(first.size, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for j in range(size):
        take = j < width
        idx = np.where(take, shingle_start + j, 0)
        h = np.where(take, _fmix64(h ^ word_hash[idx]), h)
    h = _fmix64(h ^ width.astype(np.uint64))
    return _sets_by_row(doc[shingle_start], h, len(body)).alias(body.name)


def _sets_by_row(row: np.ndarray, value: np.ndarray, n_rows: int) -> pl.Series:
    """A List(UInt64) Series of n_rows sorted, distinct values, from (row, value) pairs."""
    pairs = pl.DataFrame({"row": row, "value": value}).sort("row", "value")
    row, value = pairs["row"].to_numpy(), pairs["value"].to_numpy()
    keep = np.r_[True, (row[1:] != row[:-1]) | (value[1:] != value[:-1])]
    row, value = row[keep], value[keep]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=offsets[1:])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(value, pa.uint64()))
    return cast(pl.Series, pl.from_arrow(lists))


def fingerprints(rows: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """doc_id, exact_key, sentence_key, title_key, short_body, shingle_count and shingles
    of cleaned rows."""
    shingles = shingle_sets(rows["body"], config.shingle_size).alias("shingles")
    df = rows.select("doc_id", "title", "body").with_columns(
        shingles=shingles,
        shingle_count=shingles.list.len().cast(pl.Int64),
        norm=normalised(pl.col("body")),
    )
    sentence_text = sentences(pl.col("body")).list.unique().list.sort().list.join(_SEP)
    return df.select(
        "doc_id",
        exact_key=stable_hash(pl.col("norm"), KEY_BYTE_ORDER),
        sentence_key=stable_hash(sentence_text, KEY_BYTE_ORDER),
        title_key=title_key(pl.col("title")),
        short_body=is_short(_words(pl.col("norm")), pl.col("shingle_count"), config),
        shingle_count="shingle_count",
        shingles="shingles",
    )
