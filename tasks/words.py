"""How many words a text has, in any script: the one rule for clean's minimum length
(`body_min_words`), dedupe's shingles and enrich's counts and quality measures.

A word is a whitespace-separated token holding a letter or digit ("don't", "U.S.",
"COVID-19" and "(IANS)" are one word each; a lone dash is none), the way word
processors and reading-speed studies count words. Scripts written without spaces
between words (Chinese, Japanese kana and kanji, Thai, Lao, Khmer, Myanmar, Tibetan)
have no such tokens: a whole sentence would be one "word", and a Japanese article of
1,000 characters came out as 18. There each letter (or digit) of the script is one
word, as word processors count Chinese and Japanese text; combining marks (Thai vowel
signs) are not. Latin, Cyrillic, Greek, Arabic, Korean Hangul and other spaced scripts
are counted by tokens only.

Counting letters is exact for nothing and close for Chinese (~1.5 characters a word);
it counts Japanese ~2x and Thai ~4x higher than a dictionary would. Good enough for a
minimum length and for shingling (a letter n-gram is what near-duplicate detection uses
for such scripts), with no dictionary and no model.

Properties the tests hold: the count is additive over paragraphs, and never 0 for a
text with a letter or digit.
"""

from __future__ import annotations

import polars as pl

# Scripts written without spaces between words.
_UNSPACED_SCRIPTS = (
    r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
    r"\x{30FC}"  # "ー", the katakana long-vowel mark (script Common)
)
# One letter or digit of those scripts: a word on its own.
UNSPACED_LETTER = rf"[[{_UNSPACED_SCRIPTS}]&&[\p{{L}}\p{{N}}]]"
# A character of a spaced-script word (anything but white space and unspaced scripts).
SPACED_CHAR = rf"[^\s{_UNSPACED_SCRIPTS}]"
_SPACED_LETTER = rf"[[\p{{L}}\p{{N}}]--[{_UNSPACED_SCRIPTS}]]"
# A word: an unspaced-script letter, or a run of other non-space characters holding a
# letter or digit. "東京3日" is four words, "北京の2024年" five.
WORD = rf"{UNSPACED_LETTER}|{SPACED_CHAR}*{_SPACED_LETTER}{SPACED_CHAR}*"


def word_count(text: pl.Expr) -> pl.Expr:
    """Words in `text` (Int64; null stays null)."""
    return text.str.count_matches(WORD).cast(pl.Int64)


def words(text: pl.Expr) -> pl.Expr:
    """The words of `text`, in order (List(String))."""
    return text.str.extract_all(WORD)


def unspaced_share(text: pl.Expr) -> pl.Expr:
    """Share of the words that are unspaced-script letters (null for a text with none):
    above one half, measures of whitespace words (word length, stop words) mean nothing."""
    count = word_count(text)
    return pl.when(count > 0).then(text.str.count_matches(UNSPACED_LETTER) / count)


def words_apart(text: pl.Expr) -> pl.Expr:
    """`text` with every character of an unspaced script set apart by spaces, so the
    tokens holding a letter or digit are the words above (what dedupe's shingles are
    made of)."""
    return text.str.replace_all(f"([{_UNSPACED_SCRIPTS}])", " $1 ")
