"""Region registry: the codes, names and populations of the places a twin can model.

Codes follow OxCGRT: a nation is its ISO 3166-1 alpha-3 code (``USA``, ``FRA``; Kosovo is
``RKS``), a sub-national region ``<ISO2>_<abbreviation>`` (``US_CA``). Users may write a code, an
ISO alpha-2 code (``FR``), a US postal abbreviation (``TX``) or an English name (``France``,
``Texas``), in any case; :func:`resolve_region` turns them into the canonical code. A name or
two-letter code that fits two places (``CA``: Canada or California; ``Georgia``) is refused with
the codes to write instead. ``socialtwin regions`` lists every region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from simulator.errors import SocialTwinError, UsageError

NATION = "USA"
"""The US nation, whose states are regions too."""

_SELECTIONS = ("all", "nation", "states", "world")
_SUBNATIONAL_CODE = re.compile(r"^[A-Z]{2}_[A-Z0-9]{1,4}$")
LIST_HINT = ("run `socialtwin regions` to list them (a code such as FRA or US_CA, an ISO "
             "alpha-2 code such as FR, a US state abbreviation such as TX, or an English name "
             "such as France or Texas)")


class RegionError(SocialTwinError, KeyError):
    """A region name or code matches no region, or more than one."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Region:
    """One place a population can be synthesised for.

    Attributes:
        code: canonical OxCGRT-style code (``USA``, ``US_CA``, ``FRA``).
        name: English name.
        country: ISO alpha-3 code of the country the region belongs to.
        abbrev: ISO alpha-2 code for a country, postal abbreviation for a US state.
        fips: US state FIPS code (0 for the US nation, None elsewhere).
        m49: UN M49 numeric code (None for US states and places the UN does not list).
        continent: continent (Our World in Data's grouping).
        population: resident population (2019 Census estimate for the US, UN WPP 2019 for 2020
            elsewhere; None where no source has it).
        aliases: other names and codes of the place in the upstream files.
    """

    code: str
    name: str
    country: str
    abbrev: str
    fips: int | None
    m49: int | None
    continent: str
    population: int | None
    aliases: tuple[str, ...] = ()

    @property
    def is_nation(self) -> bool:
        """True when the region is a whole country."""
        return self.code == self.country


@lru_cache(maxsize=1)
def region_table() -> pd.DataFrame:
    """The shipped region table (``simulator/sources/data/regions.csv``), indexed by code."""
    path = resources.files("simulator.sources") / "data" / "regions.csv"
    with path.open() as handle:
        # Namibia's ISO alpha-2 code is the string "NA": only empty cells are missing.
        table = pd.read_csv(handle, keep_default_na=False, na_values=[""],
                            dtype={"code": str, "name": str, "country": str, "abbrev": str,
                                   "continent": str, "aliases": str})
    for column in ("fips", "m49", "population"):
        table[column] = table[column].astype("Int64")
    table[["continent", "aliases"]] = table[["continent", "aliases"]].fillna("")
    return table.set_index("code")


def _normal(text: str) -> str:
    return " ".join(str(text).replace("_", " ").split()).casefold()


@lru_cache(maxsize=1)
def _lookup() -> dict[str, tuple[str, ...]]:
    """Normalised name, abbreviation or alias -> the codes it names (several when ambiguous)."""
    found: dict[str, list[str]] = {}
    for code, row in region_table().iterrows():
        names = {row["name"], row["abbrev"], *filter(None, row["aliases"].split("|"))}
        for name in names:
            codes = found.setdefault(_normal(name), [])
            if code not in codes:
                codes.append(code)
    return {name: tuple(codes) for name, codes in found.items()}


def all_regions() -> list[Region]:
    """Every region in the registry: the US nation and states first, then the countries."""
    return [get_region(code) for code in region_table().index]


def state_codes() -> list[str]:
    """Codes of the 50 US states and DC, in registry order."""
    table = region_table()
    states = (table["country"] == NATION) & (table.index != NATION)
    return list(table.index[states])


def resolve_region(value: str) -> str:
    """Turn a code, ISO alpha-2 code, postal abbreviation or English name into a region code.

    Args:
        value: ``USA``, ``US``, ``US_CA``, ``us-ca``, ``TX``, ``Texas``, ``FRA``, ``FR`` or
            ``France`` (any case; ``_`` and spaces alike).

    Returns:
        The canonical code, e.g. ``US_CA``.

    Raises:
        RegionError: nothing in the registry matches, or several places do; the message says
            how to list the valid ones or which codes to write.
    """
    key = str(value).strip().upper().replace("-", "_")
    if key in region_table().index:
        return key
    codes = _lookup().get(_normal(value), ())
    if len(codes) == 1:
        return codes[0]
    if codes:
        table = region_table()
        choices = " or ".join(f"{code} ({table.loc[code, 'name']})" for code in codes)
        raise RegionError(f"region {value!r} is ambiguous: {choices}; write the code")
    raise RegionError(f"unknown region {value!r}; {LIST_HINT}")


