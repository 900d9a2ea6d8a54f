"""Boilerplate rules: named, versioned rules that remove whole paragraphs.

A rule's name is written next to every paragraph it removes (`removed_lines`), so a
reader can audit or undo any removal. Rules are tried in this order and the first
match names the removal:

1. the regex rules of `RULES`, most specific first (`comment_disclaimer_v1` …
   `advertisement_v1`): site furniture recognised by its own wording, anchored so
   that a normal sentence holding one keyword ("She said she would subscribe to
   the plan.") never matches;
2. `publisher_self_reference_v1`: the row's publisher (from its URL) speaking about
   its own site: comments, terms, subscriptions, responsibility;
3. `domain_repeat_v1`: a paragraph that recurs in many documents of the row's
   domain (see `tasks/line_stats.py`).

A rule never removes a paragraph for being short. The two inferred rules (2, 3)
never remove a paragraph that quotes someone or opens with a dateline.
"""

from __future__ import annotations

import re
from functools import lru_cache
from hashlib import blake2b

import polars as pl

from newsflow.config import RepeatThresholds
from tasks.urls import canonical_url, domain_of

# Comment-section disclaimers: the legal and moderation notices publishers print
# under their comment forms ("sending false messages ... is punishable under law").
COMMENT_DISCLAIMER_V1 = [
    r"\bsending (?:false|offensive|abusive|obscene) (?:messages|comments)\b.{0,200}"
    r"\b(?:punishable|at your own risk|held responsible)\b",
    r"\bplease write your correct name(?: and email)?",
    r"\bkindly do not post any (?:personal|abusive|defamatory)",
    r"\b(?:will|shall) not be (?:held )?responsible for any (?:defamatory|offensive|abusive)",
    r"\bin no way will \S+ be held responsible\b",
    r"\bobligatory on \S+ to provide the ip address\b",
    r"\bcomments? (?:are|is) (?:moderated|subject to moderation)\b",
    r"\bviews expressed in (?:the )?comments\b",
]

_SOCIAL = r"(?:twitter|x|facebook|instagram|linkedin|youtube|tiktok|threads|telegram|whatsapp)"

# Share buttons, follow-us lines, subscription and newsletter prompts. Each pattern
# starts at the paragraph's first word: reporting does not open with "Follow us on".
SHARE_FOLLOW_V1 = [
    r"^(?:share|tweet|email|print|pin)(?: this)?(?: (?:article|story|page|post|link))?"
    r"(?: (?:on|via|with) [\w ,&]+)?\W*$",
    r"^(?:read or )?share this (?:story|article|page)\b",
    rf"^(?:follow|like|find|join) us (?:on|at) {_SOCIAL}\b",
    r"^follow us\W*(?:@\w*)?\W*$",
    rf"^follow (?:@\w+|[\w .'&-]{{2,60}}?) on {_SOCIAL}\b",
    r"^(?:(?:\w+ )?newsletter:? )?sign[ -]?up (?:for|to|now|here|today)\b.{0,80}"
    r"\b(?:newsletters?|e-?mails?|alerts|briefing|inbox|subscribe)\b",
    r"^(?:\w+ )?newsletter:? sign[ -]?up\b",
    r"^subscribe(?: now| today| here)?\W*$",
    r"^subscribe (?:to|for) (?:our|the latest|free)\b",
    r"^(?:keep up with|stay on top of) this story\b.{0,60}\bsubscrib",
    r"^(?:click|tap) here to (?:subscribe|sign up|follow|download|share|read more)\b",
    r"^download (?:our|the [\w ]{1,30}?) app\b",
    r"^get (?:our|the) [\w ]{0,40}newsletter\b",
    r"^if you (?:like|liked|enjoyed) this (?:story|article)\b.{0,40}\bshare\b",
]

# Cookie banners and privacy notices, as sites word them to their readers.
COOKIE_NOTICE_V1 = [
    r"^(?:this|our) (?:web ?site|site) uses cookies\b",
    r"^we use cookies\b",
    r"^by (?:continuing to )?(?:use|using|browse|browsing|visit|visiting) (?:this|our) "
    r"(?:web ?site|site)\b.{0,80}\b(?:agree|consent|accept)",
    r"^(?:accept|manage|reject|allow) (?:all )?cookies\b",
    r"^(?:read |see |view |review )?(?:our )?(?:updated )?(?:privacy (?:policy|notice)|"
    r"cookie (?:policy|notice|settings)|terms of (?:use|service))"
    r"(?:\W+(?:and |& )?(?:privacy (?:policy|notice)|cookie (?:policy|notice)|"
    r"terms of (?:use|service)))*\W*$",
    r"^we(?: have|'ve)? updated our (?:privacy|cookie) (?:policy|notice)\b",
]

# Links to other stories and "keep reading" furniture.
READ_MORE_V1 = [
    r"^(?:read more|also read|read also|see also|related|related (?:articles?|stories|"
    r"coverage|content|news|links|topics)|recommended(?: reading)?|further reading|"
    r"more on this(?: story| topic)?|(?:more|top) (?:stories|news))\s*(?:[:|»›>-].*)?$",
    r"^read more (?:about|on|at|here|from|stories|news)\b",
    r"^(?:also read|related stories)\b",
    r"^read the (?:original|full) (?:article|story)\b",
    r"^you (?:may|might) also (?:like|be interested in)\b",
    r"^continue reading(?: the main story)?\W*$",
    r"^scroll down for (?:video|more)\b",
]

