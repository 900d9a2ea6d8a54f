"""Publication dates: raw strings -> a real date plus a flag saying why one is missing.

Expression builders only, so the clean stage combines them in one `with_columns`.
An implausible date is flagged and dropped rather than passed on as a fact.

Parsing is vectorised: each known form is one regex whose named groups `y`, `m`, `d`
are rebuilt as `YYYY-MM-DD` and read by `str.to_date`, and the forms are combined with
`pl.coalesce`. Only a short string that is still unparsed and names a month goes through
dateutil, row by row (`_fallback_date`). The date is the calendar date as written: a
time zone is never applied, because "Wed, 08 Dec 2021 23:30 -0500" was published on the
8th where it was written. Epoch numbers have no zone of their own and are read as UTC.

Day/month order is never guessed: 08/12/2021 is 8 December in most of the world and
August 12 in the US, and a wrong date is worse than none. A numeric date is read only
when one reading is impossible (25/12/2021, 12/25/2021) or both agree (08/08/2021).
A date with no day ("December 2021") or no year ("Dec 8") is unparseable, not filled in.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable

import polars as pl
from dateutil import parser as dateutil_parser

from newsflow.text_rules import MONTH_NAME, MONTH_NAMES

EARLIEST = dt.date(1900, 1, 1)
# A longer "date" is text in the wrong field; it is flagged, not searched for a date.
MAX_DATE_CHARS = 120
# Values that say "no date" rather than give a bad one.
PLACEHOLDER = r"(?i)^(?:none|null|nil|nan|nat|n/?a|undefined|unknown|-+|0+|0000-00-00.*)?$"

_MONTH_NUMBERS = {name[:3].lower(): f"{number:02d}" for number, name in enumerate(MONTH_NAMES, 1)}
_WEEKDAY = r"(?:(?i:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_ORDINAL = r"(?i:st|nd|rd|th)?"
_NOT_DIGIT = r"(?:\D|$)"  # whatever follows the date (a time, a zone) is not read

# Year first, anywhere in the string: ISO 8601 (2021-12-08T10:00:00+01:00), 2021/12/08.
YEAR_FIRST = rf"(?:^|\D)(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_NOT_DIGIT}"
# 20211208, or ISO 8601 basic 20211208T100000Z; the whole string.
COMPACT = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[T\s]|$)"
# Dec 8, 2021 / Wednesday, December 8th, 2021 10:00 AM.
MONTH_FIRST = (
    rf"^{_WEEKDAY}(?P<m>{MONTH_NAME})\.?\s+(?P<d>\d{{1,2}}){_ORDINAL},?\s+"
    rf"(?P<y>\d{{4}}){_NOT_DIGIT}"
)
# 8 Dec 2021 / 8-Dec-2021 / RFC 2822 "Wed, 08 Dec 2021 10:00:00 +0000".
DAY_FIRST = (
    rf"^{_WEEKDAY}(?P<d>\d{{1,2}}){_ORDINAL}(?:\s+(?i:of))?[\s-]+(?P<m>{MONTH_NAME})\.?,?[\s-]+"
    rf"(?P<y>\d{{4}}){_NOT_DIGIT}"
)
# 25/12/2021 or 12/25/2021, anywhere; read only when the order cannot matter (module doc).
NUMERIC_DAY_MONTH = rf"(?:^|\D)(?P<a>\d{{1,2}})[-/.](?P<b>\d{{1,2}})[-/.](?P<y>\d{{4}}){_NOT_DIGIT}"
# Forms with groups y, m, d, in order of precedence: the first that matches decides.
_FORMS = {
    "compact": COMPACT,
    "month_first": MONTH_FIRST,
    "day_first": DAY_FIRST,
    "year_first": YEAR_FIRST,
}
# Epoch seconds (10 digits, optional fraction) or milliseconds (13 digits); the whole string.
EPOCH = r"^(\d{10}|\d{13})(?:\.\d+)?$"
# Only strings naming a month are worth the per-row fallback.
FALLBACK_HINT = rf"(?i)\b{MONTH_NAME}\b"

# Dates in URL paths: /2021/12/08/, /2021-12-08-slug, /2017-09/15/, /2021/dec/08/, -20211208.
_URL_YEAR = r"(?P<y>(?:19|20)\d{2})"
_URL_END = r"(?:[/._-]|$)"
URL_NUMERIC = rf"/{_URL_YEAR}[-/](?P<m>\d{{1,2}})[-/](?P<d>\d{{1,2}}){_URL_END}"
URL_MONTH_NAME = rf"/{_URL_YEAR}/(?P<m>{MONTH_NAME})/(?P<d>\d{{1,2}}){_URL_END}"
URL_COMPACT = rf"[/_-]{_URL_YEAR}(?P<m>[01]\d)(?P<d>[0-3]\d){_URL_END}"
_URL_FORMS = {"numeric": URL_NUMERIC, "month_name": URL_MONTH_NAME, "compact": URL_COMPACT}

_AMBIGUOUS_TRIPLET = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}(?!\d)")
# Two different defaults: a part that differs between the two results was not in the text.
_DEFAULTS = (dt.datetime(2000, 1, 1), dt.datetime(2004, 2, 2))


def _fallback_date(text: str) -> dt.date | None:
    """dateutil's reading of `text`, only if it gave year, month and day unambiguously."""
    for first, second in _AMBIGUOUS_TRIPLET.findall(text):
        if first != second and int(first) <= 12 and int(second) <= 12:
            return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            readings = {
                dateutil_parser.parse(text, default=default, fuzzy=True, ignoretz=True).date()
                for default in _DEFAULTS
            }
    except (ValueError, OverflowError):
        return None
    return readings.pop() if len(readings) == 1 else None