def get_region(value: str) -> Region:
    """The :class:`Region` for a code, abbreviation or name."""
    code = resolve_region(value)
    row = region_table().loc[code]

    def number(column: str) -> int | None:
        return None if pd.isna(row[column]) else int(row[column])

    return Region(
        code=code,
        name=str(row["name"]),
        country=str(row["country"]),
        abbrev=str(row["abbrev"]),
        fips=number("fips"),
        m49=number("m49"),
        continent=str(row["continent"]),
        population=number("population"),
        aliases=tuple(filter(None, row["aliases"].split("|"))),
    )


def is_nation(code: str) -> bool:
    """True when a canonical code is a whole country of the registry."""
    table = region_table()
    return code in table.index and table.loc[code, "country"] == code


def codes_of(labels: pd.Series, country: str | None = None, nations: bool = False
             ) -> pd.Series:
    """Region codes of the codes or names in an upstream column (NaN when unknown or ambiguous).

    Args:
        labels: codes (``FRA``, ``FR``, ``OWID_KOS``) or names (``France``, ``New York State``).
        country: only regions of this country (``USA`` maps ``CA`` and ``Georgia`` to states).
        nations: only whole countries (``CA`` is Canada, ``Georgia`` the country).
    """
    table = region_table()
    lookup = _lookup()
    mapping = {}
    for label in labels.dropna().unique():
        text = str(label).strip()
        key = text.upper().replace("-", "_")
        codes = (key,) if key in table.index else lookup.get(_normal(text), ())
        if not codes:
            codes = lookup.get(_normal(text.removesuffix(" State")), ())
        if country is not None:
            codes = tuple(code for code in codes if table.loc[code, "country"] == country)
        if nations:
            codes = tuple(code for code in codes if table.loc[code, "country"] == code)
        if len(codes) == 1:
            mapping[label] = codes[0]
    return labels.map(mapping)


def selects_world(selection: str | Iterable[str] | None) -> bool:
    """Whether a selection names ``world`` (every country with policy and mobility data)."""
    if selection is None:
        return False
    tokens = selection.split(",") if isinstance(selection, str) else list(selection)
    return any(str(token).strip().lower() == "world" for token in tokens)


def regions_of(selection: str | Iterable[str] | None,
               world: Sequence[str] | None = None) -> list[str]:
    """Canonical region codes for a user's selection.

    Args:
        selection: ``"all"`` (or None: the US nation and the 50 states and DC), ``"nation"``
            (the US nation), ``"states"``, ``"world"`` (the countries in ``world``), or codes,
            abbreviations or names as a comma-separated string or an iterable
            (``"FRA,IND,US_CA,Texas"``). Sub-national codes outside the registry (``UK_ENG``)
            are accepted for observed data that holds them.
        world: the countries ``"world"`` stands for (those with data, see
            :func:`simulator.sources.observed.world_regions`).

    Returns:
        Canonical codes in the order given, without duplicates.

    Raises:
        UsageError: a token matches no region, or several; ``world`` is asked for but not given.

    """
    if selection is None:
        selection = "all"
    tokens = selection.split(",") if isinstance(selection, str) else list(selection)
    codes: list[str] = []
    for token in (str(token).strip() for token in tokens):
        word = token.lower()
        if word == "world" and world is None:
            raise UsageError("'world' stands for the countries with policy and mobility data; "
                             "it is expanded by the evaluation, which loads them")
        if word in _SELECTIONS:
            expanded = {"all": [NATION, *state_codes()], "nation": [NATION],
                        "states": state_codes(), "world": list(world or ())}
            codes.extend(expanded[word])
            continue
        try:
            codes.append(resolve_region(token))
        except RegionError as error:
            key = token.upper().replace("-", "_")
            if _SUBNATIONAL_CODE.match(key) and str(error).startswith("unknown"):
                codes.append(key)
                continue
            allowed = ", ".join(_SELECTIONS)
            raise UsageError(f"{error} (or a selection: {allowed})") from None
    return list(dict.fromkeys(codes))
