"""dates: every supported form, hostile values, the URL fallback, and no per-row Python for
the common forms."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.dates
from tasks.dates import date_from_url, parsed_date, published_date

RUN_DATE = dt.date(2026, 11, 23)
DEC_8 = dt.date(2021, 12, 8)


def parse(raws: list[str | None]) -> list[tuple[dt.date | None, str | None]]:
    """(parsed date, flag) of raw values without a URL, the flag as clean computes it
    (`published_date`), which keeps the date only when it is not flagged."""
    df = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    out = df.select(
        date=parsed_date(pl.col("raw")),
        dates=published_date(pl.col("raw"), pl.lit(None, pl.String), RUN_DATE),
    ).unnest("dates")
    kept = pl.when(pl.col("date_flag").is_null()).then(pl.col("date"))
    assert out["published_date"].equals(out.select(kept)["date"], null_equal=True)
    return list(out.select("date", "date_flag").iter_rows())


@pytest.mark.parametrize(
    ("raw", "date", "flag"),
    [
        # compact and ISO 8601: the calendar date as written, never shifted to UTC
        ("20211208", DEC_8, None),
        ("20211208T100000Z", DEC_8, None),
        ("2021-12-08", DEC_8, None),
        ("2021-12-08T10:00:00", DEC_8, None),
        ("2021-12-08T10:00:00Z", DEC_8, None),
        ("2021-12-08T23:30:00-05:00", DEC_8, None),
        ("2021-12-08T00:30:00+01:00", DEC_8, None),
        ("2021-12-08T10:00:00.657000+0100", DEC_8, None),
        ("2021-12-08 10:00", DEC_8, None),
        ("2021/12/08", DEC_8, None),
        # English month names, with or without weekday and time
        ("Dec 8, 2021", DEC_8, None),
        ("December 8, 2021", DEC_8, None),
        ("Dec. 8, 2021", DEC_8, None),
        ("DECEMBER 08 2021", DEC_8, None),
        ("8 Dec 2021", DEC_8, None),
        ("8 December 2021", DEC_8, None),
        ("8th of December, 2021", DEC_8, None),
        ("08-Dec-2021", DEC_8, None),
        ("Wednesday, December 8, 2021", DEC_8, None),
        ("Wednesday, December 8, 2021 10:00 AM EST", DEC_8, None),
        ("Sept 8, 2021", dt.date(2021, 9, 8), None),
        ("May 1, 2020", dt.date(2020, 5, 1), None),
        # RFC 2822
        ("Wed, 08 Dec 2021 10:00:00 +0000", DEC_8, None),
        ("08 Dec 2021 10:00 GMT", DEC_8, None),
        ("Wed, 08 Dec 2021 23:59:59 -0800", DEC_8, None),
        # epoch seconds and milliseconds (UTC)
        ("1638957600", DEC_8, None),
        ("1638957600.5", DEC_8, None),
        ("1638957600000", DEC_8, None),
        ("0001587965", dt.date(1970, 1, 19), "epoch_1970"),
        ("0001587965657", dt.date(1970, 1, 19), "epoch_1970"),
        # numeric day/month: read only when the order cannot matter
        ("08/12/2021", None, "unparseable"),
        ("12/08/2021", None, "unparseable"),
        ("08.12.2021 10:00", None, "unparseable"),
        ("25/12/2021", dt.date(2021, 12, 25), None),
        ("12/25/2021", dt.date(2021, 12, 25), None),
        ("25.12.2021", dt.date(2021, 12, 25), None),
        ("08/08/2021", dt.date(2021, 8, 8), None),
        ("13/13/2021", None, "unparseable"),
        # missing parts are not filled in from a default or from today
        ("Dec 8", None, "unparseable"),
        ("December 2021", None, "unparseable"),
        ("2021", None, "unparseable"),
        ("2021-12", None, "unparseable"),
        # implausible dates
        ("1970-01-19T09:06:05.657000+00:00", dt.date(1970, 1, 19), "epoch_1970"),
        ("1970-02-01", dt.date(1970, 2, 1), None),
        ("1850-01-01", dt.date(1850, 1, 1), "before_1900"),
        ("29991231", dt.date(2999, 12, 31), "future"),
        ("2026-11-24", dt.date(2026, 11, 24), None),  # run date + 1 day: time zones
        ("2026-11-25", dt.date(2026, 11, 25), "future"),
        ("9999999999", dt.date(2286, 11, 20), "future"),
        # hostile
        (None, None, "missing"),
        ("", None, "missing"),
        ("   ", None, "missing"),
        ("None", None, "missing"),
        ("null", None, "missing"),
        ("0", None, "missing"),
        ("0000-00-00", None, "missing"),
        ("0000-00-00 00:00:00", None, "missing"),
        ("2021-02-30", None, "unparseable"),
        ("2021-13-01", None, "unparseable"),
        ("Feb 30, 2021", None, "unparseable"),
        ("20211399", None, "unparseable"),
        ("99999999", None, "unparseable"),
        ("123456789", None, "unparseable"),
        ("12345678901", None, "unparseable"),
        ("javascript:alert(1)", None, "unparseable"),
        ("<script>alert(2021)</script>", None, "unparseable"),
        ("yesterday", None, "unparseable"),
        ("3 hours ago", None, "unparseable"),
        ("x" * 10_000, None, "unparseable"),
        ("2021-12-08 " + "x" * 10_000, None, "unparseable"),  # too long to be a date field
        ("9" * 10_000, None, "unparseable"),
        ("2021-12-0899", None, "unparseable"),
        ("12021-12-08", None, "unparseable"),
        # junk around a date
        ("  2021-12-08\n", DEC_8, None),
        ('"2021-12-08"', DEC_8, None),
        ("<time>2021-12-08</time>", DEC_8, None),
        ("Posted on 2021-12-08 by admin", DEC_8, None),
        ("2021-12-08 (updated 2021-12-10)", DEC_8, None),
        ("Published: December 8, 2021", DEC_8, None),  # dateutil fallback
        ("Updated Wed 8th Dec. 2021, 10:00", DEC_8, None),  # dateutil fallback
        ("Published 08/12/2021 in December", None, "unparseable"),  # fallback does not guess
    ],
)
def test_raw_dates_are_parsed_or_flagged(
    raw: str | None, date: dt.date | None, flag: str | None
) -> None:
    assert parse([raw]) == [(date, flag)]


@pytest.mark.parametrize(
    ("url", "date"),
    [
        ("https://www.theguardian.com/world/2021/dec/08/some-story", DEC_8),
        ("https://example.com/2021/12/08/some-story/", DEC_8),
        ("https://example.com/2021/12/8/some-story", DEC_8),
        ("https://example.com/news/2021-12-08/some-story", DEC_8),
        ("https://example.com/news/2021-12-08-some-story", DEC_8),
        ("http://news.example.cn/english/2017-09/15/c_1366.htm", dt.date(2017, 9, 15)),
        ("https://example.com/20211208/some-story", DEC_8),
        ("https://example.co.za/news/some-story-20211208", DEC_8),
        ("https://example.com/2021/12/08", DEC_8),
        ("https://example.com/2021/12/some-story", None),  # no day in the path
        ("https://example.com/2021/02/30/some-story", None),
        ("https://example.com/article/12345678/", None),
        ("https://example.com/a/2021120812/", None),
        ("https://example.com/p?date=2021/12/08", None),  # the query is not the path
        ("https://example.com/p#/2021/12/08/", None),
        ("https://2021/12/08.example.com/", None),  # the host is not the path
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_date_from_url(url: str | None, date: dt.date | None) -> None:
    df = pl.DataFrame({"url": [url]}, schema={"url": pl.String})
    assert df.select(date_from_url(pl.col("url"))).item() == date


@pytest.mark.parametrize(
    ("raw", "url", "expected"),
    [
        ("2021-12-08", "https://x.com/2020/01/02/a", (DEC_8, "raw", None)),
        (None, "https://x.com/2020/01/02/a", (dt.date(2020, 1, 2), "url", None)),
        ("None", "https://x.com/2020/01/02/a", (dt.date(2020, 1, 2), "url", None)),
        ("yesterday", "https://x.com/2020/01/02/a", (dt.date(2020, 1, 2), "url", None)),
        ("08/12/2021", "https://x.com/2021/12/08/a", (DEC_8, "url", None)),
        (None, "https://x.com/a", (None, None, "missing")),
        (None, None, (None, None, "missing")),
        ("yesterday", "https://x.com/a", (None, None, "unparseable")),
        # a flagged raw date is judged, not replaced by the URL's
        ("29991231", "https://x.com/2020/01/02/a", (None, "raw", "future")),
        ("1970-01-19", "https://x.com/2020/01/02/a", (None, "raw", "epoch_1970")),
        # flags apply to the URL date too
        (None, "https://x.com/2099/01/02/a", (None, "url", "future")),
        ("", "https://x.com/1970/01/19/a", (None, "url", "epoch_1970")),
    ],
)
def test_published_date_takes_raw_then_url(
    raw: str | None,
    url: str | None,
    expected: tuple[dt.date | None, str | None, str | None],
) -> None:
    df = pl.DataFrame({"raw": [raw], "url": [url]}, schema={"raw": pl.String, "url": pl.String})
    out = df.select(d=published_date(pl.col("raw"), pl.col("url"), RUN_DATE)).unnest("d")
    assert out.columns == ["published_date", "date_source", "date_flag"]
    assert out.row(0) == expected


def _never(text: str) -> dt.date | None:
    raise AssertionError(f"Python fallback called for {text!r}")


def test_ten_thousand_iso_dates_parse_without_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.dates, "_fallback_date", _never)
    days = [dt.date(1990, 1, 1) + dt.timedelta(days=i) for i in range(10_000)]
    forms = ["{}", "{}T10:00:00Z", "{}T23:30:00+01:00", "{} 06:15:00"]
    raws = [forms[i % len(forms)].format(day.isoformat()) for i, day in enumerate(days)]
    df = pl.DataFrame({"raw": raws, "url": ["https://x.com/a"] * len(raws)})
    out = df.select(
        d=parsed_date(pl.col("raw")),
        p=published_date(pl.col("raw"), pl.col("url"), RUN_DATE).struct.field("published_date"),
    )
    assert out["d"].to_list() == days
    assert out["p"].to_list() == days


def test_the_fallback_is_called_once_per_leftover_row(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def recording(text: str) -> dt.date | None:
        calls.append(text)
        return DEC_8

    monkeypatch.setattr(tasks.dates, "_fallback_date", recording)
    raws = ["2021-12-08", "Published: December 8, 2021", None, "yesterday", "Dec 8, 2021"]
    df = pl.DataFrame(
        {"raw": raws, "url": [None] * len(raws)}, schema=dict.fromkeys(["raw", "url"], pl.String)
    )
    out = df.select(d=published_date(pl.col("raw"), pl.col("url"), RUN_DATE)).unnest("d")
    assert calls == ["Published: December 8, 2021"]  # once, though three fields use it
    assert out["date_source"].to_list() == ["raw", "raw", None, None, "raw"]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Published: December 8, 2021", DEC_8),
        ("Dec 8", None),
        ("December 2021", None),
        ("Published 08/12/2021 in December", None),
        ("nonsense in May", None),
        ("Dec 8, 2021 - 8 comments", None),
    ],
)
def test_fallback_needs_year_month_and_day(text: str, date: dt.date | None) -> None:
    assert tasks.dates._fallback_date(text) == date


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_written_form_of_a_date_reads_back(day: dt.date) -> None:
    forms = [
        "%Y%m%d",
        "%Y-%m-%d",
        "%Y-%m-%dT%H:%M:%S+01:00",
        "%Y/%m/%d",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d %b %Y",
        "%d %B %Y",
        "%A, %B %d, %Y",
        "%a, %d %b %Y 10:00:00 +0000",
    ]
    moment = dt.datetime.combine(day, dt.time(10))
    raws = [moment.strftime(form) for form in forms]
    df = pl.DataFrame({"raw": raws})
    assert df.select(parsed_date(pl.col("raw"))).to_series().to_list() == [day] * len(forms)
