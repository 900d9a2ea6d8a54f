"""quality_v2: Gopher/FineWeb-style text-quality measures and one `quality_score`.

The measures follow Gopher's quality filters (Rae et al. 2021, appendix A) and
FineWeb's (Penedo et al. 2024); words are those of counts_v2 (`newsflow/text_rules.py`), lines
the body's non-empty lines, all read on `readable_body` (a truncated teaser without its
marker and cut-off word):

    word_count              (from counts_v2)            Gopher keeps 50-100,000
    mean_word_length        characters per word          Gopher keeps 3-10
    symbol_word_ratio       ("#" + "..." + "…") / words  Gopher keeps < 0.1
    stop_word_ratio         share of words that are stop words of the body's language
                            (spaCy's list; Gopher asks for 2 of 8 English ones)
    duplicate_line_share    share of lines repeating an earlier line  Gopher keeps < 0.3
    line_punctuation_share  share of lines ending in . ! ? … (or 。！？؟।), a closing
                            quote allowed after it       FineWeb keeps >= 0.12

    quality_score = f_words * f_length * f_symbols * f_stop * f_duplicates
                    * f_punctuation * f_truncated

Each measure's factor is 1 inside the range the filters keep and falls linearly to 0
at a limit, so a document the filters would drop scores 0 and one near a threshold is
marked down, not cut off: with ramp(x, bad, good) = clip((x - bad) / (good - bad), 0, 1),

    f_words       = min(ramp(words, 0, 50), ramp(words, 200_000, 100_000))
    f_length      = min(ramp(mean_word_length, 2, 3), ramp(mean_word_length, 12, 10))
    f_symbols     = ramp(symbol_word_ratio, 0.1, 0.05)
    f_stop        = ramp(stop_word_ratio, 0.05, 0.2)     (news prose: 0.3-0.5)
    f_duplicates  = ramp(duplicate_line_share, 0.3, 0.1)
    f_punctuation = ramp(line_punctuation_share, 0.12, 0.5)   (bodies of 3+ lines)
    f_truncated   = TRUNCATED_FACTOR (0.5) when clean flagged the body truncated, else 1

A teaser is part of an article, however well written: halving its score puts every
truncated body below every complete body the other factors leave above 0.5, without
reordering teasers among themselves.

A measure that cannot be taken is null and its factor 1: stop words for a language
spaCy has no list for; the whitespace-word measures (word length, symbols, stop
words) for a body mostly in a script written without spaces (Chinese, Japanese, Thai,
...), where each letter is a word; and word length and stop words for a body mostly in
Korean Hangul, whose spaced words carry their particles (a stop word never stands
alone: Korean news scored 0) and are written in syllable blocks (2-3 letters each).
An empty body scores 0.

quality_v2 (from quality_v1): f_truncated; words per `newsflow/text_rules.py`, so f_words now
applies to Chinese, Japanese and Thai bodies (counted by letters), and "unspaced" is
decided from the body's script instead of its detected language; Korean bodies skip
word length and stop words; measures read the readable body, so a marker's "…" is
not a symbol.
"""

from __future__ import annotations

import importlib.util
import runpy
from functools import cache
from pathlib import Path

import polars as pl

from newsflow.schema import Column
from newsflow.text_rules import unspaced_share, word_count, words
from tasks.enrichers import Enricher
from tasks.enrichers.language import languages_of
from tasks.truncation import readable_body

NAME = "quality_v2"
MIN_LINES = 3
TRUNCATED_FACTOR = 0.5

_LETTERS = r"[\p{L}\p{N}]+(?:['’][\p{L}]+)*"
_SYMBOLS = r"#|\.\.\.|…"
# Sentence-final marks of Latin, CJK, Arabic and Devanagari scripts, then closers.
_PUNCTUATED_LINE = r"[.!?…。！？؟।][\"'”’)\]」』]*\s*$"


