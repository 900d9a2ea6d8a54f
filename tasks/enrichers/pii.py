"""pii_v1 (opt-in): how many email addresses, phone numbers and IP addresses the body holds.

What a team needs before it shares or trains on a corpus: which articles carry contact
details of private people (a reader's email in a letters page, a tip line, a leaked
number), to redact or leave out. The counts flag them; the matches stay in `body`, never
copied. As dolma's `pii_regex` taggers do: regular expressions, no model, in pure polars
(~all of enrich's cheapest cost). Not in the default set (run it with
`--enrichers ...,pii_v1`): its columns are null in a run that does not name it.

What counts, on the body as written:

* an email address: `local@domain.tld` (a bare `@handle` is none);
* a phone number in a form that says it is one: international (`+44 20 7946 0000`,
  `+1-202-555-0143`), a national trunk prefix (`020 7946 0958`, `0800 123 456`), a
  bracketed area code (`(202) 555-0143`) or the North American `202-555-0143`. Bare digit
  runs (`20794600000`), years (`2004-2005`), scores and amounts (`1,200,000`) are none;
* an IPv4 address (`192.0.2.1`).
"""

from __future__ import annotations

import polars as pl

from newsflow.schema import Column
from tasks.enrichers import Enricher

NAME = "pii_v1"

EMAIL = r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.\p{L}{2,}"
_GROUP = r"[ .-]?\d{2,4}"
# The character before a number: not a digit or a letter (inside a word or a longer
# number), not a comma or a dot (the tail of an amount), not a plus. Consumed, as the
# regex engine has no look-behind (a count is unaffected).
_START = r"(?:^|[^\w,.+])"
PHONE = (
    rf"{_START}(?:"
    r"\+\d{1,3}(?:[ .-]?\(0\))?[ .-]?\d{1,4}(?:" + _GROUP + r"){2,4}"  # +44 20 7946 0000
    r"|0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}"  # 020 7946 0958, 0800 123 456
    r"|\(\d{2,5}\)[ .-]?\d{3,4}[ .-]\d{3,4}"  # (202) 555-0143
    r"|\d{3}-\d{3}-\d{4}|\d{3}\.\d{3}\.\d{4}"  # 202-555-0143, 202.555.0143
    r")\b"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IP_ADDRESS = rf"{_START}{_OCTET}(?:\.{_OCTET}){{3}}(?:$|[^\w.]|\.(?:\s|$))"


def pii_v1(frame: pl.DataFrame) -> pl.DataFrame:
    body = pl.col("body").fill_null("")
    return frame.select(
        email_count=body.str.count_matches(EMAIL).cast(pl.Int64),
        phone_count=body.str.count_matches(PHONE).cast(pl.Int64),
        ip_address_count=body.str.count_matches(IP_ADDRESS).cast(pl.Int64),
    )


ENRICHER = Enricher(
    name=NAME,
    output=(
        Column(
            "email_count",
            pl.Int64(),
            "Email addresses in body (local@domain.tld); null unless the run selected "
            "pii_v1 (pii_v1, opt-in)",
        ),
        Column(
            "phone_count",
            pl.Int64(),
            "Phone numbers in body written as one: international (+44 20 …), with a trunk "
            "prefix (020 …) or area code ((202) …), or 202-555-0143; null unless the run "
            "selected pii_v1 (pii_v1, opt-in)",
        ),
        Column(
            "ip_address_count",
            pl.Int64(),
            "IPv4 addresses in body; null unless the run selected pii_v1 (pii_v1, opt-in)",
        ),
    ),
    add=pii_v1,
    position=80,
    default=False,
)