def _from_parts(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """The date of year, month (number or English name) and day strings; null if invalid."""
    month_number = month.str.slice(0, 3).str.to_lowercase().replace(_MONTH_NUMBERS)
    iso = pl.concat_str([year, month_number.str.zfill(2), day.str.zfill(2)], separator="-")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def _epoch_date(digits: pl.Expr) -> pl.Expr:
    """The UTC date of 10 digits of epoch seconds or 13 of milliseconds."""
    number = digits.cast(pl.Int64, strict=False)
    seconds = pl.when(digits.str.len_chars() == 13).then(number // 1000).otherwise(number)
    return pl.from_epoch(seconds, time_unit="s").dt.date()


def _first_part(forms: Iterable[str], part: str) -> pl.Expr:
    """Group `part` of the first form that matched; a form's groups are all set or all null."""
    return pl.coalesce(*(pl.field(form).struct.field(part) for form in forms))


# Each builder below computes its regex matches once as fields of a struct and derives the
# date from those fields: polars does not reliably share a repeated `extract_groups` or a
# Python UDF between the expressions that use it, and evaluating them twice doubled the time.


def _stripped(raw: pl.Expr) -> pl.Expr:
    return raw.str.strip_chars(" \t\r\n\u00a0\"'")


def is_missing(raw: pl.Expr) -> pl.Expr:
    """True where the raw value gives no date at all: null, blank or a placeholder."""
    return raw.is_null() | _stripped(raw).str.contains(PLACEHOLDER)


def parsed_date(raw: pl.Expr) -> pl.Expr:
    """The date a raw string gives, in the first form that matches (module doc); else null."""
    usable = ~is_missing(raw) & (raw.str.len_chars() <= MAX_DATE_CHARS)
    day_month = pl.field("day_month").struct.field
    day_first = _from_parts(day_month("y"), day_month("b"), day_month("a"))
    month_first = _from_parts(day_month("y"), day_month("a"), day_month("b"))
    unambiguous = day_first.is_null() | month_first.is_null() | (day_first == month_first)
    text = pl.field("text")
    return (
        pl.struct(text=pl.when(usable).then(_stripped(raw)))
        .struct.with_fields(
            epoch=text.str.extract(EPOCH),
            day_month=text.str.extract_groups(NUMERIC_DAY_MONTH),
            **{name: text.str.extract_groups(pattern) for name, pattern in _FORMS.items()},
        )
        .struct.with_fields(
            vectorised=pl.coalesce(
                _from_parts(*(_first_part(_FORMS, part) for part in ("y", "m", "d"))),
                _epoch_date(pl.field("epoch")),
                pl.when(unambiguous).then(pl.coalesce(day_first, month_first)),
            )
        )
        .struct.with_fields(
            date=pl.coalesce(
                pl.field("vectorised"),
                pl.when(pl.field("vectorised").is_null() & text.str.contains(FALLBACK_HINT))
                .then(text)
                .map_elements(_fallback_date, return_dtype=pl.Date, skip_nulls=True),
            )
        )
        .struct.field("date")
    )


def date_from_url(url: pl.Expr) -> pl.Expr:
    """The date in a URL's path (/2021/12/08/, /2021/dec/08/, /20211208/ …); else null.

    A path with only a year and month (/2021/12/slug) gives no date: the day is not there.
    """
    path = url.str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", "").str.replace(r"[?#].*", "")
    return (
        pl.struct(path=path)
        .struct.with_fields(
            **{name: pl.field("path").str.extract_groups(p) for name, p in _URL_FORMS.items()}
        )
        .struct.with_fields(
            date=_from_parts(*(_first_part(_URL_FORMS, part) for part in ("y", "m", "d")))
        )
        .struct.field("date")
    )


def implausible_date(date: pl.Expr, run_date: dt.date) -> pl.Expr:
    """Why a parsed date cannot be true: future, before_1900, epoch_1970; else null."""
    latest = run_date + dt.timedelta(days=1)
    return (
        pl.when(date > latest)
        .then(pl.lit("future"))
        .when(date < EARLIEST)
        .then(pl.lit("before_1900"))
        # Epoch-unit mistakes (seconds read as milliseconds) land in January 1970.
        .when((date.dt.year() == 1970) & (date.dt.month() == 1))
        .then(pl.lit("epoch_1970"))
        .otherwise(None)
    )


def published_date(raw: pl.Expr, url: pl.Expr, run_date: dt.date) -> pl.Expr:
    """Struct {published_date, date_source, date_flag}: the raw date, else the URL's.

    `date_source` is "raw", "url" or null; `date_flag` judges whichever date was used
    (missing/unparseable describe the raw value when the URL had no date either), and a
    flagged date is null. One struct rather than three expressions so the per-row
    fallback runs once: polars does not share a Python UDF between expressions.
    Unnest it: `df.with_columns(dates=published_date(...)).unnest("dates")`.
    """
    chosen = pl.coalesce(pl.field("from_raw"), pl.field("from_url"))
    return (
        pl.struct(
            from_raw=parsed_date(raw), from_url=date_from_url(url), raw_missing=is_missing(raw)
        )
        .struct.with_fields(
            published_date=chosen,
            date_source=pl.when(pl.field("from_raw").is_not_null())
            .then(pl.lit("raw"))
            .when(pl.field("from_url").is_not_null())
            .then(pl.lit("url")),
            date_flag=pl.when(chosen.is_not_null())
            .then(implausible_date(chosen, run_date))
            .when(pl.field("raw_missing"))
            .then(pl.lit("missing"))
            .otherwise(pl.lit("unparseable")),
        )
        .struct.with_fields(
            published_date=pl.when(pl.field("date_flag").is_null()).then(pl.field("published_date"))
        )
        .struct.drop(["from_raw", "from_url", "raw_missing"])
    )
