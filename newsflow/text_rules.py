"""Text rules that several stages share, each written once.

* Words: clean's minimum length (`body_min_words`), dedupe's shingles and short bodies,
  enrich's counts and quality measures, and the quality suites.
* Months: the names date strings are read with (tasks/dates.py) and the abbreviations
  datelines (clean's boilerplate protection, the dateline enricher) and sentence counts
  are written with.
* `stable_hash`: the 64-bit BLAKE2b hash of values stored in the lake.

A core module: it imports nothing from tasks/, expectations/ or flows/.

## Words

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

from hashlib import blake2b
from typing import Literal

import polars as pl

# -- words -------------------------------------------------------------------------------

# Scripts written without spaces between words.
UNSPACED_SCRIPTS = (
    r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
    r"\x{30FC}"  # "ー", the katakana long-vowel mark (script Common)
)
# The set dedupe's `short_body` word count (fingerprint_v3, v4) was built with: without
# Tibetan and "ー". Counting with UNSPACED_SCRIPTS would change which stored bodies are
# short, so it keeps its own set until a new fingerprint version adopts the one above.
FINGERPRINT_UNSPACED_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"


def unspaced_letter(scripts: str) -> str:
    """One letter or digit of the unspaced `scripts`: a word on its own."""
    return rf"[[{scripts}]&&[\p{{L}}\p{{N}}]]"


def spaced_char(scripts: str) -> str:
    """A character of a spaced-script word (anything but white space and `scripts`)."""
    return rf"[^\s{scripts}]"


def word_rule(scripts: str) -> str:
    """A word: a letter of the unspaced `scripts`, or a run of other non-space characters
    holding a letter or digit. "東京3日" is four words, "北京の2024年" five."""
    spaced_letter = rf"[[\p{{L}}\p{{N}}]--[{scripts}]]"
    return (
        rf"{unspaced_letter(scripts)}|{spaced_char(scripts)}*{spaced_letter}{spaced_char(scripts)}*"
    )


UNSPACED_LETTER = unspaced_letter(UNSPACED_SCRIPTS)
SPACED_CHAR = spaced_char(UNSPACED_SCRIPTS)
WORD = word_rule(UNSPACED_SCRIPTS)


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
    return text.str.replace_all(f"([{UNSPACED_SCRIPTS}])", " $1 ")


# -- months ------------------------------------------------------------------------------

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A month name or its abbreviation, whole and in any case ("dec", "Sept", "DECEMBER"):
# what date strings and URL paths are read with.
MONTH_NAME = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# The abbreviations news copy writes months with, capitalised ("Dec 8", "Sept. 8").
ABBREVIATED_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
)  # fmt: skip
MONTH_ABBREVIATION = "(?:" + "|".join(ABBREVIATED_MONTHS) + ")"
# A month in a dateline ("Washington, Dec 8 (IANS)", "December 8", "Dec. 8"): an
# abbreviation and the rest of the word, case-sensitive. The two readers differ in the
# rest on purpose, and each keeps its own so that no output changes:
# * clean's boilerplate protection (tasks/boilerplate.py) only asks whether a paragraph
#   opens like a dateline, and errs towards keeping it: up to six more letters of any
#   kind ("Decémbre");
# * the dateline enricher extracts the date it stores: any run of lower-case letters.
PROTECTED_DATELINE_MONTH = rf"{MONTH_ABBREVIATION}\p{{L}}{{0,6}}\.?"
DATELINE_MONTH = rf"{MONTH_ABBREVIATION}[a-z]*\.?"


# -- stable hashes -----------------------------------------------------------------------

# How the 8 digest bytes become an integer. Every stored hash keeps the order it was
# first written with: dedupe's keys and shingles (dedupe_index/) "little", clean's
# boilerplate line hashes (line_stats/) "big".
ByteOrder = Literal["big", "little"]


def hash64(text: str, byte_order: ByteOrder) -> int:
    """A 64-bit BLAKE2b hash of a string, the same on every machine and library version
    (polars' own `hash` may change between releases, and these values are stored)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), byte_order)


def stable_hash(text: pl.Expr, byte_order: ByteOrder) -> pl.Expr:
    """`hash64` of each string (UInt64; null stays null)."""
    return text.map_elements(
        lambda value: hash64(value, byte_order), return_dtype=pl.UInt64, skip_nulls=True
    )
