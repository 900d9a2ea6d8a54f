"""Boilerplate rules: named, versioned rules that remove whole paragraphs.

A rule's name is written next to every paragraph it removes (`removed_lines`), so a
reader can audit or undo any removal. Rules are tried in this order and the first
match names the removal:

1. the regex rules of `RULES` (their patterns are in `tasks/furniture.py`), most
   specific first, in the order of `RULES`: site furniture
   recognised by its own wording, anchored so that a normal sentence holding one
   keyword ("She said she would subscribe to the plan.") never matches;
2. `publisher_self_reference_v2`: the row's publisher (from its URL) addressing the
   reader about its own channels (join, subscribe, sign up, contact …) or in its
   legal voice; talk *about* the site (an interview, a fact-check) is reporting;
3. `domain_repeat_v1`: a paragraph that recurs in many documents of the row's
   domain (see `tasks/line_stats.py`);
4. by the rest of the body (`with_body_context_rules`): `repeated_headline_v1`, the leading
   paragraphs that repeat the title; `author_bio_v1`, trailing author-bio teasers;
   and the other cookie/consent lines of a body that holds a consent wall.

A rule never removes a paragraph for being short. Rules 2, 3 and `author_bio_v1`
never remove a paragraph that quotes someone or opens with a dateline.
`benchmarks/boilerplate_precision.py` measures every rule on the development corpora.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from newsflow.config import RepeatThresholds
from newsflow.text_rules import PROTECTED_DATELINE_MONTH, ByteOrder, stable_hash
from tasks.furniture import AUTHOR_BIO, CONSENT_WORDS, RULES, SELF_PROMOTION
from tasks.urls import canonical_url, domain_of

SELF_REFERENCE_RULE = "publisher_self_reference_v2"
# The longest furniture seen in the corpus is a ~50-word comment disclaimer.
MAX_FURNITURE_WORDS = 80
DOMAIN_REPEAT_RULE = "domain_repeat_v1"
# Rules that need the rest of the body and the row's title (`with_body_context_rules`).
HEADLINE_RULE = "repeated_headline_v1"
AUTHOR_BIO_RULE = "author_bio_v1"

# A quotation: double quotes or guillemets around words, or single quotes opened at a
# word boundary (British style), not an apostrophe inside a word.
QUOTATION = r"[\"«„]\s?\w|(?:^|[\s(\[])'\w[^']*\w'(?:\W|$)"
_MONTH = PROTECTED_DATELINE_MONTH
# Whether a paragraph opens like a dateline, so that no inferred rule removes it. Looser
# on purpose than the dateline enricher's recogniser (tasks/enrichers/dateline.py), which
# stores what it extracts and so must never take an ordinary opening for a dateline
# ("(CNN) …" and "Apple (AAPL) …" are kept here, and the first is no place there).
_PLACE = r"\p{Lu}[\p{L}.'-]*(?: \p{Lu}[\p{L}.'-]*){0,3}"
_AGENCY = r"\(\p{Lu}[\p{L}.&' -]{0,30}\)"
# "Washington, Dec 8 (IANS) …", "LONDON (Reuters) - …", "(CNN) …", "NEW DELHI: …",
# "Mangaluru, Dec 8: …", "Washington, Dec 8 IANS: …". Case matters here.
DATELINE = "|".join(
    [
        rf"^{_AGENCY}\s",
        rf"^{_PLACE}(?:, {_PLACE})?(?:,? {_MONTH} \d{{1,2}})?\s*{_AGENCY}",
        rf"^{_PLACE}(?:, {_PLACE})?,? {_MONTH} \d{{1,2}}(?:\s*\p{{Lu}}{{2,8}})?\s*[:—–-]",
        r"^\p{Lu}{2}[\p{Lu} .'-]{0,30}(?:, [\p{L} .]{2,20})?\s*[:—–]\s",
    ]
)


def _any(patterns: list[str]) -> str:
    return "(?i)" + "|".join(f"(?:{p})" for p in patterns)


def protected(paragraph: pl.Expr) -> pl.Expr:
    """Paragraphs an inferred rule must keep: quotations and datelines are reporting."""
    return paragraph.str.contains(QUOTATION) | paragraph.str.contains(DATELINE)


def speaks_of_publisher(paragraph: pl.Expr, publisher: pl.Expr) -> pl.Expr:
    """The paragraph names the row's publisher and promotes the site's own channels to
    the reader or speaks in its legal voice (`SELF_PROMOTION`).

    `publisher` is the registered-domain label ("daijiworld"), matched as a word, so
    "Daijiworld.com" and "www.daijiworld.com" count too; null never matches.
    """
    names = paragraph.str.contains(pl.lit(r"(?i)\b") + publisher + pl.lit(r"\b"))
    return names.fill_null(False) & paragraph.str.contains(_any(SELF_PROMOTION))


def matching_rule(
    paragraph: pl.Expr,
    publisher: pl.Expr | None = None,
    repeated: pl.Expr | None = None,
) -> pl.Expr:
    """The name of the first rule that matches the paragraph, or null to keep it.

    `publisher` (the row's registered-domain label) enables the self-reference rule,
    `repeated` (true for a paragraph that recurs across its domain) the repeat rule.
    """
    inferred: list[tuple[str, pl.Expr]] = []
    if publisher is not None:
        inferred.append((SELF_REFERENCE_RULE, speaks_of_publisher(paragraph, publisher)))
    if repeated is not None:
        inferred.append((DOMAIN_REPEAT_RULE, repeated.fill_null(False)))
    expr = pl.lit(None, dtype=pl.String)
    if inferred:
        keep = protected(paragraph)
        for name, hit in reversed(inferred):
            expr = pl.when(hit & ~keep).then(pl.lit(name)).otherwise(expr)
    for name, patterns in reversed(RULES.items()):
        expr = pl.when(paragraph.str.contains(_any(patterns))).then(pl.lit(name)).otherwise(expr)
    # Furniture is a line or two. A long paragraph that matches is an article whose
    # source kept it in one block (crawler metadata often does): never remove it whole.
    too_long = paragraph.str.count_matches(r"\S+") > MAX_FURNITURE_WORDS
    return pl.when(too_long).then(pl.lit(None, dtype=pl.String)).otherwise(expr)


# -- rules that need the rest of the body ----------------------------------------------

# An author-bio teaser (`AUTHOR_BIO`) is furniture only where nothing of the article
# follows it (the end of a body, or the whole body); a longer paragraph is no teaser.
MAX_BIO_WORDS = 60
CONSENT_WALL_RULE = "consent_wall_v1"
MAX_WALL_LINE_WORDS = 40


def headline_key(text: pl.Expr) -> pl.Expr:
    """Text folded for comparing a paragraph with the title: case, punctuation, spacing."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def with_body_context_rules(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """`paragraphs` (`_row`, `text`, `title`, `rule`; each body's paragraphs in order)
    with `rule` also set, for a paragraph no other rule removed, by the rules that need
    the rest of its body: `repeated_headline_v1` when it and every kept paragraph before
    it equal the title (after `headline_key`); `author_bio_v1` when it and every kept
    paragraph after it are short author-bio teasers; `consent_wall_v1` for a short line
    about cookies, consent or privacy in a body where that rule already found a consent
    wall (the wall's other lines). Whole runs go at once, so cleaning again removes
    nothing more."""
    text, rule, kept = pl.col("text"), pl.col("rule"), pl.col("rule").is_null()
    words = text.str.count_matches(r"\S+")
    # A headline copy is no longer than the title: fold only those paragraphs.
    short = text.str.len_bytes() <= pl.col("title").str.len_bytes() + 8
    candidates = paragraphs.with_row_index("_at").filter(kept & short.fill_null(False))
    headlines = candidates.filter(
        headline_key(pl.col("text")) == headline_key(pl.col("title")),
        headline_key(pl.col("title")) != "",
    )["_at"]
    # Per-paragraph tests first, as columns: a window over an expression that holds a
    # regex would run the regex once per body.
    flagged = paragraphs.with_columns(
        _headline=pl.int_range(pl.len(), dtype=pl.UInt32).is_in(headlines.implode()),
        _bio=kept & text.str.contains(AUTHOR_BIO) & (words <= MAX_BIO_WORDS) & ~protected(text),
        _wall_line=kept
        & text.str.contains(CONSENT_WORDS)
        & (words <= MAX_WALL_LINE_WORDS)
        & ~protected(text),
        _wall=(rule == CONSENT_WALL_RULE).fill_null(False),
    )
    headline, bio = pl.col("_headline"), pl.col("_bio")
    flagged = flagged.with_columns(
        _leading=headline & ((kept & ~headline).cast(pl.UInt32).cum_sum().over("_row") == 0)
    )
    leading = pl.col("_leading")
    bio = bio & ~leading
    trailing = bio & (
        (kept & ~bio & ~leading).cast(pl.UInt32).cum_sum(reverse=True).over("_row") == 0
    )
    in_wall = pl.col("_wall").any().over("_row")
    return flagged.with_columns(
        rule=pl.when(leading)
        .then(pl.lit(HEADLINE_RULE))
        .when(trailing)
        .then(pl.lit(AUTHOR_BIO_RULE))
        .when(pl.col("_wall_line") & in_wall)
        .then(pl.lit(CONSENT_WALL_RULE))
        .otherwise(rule)
    ).drop("_headline", "_bio", "_wall_line", "_wall", "_leading")


# -- whose site is it: the row's registered domain and publisher label ------------------

# Labels that are ordinary words: for news.com.au ("news") every sentence about the
# news would name the publisher.
_GENERIC_LABELS = frozenset(
    {
        *("news", "times", "post", "daily", "world", "today", "herald", "star", "sun"),
        *("express", "mirror", "independent", "nation", "tribune", "journal", "mail"),
        *("globe", "online", "live", "press", "report", "week", "media"),
    }
)


@lru_cache(maxsize=1 << 16)
def publisher(url: str | None) -> tuple[str | None, str | None]:
    """(registered domain, publisher label) of a URL as ingested: www.daijiworld.com ->
    ("daijiworld.com", "daijiworld"). The domain is named as enrich names it."""
    canonical, _ = canonical_url(url)
    if not canonical:
        return None, None
    domain = domain_of(canonical)
    label = domain.label
    # The label goes into a regex: letters, digits and hyphens only, so nothing to escape.
    if len(label) < 3 or label in _GENERIC_LABELS or not re.fullmatch(r"[\w-]+", label):
        label = ""
    return domain.registered, label or None


def publisher_columns(url: pl.Expr) -> pl.Expr:
    """A struct of `domain` and `publisher` for each URL (nulls without a usable URL)."""
    return url.map_elements(
        lambda u: dict(zip(("domain", "publisher"), publisher(u), strict=True)),
        return_dtype=pl.Struct({"domain": pl.String, "publisher": pl.String}),
        skip_nulls=False,
    )


# -- the repeat rule: which paragraphs recur across a domain ---------------------------


# The stored line hashes (line_stats/) read the BLAKE2b digest big-endian.
LINE_HASH_BYTE_ORDER: ByteOrder = "big"


def line_hash(paragraph: pl.Expr) -> pl.Expr:
    """A stable 64-bit hash of the paragraph with case, digit runs and spacing folded, so
    "Copyright 2017 …" and "Copyright 2018 …" are one line. (Polars' own hash may
    change between versions; this one is stored in the lake.)"""
    key = (
        paragraph.str.to_lowercase()
        .str.replace_all(r"\d+", "0")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return stable_hash(key, LINE_HASH_BYTE_ORDER)


def repeated_stats(
    line_stats: pl.LazyFrame, thresholds: RepeatThresholds | None = None
) -> pl.LazyFrame:
    """The rows of a line-stats table (domain, line_hash, doc_count, domain_docs) whose
    line `domain_repeat_v1` removes."""
    t = thresholds or RepeatThresholds()
    docs, total = pl.col("doc_count"), pl.col("domain_docs")
    return line_stats.filter(
        (total >= t.min_domain_docs)
        & (docs >= t.repeat_min_docs)
        & (docs >= t.repeat_min_share * total)
    )


def repeated_lines(
    line_stats: pl.LazyFrame, thresholds: RepeatThresholds | None = None
) -> pl.LazyFrame:
    """The (domain, line_hash) pairs that `domain_repeat_v1` removes."""
    return repeated_stats(line_stats, thresholds).select("domain", "line_hash")
