"""dateline_v2: the dateline's place, date and wire agency, and the byline.

Recognised at the start of the body (after a "By …" byline paragraph and photo
captions, if any):

    Washington, Dec 8 (IANS) US President …      place Washington, date "Dec 8", IANS
    WASHINGTON (AP) — …                          place Washington, AP
    LONDON (Reuters) - …                         place London, Reuters
    BEIJING, Dec. 8 (Xinhua) -- …                place Beijing, date "Dec. 8", Xinhua
    KABUL, Afghanistan — …                       place "Kabul, Afghanistan", no agency
    NEW DELHI: … (PTI)                           place New Delhi, PTI from the last line
    (Reuters) — The New York State …             Reuters, no place
    … last line: "— Jane Doe, AP"                AP, byline "Jane Doe"

A candidate counts only when it cannot be an ordinary opening: the credit in
parentheses is a known agency, or the place is in capitals (and not a label such as
"BREAKING:"), or a date follows the place; "Apple (AAPL) shares …" and "Update: …"
are not datelines. Photo captions ("IMAGE: …", "Photo: …") and column headers
("DEAR ABBY: …", "Ask Amy") are never places. Agencies are spelled as the agencies
spell themselves (AP, dpa). Places in capitals are title-cased.

The byline is the names as written (whitespace collapsed), from an opening "By …"
line ("By Jane Doe and John Smith, Reuters", "By A, B and C"), a credit line
("Reporting by Jane Doe; Editing by …", also after a sentence in the last paragraph)
or a closing "— Jane Doe, Agency" signature. dateline_v1 title-cased names in
capitals, missed agency-only openings and took captions and column headers for
places. Pure polars (Rust regex).
"""

from __future__ import annotations

import polars as pl

from newsflow.schema import Column
from newsflow.text_rules import DATELINE_MONTH
from tasks.enrichers import Enricher

NAME = "dateline_v2"

AGENCIES = {
    "ians": "IANS",
    "reuters": "Reuters",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "pti": "PTI",
    "ani": "ANI",
    "upi": "UPI",
    "xinhua": "Xinhua",
    "dpa": "dpa",
    "bloomberg": "Bloomberg",
    "bloomberg news": "Bloomberg",
}
# Openings in capitals that look like a place followed by a colon or dash.
LABELS = [
    "BREAKING",
    "BREAKING NEWS",
    "UPDATE",
    "UPDATED",
    "EXCLUSIVE",
    "WATCH",
    "VIDEO",
    "PHOTOS",
    "PHOTO",
    "LIVE",
    "NOTE",
    "EDITOR'S NOTE",
    "EDITOR’S NOTE",
    "ANALYSIS",
    "OPINION",
    "COMMENT",
    "CORRECTION",
    "FILE",
    "FACT CHECK",
    "REVIEW",
    "INTERVIEW",
    "ADVERTISEMENT",
    "WARNING",
    # Photo captions and credits.
    "IMAGE",
    "IMAGES",
    "PICTURE",
    "PICTURES",
    "PICTURED",
    "CAPTION",
    "CREDIT",
    "PHOTOGRAPH",
    "FILE PHOTO",
    "GRAPHIC",
    "ILLUSTRATION",
    "LISTEN",
    "AUDIO",
    # Advice columns and Q&A.
    "ASK AMY",
    "Q",
    "A",
    "QUESTION",
    "ANSWER",
]
# "Dear Abby", "Dear Annie", "Dear Readers": a letter's salutation, never a place.
_SALUTATION = r"^(?i:dear)\s"
# Captions before the story: "IMAGE: Smoke rises … (Reuters)\n\n", "Photo: AP\n\n".
_CAPTIONS = (
    r"^(?:(?i:image|images|photo|photos|picture|caption|file photo|photograph)"
    r"\s*[:|–—\-][^\n]*\n+)+"
)

# Words of a name or place are separated by one space, never a line break.
_CAP_WORD = r"\p{Lu}[\p{L}\p{M}'’./\-]*"
_PLACE = rf"{_CAP_WORD}(?: (?:(?:de|da|del|la|el|am|upon|on|sur) )?{_CAP_WORD}){{0,3}}"
_DATE = rf"(?:{DATELINE_MONTH}\s\d{{1,2}}|\d{{1,2}}\s{DATELINE_MONTH})(?:,?\s\d{{4}})?"
_SEP = r"\s*(?:-{1,2}|–|—|:)"
# Stricter on purpose than clean's test of a dateline-like opening (`DATELINE` in
# tasks/boilerplate.py, which only keeps a paragraph from removal): what matches here
# is stored as place, date and agency. The two share the month (newsflow/text_rules.py).
_DATELINE = (
    rf"^(?P<place>{_PLACE})(?:,\s(?P<region>{_PLACE}))??(?:,?\s(?P<date>{_DATE}))?"
    rf"(?:\s?\((?P<credit>\p{{L}}[\p{{L}} .&\-]{{0,30}})\)(?:{_SEP})?|{_SEP})\s"
)
# A name: capitalised words, with particles ("Ursula von der Leyen", "Jan de Vries").
_NAME_WORD = r"\p{Lu}[\p{L}'’.\-]*"
_NAME = (
    rf"{_NAME_WORD}(?: (?:(?:von|van|de|der|den|da|di|del|la|le|bin|al|el) )*{_NAME_WORD}){{1,3}}"
)
# Names joined by "and" or "&", commas only before a closing "and": "Jane Doe, John Smith
# and Ann Lee" (in "Jane Doe, Associated Press" the comma leads to an affiliation).
_NAMES = rf"{_NAME}(?:(?:, {_NAME})*,? (?:and|And|AND|&) {_NAME})?"
# "By Jane Doe" alone on the first line, or followed by an affiliation ("…, Reuters").
_BYLINE = rf"^(?i:by)\s+(?P<names>{_NAMES})(?:\s*[,|•–—\-][^\n]{{0,60}})?\s*(?:\n|$)"
_BYLINE_PARAGRAPH = rf"^(?i:by)\s+{_NAMES}[^\n]{{0,60}}\n\n"
# Reuters and others credit the reporters at the end: "Reporting by Jane Doe; Editing by …",
# on a line of its own or after the last sentence.
_CREDIT_LINE = rf"(?:^|\n|[.!?”\"]\s)\(?(?i:reporting|writing|written)\sby\s({_NAMES})"
# A closing signature: "— Jane Doe, Reuters" (an affiliation of a few words) on the last line.
_SIGNATURE = rf"(?:^|\n)\s*(?:-{{1,2}}|–|—)\s*({_NAMES}),\s*[\p{{L}}][\p{{L}} .&\-]{{0,40}}\s*$"

