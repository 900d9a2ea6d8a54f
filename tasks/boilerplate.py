"""Boilerplate rules: named, versioned rules that remove whole paragraphs.

A rule's name is written next to every paragraph it removes (`removed_lines`), so a
reader can audit or undo any removal. Rules are tried in this order and the first
match names the removal:

1. the regex rules of `RULES`, most specific first (`comment_disclaimer_v1` …
   `paywall_notice_v1`): site furniture recognised by its own wording, anchored so
   that a normal sentence holding one keyword ("She said she would subscribe to
   the plan.") never matches;
2. `publisher_self_reference_v2`: the row's publisher (from its URL) addressing the
   reader about its own channels (join, subscribe, sign up, contact …) or in its
   legal voice; talk *about* the site (an interview, a fact-check) is reporting;
3. `domain_repeat_v1`: a paragraph that recurs in many documents of the row's
   domain (see `tasks/line_stats.py`);
4. by the rest of the body (`body_context_rule`): `repeated_headline_v1`, the leading
   paragraphs that repeat the title; `author_bio_v1`, trailing author-bio teasers;
   and the other cookie/consent lines of a body that holds a consent wall.

A rule never removes a paragraph for being short. Rules 2, 3 and `author_bio_v1`
never remove a paragraph that quotes someone or opens with a dateline.
`benchmarks/boilerplate_precision.py` measures every rule on the development corpora.
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

# Newsletter and app sign-up prompts that `share_follow_v1` misses: a bare
# "<Name> Newsletter" heading, "Sign up to get …", "Never miss … by signing up …",
# "Subscribe to <Name> newsletters.", "… download the <Name> app(s)".
NEWSLETTER_PROMPT_V1 = [
    r"^(?-i:(?:\p{Lu}[\w'’&.-]* ){1,4}Newsletters?)\W*$",
    r"^(?:then |so |and )?sign[ -]?up (?:now |today |here )?(?:to (?:get|receive)|for "
    r"(?:our|the|my)\b.{0,60}\bnewsletters?)\b",
    r"^never miss\b.{0,80}\b(?:sign(?:ing)?[ -]?up|subscrib\w*|newsletters?)\b",
    r"^(?:[^.!?]{0,40}[.!?] )?subscribe to (?:our |my |the )?[\w .'’&-]{0,40}\bnewsletters?\b",
    r"^if you(?: would|'d|’d)? (?:want|like) to (?:receive|get)\b.{0,100}\bsign[ -]?up\b",
    r"^to (?:receive|get)\b.{0,80}\b(?:inbox|e-?mail)\b.{0,30}\bsign[ -]?up\b",
    r"^for the latest\b.{0,80}\bdownload (?:the|our)\b.{0,40}\bapps?\b",
    r"^(?:by (?:signing up|subscribing),? you (?:agree|acknowledge)|"
    r"you (?:can|may) unsubscribe at any time)\b",
    r"^(?:thanks?|thank you) for (?:subscribing|signing up)\b",
]

# "Follow us: Google News | NewsBreak | …" and bare lists of social channels.
_CHANNEL = (
    r"(?:google news|newsbreak|flipboard|apple news|facebook|twitter|x|instagram|youtube|"
    r"linkedin|tiktok|threads|telegram|whatsapp|pinterest|reddit|rss|e-?mail)"
)
SOCIAL_LINKS_V1 = [
    r"^(?:follow|find|connect with|like) us(?: on)?\s*[:|–—-]\s*\S",
    rf"^(?:{_CHANNEL}\s*[|,/·•]?\s*){{2,}}$",
]

# "MORE: <another headline>" link lines. The label is matched as sites write it (upper
# case or capitalised) and a link line has no closing full stop, so a sentence that
# starts "More: the council also voted …." stays.
MORE_LINK_V1 = [r"^(?-i:MORE|More)\s?:\s+\S.{0,200}[^.\s]$"]

# Comment counters and links: "comments", "12 Comments", "View comments",
# "January 13, 2020 | categories: Python | View Comments".
COMMENT_LINK_V1 = [
    r"^(?:\d[\d,.]*k?\s+)?comments?(?:\s*\(\d+\))?\W*$",
    r"^(?:view|show|hide|read|load|see|post|add|leave|write|jump to|join)(?: the| all| a| an| your"
    r"| \d+)? (?:comments?|discussion)(?:\s*\(\d+\))?\W*$",
    r"^(?:no|\d+) (?:comments|responses|replies)(?: yet)?\W*$",
    r"^be the first to comment\W*$",
    r"^[^.!?]{0,150}\|\s*(?:view|show|leave an?|add an?|post an?|\d+|no) comments?\W*$",
]

# Caption lines under an upper-case media label: "IMAGE: Crowds at the quay …". The
# label must be upper case: CNN's "Photos: <gallery title> <caption>" are the story.
CAPTION_LABEL_V1 = [r"^(?-i:(?:IMAGE|PHOTO|PICTURE|PHOTOGRAPH)S?)\s?:\s"]

# Consent walls that replace the article: "If you click 'Accept all', we and our
# partners …". Anchored at the paragraph's start, so reporting that quotes a button
# ('The button read "Accept all", the regulator said') stays.
_BUTTON = r"[\"'‘“]?(?:accept all|accept|agree|i agree|reject all|manage (?:privacy )?settings)"
CONSENT_WALL_V1 = [
    rf"^if you click {_BUTTON}\b",
    rf"^(?:by )?click(?:ing)? {_BUTTON}[\"'’”]?,? you (?:agree|consent|accept)\b",
    rf"^(?:select|choose|click) {_BUTTON}[\"'’”]?.{{0,100}}"
    r"\b(?:cookies|consent|partners|choices)\b",
    r"^(?:we|[\w.]+(?: [\w.]+)?) and our (?:\d+ )?(?:trusted )?(?:partners|vendors)\b.{0,200}"
    r"\b(?:cookies|store and/or access|personal data|your data|on a device|consent)\b",
    r"^you can (?:change|withdraw|manage) your (?:choices|consent|preferences) at any time\b",
]

# Paywall notices standing in for the article.
PAYWALL_NOTICE_V1 = [
    r"^this (?:content|article|story|page|feature) is (?:reserved|available|only available|"
    r"exclusive|restricted) (?:to|for) (?:our )?(?:paid |premium |digital )?"
    r"(?:subscribers|members)\b",
    r"^subscribe (?:now |today )?to (?:continue|keep) reading\b",
    r"^to (?:view|read|continue reading|access|see) (?:the|this) (?:full |entire |rest of the )?"
    r"(?:story|article|content),? (?:please )?(?:subscribe|log ?in|sign in|register|become a)\b",
    r"^subscribe (?:now |today )?(?:to|for) .{0,60}?\bfor (?:the )?full (?:story|article|access)\b",
    r"^(?:already a (?:subscriber|member)|(?:if )?you(?:'|’)re (?:seeing this message but "
    r"you(?:'|’)re )?already a (?:subscriber|member))\b",
    r"^first[- ]time subscribers\b",
    r"^you(?:'|’)ve (?:reached|read) (?:your|all of your|the)\b.{0,30}\b(?:limit|free)",
    r"^you have (?:reached|read) (?:your|all of your|the maximum)\b.{0,40}"
    r"\b(?:articles?|stories|limit)\b",
    r"^(?:subscribers?|members?)[- ]only (?:content|article|story)\b",
    r"^(?:get|gain|enjoy) unlimited (?:digital )?access\b",
    r"^(?:please )?(?:log ?in|sign in) or (?:subscribe|register)\b",
]

RULES: dict[str, list[str]] = {
    "comment_disclaimer_v1": COMMENT_DISCLAIMER_V1,
    "share_follow_v1": SHARE_FOLLOW_V1,
    "cookie_notice_v1": COOKIE_NOTICE_V1,
    "read_more_v1": READ_MORE_V1,
    "photo_credit_v1": PHOTO_CREDIT_V1,
    "copyright_v1": COPYRIGHT_V1,
    "advertisement_v1": ADVERTISEMENT_V1,
    "newsletter_prompt_v1": NEWSLETTER_PROMPT_V1,
    "social_links_v1": SOCIAL_LINKS_V1,
    "more_link_v1": MORE_LINK_V1,
    "comment_link_v1": COMMENT_LINK_V1,
    "caption_label_v1": CAPTION_LABEL_V1,
    "consent_wall_v1": CONSENT_WALL_V1,
    "paywall_notice_v1": PAYWALL_NOTICE_V1,
}
SELF_REFERENCE_RULE = "publisher_self_reference_v2"
# The longest furniture seen in the corpus is a ~50-word comment disclaimer.
MAX_FURNITURE_WORDS = 80
DOMAIN_REPEAT_RULE = "domain_repeat_v1"
# Rules that need the rest of the body and the row's title (`body_context_rule`).
HEADLINE_RULE = "repeated_headline_v1"
AUTHOR_BIO_RULE = "author_bio_v1"
RULE_ORDER = [*RULES, SELF_REFERENCE_RULE, DOMAIN_REPEAT_RULE, HEADLINE_RULE, AUTHOR_BIO_RULE]

# How a site speaks to its reader about its own channels: an imperative opening
# ("Join …", "Subscribe to …", "Email: …", "Contact … at"), a closing call ("… Sign up
# here."), "you can contact …", "you need to be a subscriber", or legal voice
# (responsibility, reserved rights, readers' views). Talk *about* the site ("we want
# our site to be fast", "in this fact-check, we'll interpret …") is none of these.
SELF_PROMOTION = [
    r"^\W*(?:join|follow|subscribe|sign (?:me )?up|download|contact|e-?mail(?: address)?\s*:?|"
    r"register|log ?in|visit|click|tap|show comments)\b",
    r"\b(?:sign (?:me )?up|subscribe|register)(?: here| now| today| for free)?\W*$",
    r"^(?:you can|please) (?:contact|reach|email|follow|write to|find)\b",
    r"\byou (?:need|have|must) to be an? (?:subscriber|member|registered)\b",
    r"\bnot be (?:held )?(?:responsible|liable)\b|\bin no way will\b|\bat your own risk\b",
    r"\b(?:obligatory|mandatory) (?:on|for) \S+ to\b",
    r"\breserves? the right to\b",
    r"\b(?:are|is) (?:the|solely the) (?:views|opinions?|responsibility) of (?:the |its )?"
    r"(?:readers?|users?|authors?|commenters?|individual)",
    r"\bdo(?:es)? not (?:necessarily )?(?:reflect|represent) the (?:views|opinions?)\b",
]

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

# "<Name> is a writer/editor/reporter …": an author's bio teaser. Furniture only where
# nothing of the article follows it (the end of a body, or the whole body).
_PARTICLE = r"(?:van|von|de|der|den|da|di|del|la|le|al|el|bin) "
_NAME = rf"\p{{Lu}}[\p{{L}}.'’-]+(?: (?:{_PARTICLE})*\p{{Lu}}[\p{{L}}.'’-]+){{1,3}}"
_ROLE = (
    r"(?i:writer|editor|reporter|journalist|correspondent|contributor|columnist|author|"
    r"freelancer|blogger|critic|analyst|producer|trader)s?"
)
AUTHOR_BIO = (
    rf"^(?-i:{_NAME}),? (?:is|was|has been) (?:an? |the )(?:[\p{{L}}-]+ ){{0,4}}{_ROLE}"
    # more roles ("analyst and trader"), then where or what they write: "at/for/of
    # <outlet>", "covering …", "who covers …".
    rf"(?:(?:,|,? and|,? &) (?:[\p{{L}}-]+ ){{0,2}}{_ROLE})*"
    r"(?:,? (?:at|for|with|of|on|based in|covering)\b|,? who (?:covers|writes|reports|focuses|"
    r"speciali[sz]es|has (?:written|covered|worked|reported))\b)"
    # or the heading over such a bio
    r"|^(?i:about the author|author bio(?:graphy)?)\W*$"
)
MAX_BIO_WORDS = 60
# The other lines of a consent wall: what it says about cookies, data and choices.
CONSENT_WALL_RULE = "consent_wall_v1"
CONSENT_WORDS = (
    r"(?i)\b(?:cookies?|personal data|consent|our (?:sites|partners)|sites and apps|"
    r"privacy (?:policy|settings|dashboard)|cookie (?:policy|settings)|family of brands|"
    r"(?:reject|accept) all|your choices)\b"
)
MAX_WALL_LINE_WORDS = 40


def headline_key(text: pl.Expr) -> pl.Expr:
    """Text folded for comparing a paragraph with the title: case, punctuation, spacing."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def body_context_rule(text: pl.Expr, title: pl.Expr, rule: pl.Expr, row: pl.Expr) -> pl.Expr:
    """`rule`, or for a paragraph no other rule removed, a rule that needs the rest of
    its body: `repeated_headline_v1` when it and every kept paragraph before it equal
    the title (after `headline_key`); `author_bio_v1` when it and every kept paragraph
    after it are short author-bio teasers; `consent_wall_v1` for a short line about
    cookies, consent or privacy in a body where that rule already found a consent
    wall (the wall's other lines). Paragraphs come in body order; `row` groups them by
    body. Whole runs go at once, so cleaning again removes nothing more."""
    kept = rule.is_null()
    words = text.str.count_matches(r"\S+")
    key = headline_key(title)
    headline = kept & (headline_key(text) == key).fill_null(False) & (key != "").fill_null(False)
    leading = headline & ((kept & ~headline).cast(pl.UInt32).cum_sum().over(row) == 0)
    bio = (
        kept
        & ~leading
        & text.str.contains(AUTHOR_BIO)
        & (words <= MAX_BIO_WORDS)
        & ~protected(text)
    )
    trailing = bio & ((kept & ~bio & ~leading).cast(pl.UInt32).cum_sum(reverse=True).over(row) == 0)
    in_wall = (rule == CONSENT_WALL_RULE).fill_null(False).any().over(row)
    wall_line = (
        kept
        & in_wall
        & text.str.contains(CONSENT_WORDS)
        & (words <= MAX_WALL_LINE_WORDS)
        & ~protected(text)
    )
    return (
        pl.when(leading)
        .then(pl.lit(HEADLINE_RULE))
        .when(trailing)
        .then(pl.lit(AUTHOR_BIO_RULE))
        .when(wall_line)
        .then(pl.lit(CONSENT_WALL_RULE))
        .otherwise(rule)
    )


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
