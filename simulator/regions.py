"""Region registry: the codes, names and populations of the places a twin can model.

Codes follow OxCGRT: a nation is its ISO 3166-1 alpha-3 code (``USA``), a sub-national region
is ``<ISO2>_<abbreviation>`` (``US_CA``). Users may write the common aliases ``US``, ``CA`` or
``California``; :func:`resolve_region` turns them into the canonical code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

NATION = "USA"


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
    """The shipped region table (``simulator/data/regions.csv``), indexed by code."""
    path = resources.files("simulator") / "data" / "regions.csv"
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
