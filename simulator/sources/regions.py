"""Region registry: the codes, names and populations of the places a twin can model.

Codes follow OxCGRT: a nation is its ISO 3166-1 alpha-3 code (``USA``), a sub-national region
is ``<ISO2>_<abbreviation>`` (``US_CA``). Users may write the common aliases ``US``, ``CA`` or
``California``; :func:`resolve_region` turns them into the canonical code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from simulator.errors import UsageError

NATION = "USA"

_SELECTIONS = ("all", "nation", "states")
_SUBNATIONAL_CODE = re.compile(r"^[A-Z]{2}_[A-Z0-9]{1,4}$")


@dataclass(frozen=True)
class Region:
    """One place a population can be synthesised for.

    Attributes:
        code: canonical OxCGRT-style code (``USA``, ``US_CA``).
        name: human-readable name.
        country: ISO alpha-3 code of the country the region belongs to.
        abbrev: postal abbreviation for states, ISO alpha-2 for nations.
        fips: US state FIPS code (0 for the nation).
        population: resident population (2019 estimate).
    """

    code: str
    name: str
    country: str
    abbrev: str
    fips: int
    population: int

    @property
    def is_nation(self) -> bool:
        """True when the region is a whole country."""
        return self.code == self.country


@lru_cache(maxsize=1)
def region_table() -> pd.DataFrame:
    """The shipped region table (``simulator/sources/data/regions.csv``), indexed by code."""
    path = resources.files("simulator.sources") / "data" / "regions.csv"
    with path.open() as handle:
        return pd.read_csv(handle, dtype={"code": str, "abbrev": str}).set_index("code")


def all_regions() -> list[Region]:
    """Every region in the registry, the nation first."""
    return [get_region(code) for code in region_table().index]


def state_codes() -> list[str]:
    """Codes of the 50 states and DC, in registry order."""
    table = region_table()
    return [code for code in table.index if code != table.loc[code, "country"]]


def resolve_region(value: str) -> str:
    """Turn a code, postal abbreviation or name into a canonical region code.

    Args:
        value: ``USA``, ``US``, ``US_CA``, ``US-CA``, ``CA`` or ``California`` (any case).

    Returns:
        The canonical code, e.g. ``US_CA``.

    Raises:
        KeyError: when nothing in the registry matches; the message lists what is allowed.
    """
    table = region_table()
    key = str(value).strip().upper().replace("-", "_")
    if key in table.index:
        return key
    if key == "US":
        return NATION
    by_abbrev = {abbrev.upper(): code for code, abbrev in table["abbrev"].items()}
    by_name = {name.upper(): code for code, name in table["name"].items()}
    for lookup in (by_abbrev, by_name):
        if key in lookup:
            return lookup[key]
    raise KeyError(
        f"unknown region {value!r}; allowed: USA (or US), a state code such as US_CA, "
        "a postal abbreviation such as CA, or a state name"
    )


def get_region(value: str) -> Region:
    """The :class:`Region` for a code, abbreviation or name."""
    code = resolve_region(value)
    row = region_table().loc[code]
    return Region(
        code=code,
        name=str(row["name"]),
        country=str(row["country"]),
        abbrev=str(row["abbrev"]),
        fips=int(row["fips"]),
        population=int(row["population"]),
    )


@lru_cache(maxsize=1)
def country_codes() -> pd.DataFrame:
    """ISO 3166-1 alpha-2 -> alpha-3 codes (``simulator/sources/data/country_codes.csv``)."""
    path = resources.files("simulator.sources") / "data" / "country_codes.csv"
    with path.open() as handle:
        return pd.read_csv(handle, keep_default_na=False, dtype=str)


def iso3_of(iso2: pd.Series) -> pd.Series:
    """ISO alpha-3 codes of ISO alpha-2 codes (NaN when unknown)."""
    table = country_codes()
    return iso2.str.strip().str.upper().map(dict(zip(table["iso2"], table["iso3"], strict=True)))


def us_region_of(names: pd.Series) -> pd.Series:
    """Map US state names, abbreviations or codes to registry codes (NaN when unknown)."""
    lookup = {}
    for name in names.dropna().unique():
        candidate = str(name).removesuffix(" State")
        try:
            lookup[name] = resolve_region(candidate)
        except KeyError:
            continue
    return names.map(lookup)


def regions_of(selection: str | Iterable[str] | None) -> list[str]:
    """Canonical region codes for a user's selection.

    Args:
        selection: ``"all"`` (or None: the nation and the 50 states and DC), ``"nation"``,
            ``"states"``, or codes, abbreviations or names as a comma-separated string or an
            iterable (``"CA,US_NY,Texas"``). ISO 3166-1 alpha-3 codes (``DEU``) and sub-national
            codes (``UK_ENG``) outside the US registry are accepted for non-US data.

    Returns:
        Canonical codes in the order given, without duplicates.

    Raises:
        UsageError: a token matches no region; the message lists what is allowed.

    """
    if selection is None:
        selection = "all"
    tokens = selection.split(",") if isinstance(selection, str) else list(selection)
    codes: list[str] = []
    for token in (str(token).strip() for token in tokens):
        if token.lower() in _SELECTIONS:
            expanded = {
                "all": [NATION, *state_codes()],
                "nation": [NATION],
                "states": state_codes(),
            }
            codes.extend(expanded[token.lower()])
            continue
        try:
            codes.append(resolve_region(token))
        except KeyError as exc:
            key = token.upper().replace("-", "_")
            if key in set(country_codes()["iso3"]) or _SUBNATIONAL_CODE.match(key):
                codes.append(key)
                continue
            raise UsageError(
                f"unknown region {token!r}; allowed: {', '.join(_SELECTIONS)}, a US state code, "
                "abbreviation or name, or an ISO 3166-1 alpha-3 country code"
            ) from exc
    return list(dict.fromkeys(codes))