@cache
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop-word list for an ISO 639-1 code (empty when spaCy has none).

    The lists are plain modules (no imports); importing one through its package would
    import spaCy itself, ~1 s per process, so the file is run on its own.
    """
    spec = importlib.util.find_spec("spacy")  # locates the package without importing it
    if not language.isalpha() or spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(spec.submodule_search_locations[0]) / "lang" / language / "stop_words.py"
    if not path.is_file():
        return frozenset()
    return frozenset(w.casefold() for w in runpy.run_path(str(path))["STOP_WORDS"])


def ramp(x: pl.Expr, bad: float, good: float) -> pl.Expr:
    """0 at `bad`, 1 at `good`, linear between (either may be the larger)."""
    return ((x - bad) / (good - bad)).clip(0.0, 1.0)


def _stop_word_ratio(body: pl.Expr, frame: pl.DataFrame, languages: pl.Series) -> pl.Series:
    rows = frame.select(
        language=languages,
        word=body.str.to_lowercase().str.extract_all(_LETTERS),
    ).with_row_index("row")
    listed = [lang for lang in languages.drop_nulls().unique().sort() if stop_words(lang)]
    table = pl.DataFrame(
        [(lang, w) for lang in listed for w in stop_words(lang)],
        schema={"language": pl.String, "word": pl.String},
        orient="row",
    )
    hits = (
        rows.filter(pl.col("language").is_in(listed))
        .explode("word")
        .join(table, on=["language", "word"], how="semi")
        .group_by("row")
        .len("stop")
    )
    return (
        rows.join(hits, on="row", how="left", maintain_order="left")
        .select(
            pl.when(pl.col("language").is_in(listed) & (pl.col("word").list.len() > 0)).then(
                pl.col("stop").fill_null(0) / pl.col("word").list.len()
            )
        )
        .to_series()
    )


def quality_v2(frame: pl.DataFrame) -> pl.DataFrame:
    languages = languages_of(frame)
    truncated = pl.col("body_truncated").fill_null(False)
    body = readable_body(pl.col("body"), truncated).fill_null("")
    lines = body.str.split("\n").list.eval(
        pl.element().str.strip_chars().filter(pl.element() != "")
    )
    n_lines = lines.list.len()
    n_words = word_count(body)
    spaced = (unspaced_share(body) <= 0.5).fill_null(True)
    hangul = (
        body.str.count_matches(r"\p{Hangul}") / body.str.count_matches(r"[\p{L}\p{N}]") > 0.5
    ).fill_null(False)
    measures = frame.select(
        words=n_words,
        mean_word_length=words(body)
        .list.eval(pl.element().str.count_matches(r"[\p{L}\p{N}]"))
        .list.mean(),
        symbol_word_ratio=body.str.count_matches(_SYMBOLS) / n_words,
        stop_word_ratio=_stop_word_ratio(body, frame, languages),
        duplicate_line_share=(n_lines - lines.list.n_unique()) / n_lines,
        line_punctuation_share=lines.list.eval(pl.element().str.contains(_PUNCTUATED_LINE))
        .list.sum()
        .truediv(n_lines),
        spaced=spaced,
        hangul=hangul,
        lines=n_lines,
        truncated=truncated,
    ).with_columns(
        pl.when(pl.col("spaced") & ~pl.col("hangul") & (pl.col("words") > 0)).then(
            pl.col("mean_word_length", "stop_word_ratio")
        ),
        pl.when(pl.col("spaced") & (pl.col("words") > 0)).then(pl.col("symbol_word_ratio")),
        pl.when(pl.col("lines") > 0).then(pl.col("duplicate_line_share", "line_punctuation_share")),
    )
    factors = [
        pl.min_horizontal(ramp(pl.col("words"), 0, 50), ramp(pl.col("words"), 2e5, 1e5)),
        pl.min_horizontal(
            ramp(pl.col("mean_word_length"), 2, 3), ramp(pl.col("mean_word_length"), 12, 10)
        ),
        ramp(pl.col("symbol_word_ratio"), 0.1, 0.05),
        ramp(pl.col("stop_word_ratio"), 0.05, 0.2),
        ramp(pl.col("duplicate_line_share"), 0.3, 0.1),
        # A share over one or two lines says nothing about the text (a one-paragraph
        # story whose last sentence lost its period would score 0).
        pl.when(pl.col("lines") >= MIN_LINES).then(
            ramp(pl.col("line_punctuation_share"), 0.12, 0.5)
        ),
        pl.when(pl.col("truncated")).then(pl.lit(TRUNCATED_FACTOR)),
    ]
    score = pl.reduce(lambda a, b: a * b, [f.fill_null(1.0) for f in factors])
    return measures.with_columns(
        quality_score=pl.when(pl.col("lines") == 0).then(0.0).otherwise(score).round(4)
    ).select(ENRICHER.columns)


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "mean_word_length",
            pl.Float64(),
            "Letters and digits per word (Gopher keeps 3-10); null for a body mostly Korean or "
            "in a script written without spaces (quality_v2)",
        ),
        Column(
            "symbol_word_ratio",
            pl.Float64(),
            "('#' + '...' + '…') per word (Gopher keeps < 0.1) (quality_v2)",
        ),
        Column(
            "stop_word_ratio",
            pl.Float64(),
            "Share of words on spaCy's stop-word list for `language`; null when there is no "
            "list, or the body is mostly Korean or a script without spaces (quality_v2)",
        ),
        Column(
            "duplicate_line_share",
            pl.Float64(),
            "Share of non-empty lines repeating an earlier line (Gopher keeps < 0.3) (quality_v2)",
        ),
        Column(
            "line_punctuation_share",
            pl.Float64(),
            "Share of non-empty lines ending in sentence-final punctuation (FineWeb keeps >= "
            "0.12) (quality_v2)",
        ),
        Column(
            "quality_score",
            pl.Float64(),
            "Product of factors in [0, 1], one per measure (formula in "
            "tasks/enrichers/quality.py and README), times 0.5 when body_truncated (a teaser "
            "scores at most 0.5); 0 for an empty body (quality_v2)",
        ),
    ),
    add=quality_v2,
    position=70,
    packages=("spacy",),
    replaces=("quality_v1",),
)