# Photo credits, caption labels and bare media labels ("Photo", "Video").
PHOTO_CREDIT_V1 = [
    # "Photo: Jane Doe/Reuters", a credit, not a caption: short and not a sentence.
    r"^(?:photo|photograph|picture|image|pic)s?(?: credit| courtesy)?\s*:\s*[^.!?]{1,80}\.?$",
    r"^(?:image|photo|picture) (?:copyright|caption|source|credit)\b",
    # A caption ending in its credit: "… (Photo by Jane Doe/Getty Images)", "… (Photo: AP)".
    r"^[^\"]{0,300}\((?:photo|picture|image|pic)s?(?: by| credit| courtesy)?\b[^)]{0,120}\)\W*$",
    r"^[^\"]{0,300}\([^()]{0,60}(?:getty images|shutterstock|ap photo|/afp|/reuters|/epa)\)\W*$",
    r"^[^\"]{0,300}\|\s*(?:photo|image|picture) credit\s*:[^|]{1,80}$",
    r"^enlarge (?:this )?image\b",
    r"^(?:photo|photos|image|images|video|gallery|audio)\W*$",
]

# Copyright lines, including the agency notices wire copy carries.
COPYRIGHT_V1 = [
    r"^(?:copyright\s*)?(?:©|\(c\)\s*\d{4})",
    r"^copyright\s+(?:\d{4}|©)",
    r"^all rights reserved\b",
    r"^.{0,100}(?:©|\bcopyright\b).{0,100}\ball rights reserved\b",
    r"\bmay not be published, broadcast, rewritten,? or redistributed\b",
]

# Advertising labels left in the body text.
ADVERTISEMENT_V1 = [
    r"^(?:advertisement|advert|sponsored(?: content)?|paid content|promoted content)"
    r"(?: continue reading the main story)?\W*$",
    r"^story continues below(?: advertisement)?\W*$",
]

RULES: dict[str, list[str]] = {
    "comment_disclaimer_v1": COMMENT_DISCLAIMER_V1,
    "share_follow_v1": SHARE_FOLLOW_V1,
    "cookie_notice_v1": COOKIE_NOTICE_V1,
    "read_more_v1": READ_MORE_V1,
    "photo_credit_v1": PHOTO_CREDIT_V1,
    "copyright_v1": COPYRIGHT_V1,
    "advertisement_v1": ADVERTISEMENT_V1,
}
SELF_REFERENCE_RULE = "publisher_self_reference_v1"
# The longest furniture seen in the corpus is a ~50-word comment disclaimer.
MAX_FURNITURE_WORDS = 80
DOMAIN_REPEAT_RULE = "domain_repeat_v1"
RULE_ORDER = [*RULES, SELF_REFERENCE_RULE, DOMAIN_REPEAT_RULE]

# What a site says about itself: its comments, terms, subscriptions, pages, app ...
_SITE_TOPIC = (
    r"(?i)\b(?:comments?|commenting|subscri\w+|web ?site|site|app|newsletters?|e-?paper|"
    r"accounts?|log ?in|sign ?up|register|ip address(?:es)?|terms|privacy|rights reserved|"
    rf"cookies?|advertis\w+|views expressed|{_SOCIAL})\b"
)
# ... and how it says it: to the reader, as "we", or in legal voice. Reporting that
# names the outlet ("Daijiworld reported that ...") does neither. "We/our/us" are
# matched in lower case (or capitalised) so that "US" the country is not "us".
_SITE_VOICE = (
    r"\b(?:[Ww]e|[Oo]ur|us)\b"
    r"|(?i:\b(?:you|your|yours|please|kindly)\b)"
    r"|(?i:^(?:subscribe|download|follow|join|sign up|click|visit|log ?in|register|email"
    r"|contact)\b)"
    r"|(?i:\b(?:obligatory|mandatory|punishable|at (?:your|their) own risk|"
    r"(?:be|held) (?:held )?(?:responsible|liable)|reserves? the right|rights reserved|"
    r"terms (?:of (?:use|service)|and conditions)|privacy policy|disclaim\w*)\b)"
)

# A quotation: double quotes or guillemets around words, or single quotes opened at a
# word boundary (British style), not an apostrophe inside a word.
QUOTATION = r"[\"«„]\s?\w|(?:^|[\s(\[])'\w[^']*\w'(?:\W|$)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\p{L}{0,6}\.?"
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
    """The paragraph names the row's publisher and talks about the site itself.

    `publisher` is the registered-domain label ("daijiworld"), matched as a word, so
    "Daijiworld.com" and "www.daijiworld.com" count too; null never matches.
    """
    names = paragraph.str.contains(pl.lit(r"(?i)\b") + publisher + pl.lit(r"\b"))
    about_site = paragraph.str.contains(_SITE_TOPIC) & paragraph.str.contains(_SITE_VOICE)
    return names.fill_null(False) & about_site


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


def _hash64(key: str) -> int:
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big")


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
    return key.map_elements(_hash64, return_dtype=pl.UInt64, skip_nulls=True)


def repeated_lines(
    line_stats: pl.LazyFrame, thresholds: RepeatThresholds | None = None
) -> pl.LazyFrame:
    """The (domain, line_hash) pairs that `domain_repeat_v1` removes, from a line-stats
    table (domain, line_hash, doc_count, domain_docs)."""
    t = thresholds or RepeatThresholds()
    docs, total = pl.col("doc_count"), pl.col("domain_docs")
    return line_stats.filter(
        (total >= t.min_domain_docs)
        & (docs >= t.repeat_min_docs)
        & (docs >= t.repeat_min_share * total)
    ).select("domain", "line_hash")