_AGENCY_NAMES = "|".join(sorted(AGENCIES, key=len, reverse=True))
# "(Reuters) — The New York State Attorney General …": an agency without a place.
_AGENCY_ONLY = rf"^\(\s*((?i:{_AGENCY_NAMES}))\s*\)\s*(?:-{{1,2}}|–|—|:)\s"
# "… (PTI)", "(With inputs from IANS)", "— Reuters", "— Jane Doe, AP" closing the body.
_TRAILING_AGENCY = (
    rf"(?:\((?i:\s*(?:with\s+inputs?\s+from\s+)?)|[-–—]{{1,2}}\s*(?:{_NAMES},\s*)?)"
    rf"((?i:{_AGENCY_NAMES}))\s*\)?\s*$"
)


def _titled(text: pl.Expr) -> pl.Expr:
    """Title-case text written in capitals (NEW DELHI -> New Delhi); keep anything else."""
    return pl.when(text == text.str.to_uppercase()).then(text.str.to_titlecase()).otherwise(text)


def _agency(name: pl.Expr) -> pl.Expr:
    return name.str.strip_chars().str.to_lowercase().replace_strict(AGENCIES, default=None)


def dateline_v2(frame: pl.DataFrame) -> pl.DataFrame:
    body = pl.col("body").fill_null("")
    lead = body.str.replace(_BYLINE_PARAGRAPH, "").str.replace(_CAPTIONS, "").str.slice(0, 300)
    parts = lead.str.extract_groups(_DATELINE)
    place, region = parts.struct.field("place"), parts.struct.field("region")
    date, credit = parts.struct.field("date"), parts.struct.field("credit")
    agency = pl.coalesce(
        _agency(credit),
        _agency(lead.str.extract(_AGENCY_ONLY, 1)),
        _agency(body.str.extract(_TRAILING_AGENCY, 1)),
    )
    label = place.str.to_uppercase().is_in(LABELS) | place.str.contains(_SALUTATION)
    capitals = place == place.str.to_uppercase()
    is_dateline = (
        place.is_not_null() & ~label & (agency.is_not_null() | capitals | date.is_not_null())
    )
    full_place = pl.concat_str(_titled(place), pl.lit(", ") + region, ignore_nulls=True)
    names = pl.coalesce(
        body.str.extract_groups(_BYLINE).struct.field("names"),
        body.str.extract(_CREDIT_LINE, 1),
        body.str.extract(_SIGNATURE, 1),
    )
    return frame.select(
        dateline_place=pl.when(is_dateline).then(full_place),
        dateline_date=pl.when(is_dateline).then(date),
        dateline_agency=agency,
        byline=names.str.replace_all(r"\s+", " "),
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "dateline_place",
            pl.String(),
            "Place of the opening dateline, title-cased, with its region when written "
            '("Washington", "Kabul, Afghanistan"); never a caption label ("IMAGE:") or a '
            'column header ("Dear Abby:") (dateline_v2)',
        ),
        Column(
            "dateline_date",
            pl.String(),
            'Date of the dateline as written ("Dec 8") (dateline_v2)',
        ),
        Column(
            "dateline_agency",
            pl.String(),
            'Wire agency credited in the dateline, an agency-only opening ("(Reuters) —") or '
            'at the end of the body ("(PTI)", "— Jane Doe, AP"): IANS, Reuters, AP, AFP, PTI, '
            "ANI, UPI, Xinhua, dpa, Bloomberg (dateline_v2)",
        ),
        Column(
            "byline",
            pl.String(),
            'Author names as written, from an opening "By …" line ("By Jane Doe, John Smith '
            'and Ann Lee"), a "Reporting by …" credit or a closing "— Jane Doe, Agency" '
            "signature (dateline_v2)",
        ),
    ),
    add=dateline_v2,
    position=40,
    replaces=("dateline_v1",),
)
