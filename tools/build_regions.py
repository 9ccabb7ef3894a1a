"""Build the region registry shipped in ``simulator/sources/data/regions.csv``.

One row per region: the US nation, the 50 states and DC, and every country or territory with an
ISO 3166-1 code. Each row carries the names and codes the upstream files use for the place
(``aliases``), so that loaders and users can name it in any of them. Sources and licences:
``simulator/sources/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tools.raw_files import (
    BARRO_LEE,
    CRU_NORMALS,
    OWID_METADATA,
    URBAN_SHARE,
    US_STATES,
    WORLD_POLICY,
    WPP_AGES,
    WPP_CODES,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "sources" / "data"
ISO_CODES = Path(__file__).resolve().parent / "iso3166_countries.csv"
"""ISO 3166-1 alpha-2 and alpha-3 codes and names (Debian ``iso-codes`` 4.15), plus Kosovo as
``XK``/``RKS``, the code OxCGRT uses."""

_OTHER_CODES = {"RKS": ("XKX", "OWID_KOS"), "SLB": ("Solomon Isl",), "GBR": ("UK",)}
"""Codes and names other sources use for a place: Kosovo is ``XKX`` for CRU and ``OWID_KOS`` for
OWID; CRU names the Solomon Islands ``Solomon_Isl`` without an ISO code; OxCGRT writes the
United Kingdom's regions ``UK_*``."""
COLUMNS = ("code", "name", "country", "abbrev", "fips", "m49", "continent", "population",
           "aliases")


def us_regions(raw_dir: Path) -> pd.DataFrame:
    """The US nation, the 50 states and DC with their 2019 populations.

    Source: ``population/oi_geoids_state_pop2019.csv`` (Opportunity Insights, Census 2019
    estimates). The nation's population is the sum of the states.
    """
    states = pd.read_csv(raw_dir / US_STATES)
    table = pd.DataFrame(
        {
            "code": "US_" + states["stateabbrev"],
            "name": states["statename"],
            "country": "USA",
            "abbrev": states["stateabbrev"],
            "fips": states["statefips"].astype(int),
            "continent": "North America",
            "population": states["state_pop2019"].astype(int),
            "aliases": states["statename"],
        }
    )
    nation = pd.DataFrame([{"code": "USA", "name": "United States", "country": "USA",
                            "abbrev": "US", "fips": 0, "continent": "North America",
                            "population": int(table["population"].sum()),
                            "aliases": ""}])
    return pd.concat([nation, table], ignore_index=True)


def country_names(raw_dir: Path) -> dict[str, set[str]]:
    """ISO alpha-3 code -> the names the world files give the country."""
    names: dict[str, set[str]] = {}

    def add(codes: pd.Series, labels: pd.Series) -> None:
        for code, label in zip(codes, labels, strict=True):
            if isinstance(code, str) and code and isinstance(label, str) and label.strip():
                names.setdefault(code, set()).add(label.strip())

    policy = pd.read_csv(raw_dir / WORLD_POLICY,
                         usecols=["CountryCode", "CountryName"]).drop_duplicates()
    add(policy["CountryCode"], policy["CountryName"])
    metadata = pd.read_csv(raw_dir / OWID_METADATA, keep_default_na=False)
    add(metadata["iso_code"].replace({"OWID_KOS": "RKS"}), metadata["location"])
    wpp = _wpp_codes(raw_dir)
    add(wpp["iso3"], wpp["name"])
    urban = pd.read_csv(raw_dir / URBAN_SHARE,
                        skiprows=4, usecols=["Country Name", "Country Code"])
    add(urban["Country Code"], urban["Country Name"])
    education = pd.read_csv(raw_dir / BARRO_LEE, usecols=["country", "WBcode"])
    add(education["WBcode"], education["country"])
    climate = pd.read_csv(raw_dir / CRU_NORMALS,
                          keep_default_na=False)
    add(climate["iso3_DERIVED"].replace({"XKX": "RKS"}), climate["country"].str.replace("_", " "))
    return names


def _wpp_codes(raw_dir: Path) -> pd.DataFrame:
    """WPP 2019 locations with their M49 code, name and ISO codes (countries and areas only)."""
    table = pd.read_csv(raw_dir / WPP_CODES, keep_default_na=False)
    return table[table["iso3"] != ""]


def wpp_population_2020(raw_dir: Path) -> pd.Series:
    """Total population in 2020 (UN WPP 2019, medium estimate) by ISO alpha-3 code."""
    total = sum(pd.read_csv(raw_dir / WPP_AGES[sex])
                .groupby("country_code")["2020"].sum() for sex in "MF")
    codes = _wpp_codes(raw_dir).set_index("country_code")["iso3"]
    return (total * 1000).round().rename(index=codes).loc[codes.values]


def countries(raw_dir: Path) -> pd.DataFrame:
    """One row per ISO 3166-1 country or territory (the US comes from :func:`us_regions`).

    Name: Our World in Data's short English name where it has the place, else the ISO name.
    Population: UN WPP 2019 for 2020; for places WPP does not list (Kosovo), Our World in Data's
    figure (UN WPP 2022).
    """
    iso = pd.read_csv(ISO_CODES, keep_default_na=False)
    metadata = pd.read_csv(raw_dir / OWID_METADATA,
                           keep_default_na=False)
    metadata["iso_code"] = metadata["iso_code"].replace({"OWID_KOS": "RKS"})
    metadata = metadata.set_index("iso_code")
    wpp = _wpp_codes(raw_dir).set_index("iso3")
    population = wpp_population_2020(raw_dir)
    names = country_names(raw_dir)
    rows = []
    for code, iso2, iso_name in iso[["iso3", "iso2", "name"]].itertuples(index=False):
        if code == "USA":
            continue
        name = metadata.loc[code, "location"] if code in metadata.index else iso_name
        fallback = pd.to_numeric(metadata.loc[code, "population"]) if code in metadata.index \
            else None
        aliases = {iso2, iso_name, *names.get(code, ()), *_OTHER_CODES.get(code, ())} - {name}
        rows.append({
            "code": code,
            "name": name,
            "country": code,
            "abbrev": iso2,
            "m49": int(wpp.loc[code, "country_code"]) if code in wpp.index else None,
            "continent": metadata.loc[code, "continent"] if code in metadata.index else "",
            "population": population.get(code, fallback),
            "aliases": "|".join(sorted(aliases)),
        })
    return pd.DataFrame(rows)


def build_regions(raw_dir: Path) -> pd.DataFrame:
    """The registry: the US regions first, then the countries in code order."""
    us = us_regions(raw_dir)
    usa_names = country_names(raw_dir).get("USA", set()) - {"United States"}
    us.loc[us["code"] == "USA", "aliases"] = "|".join(sorted(usa_names))
    table = pd.concat([us, countries(raw_dir)], ignore_index=True)
    for column in ("fips", "m49", "population"):
        table[column] = pd.to_numeric(table[column]).round().astype("Int64")
    return table.loc[:, list(COLUMNS)]


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Write ``regions.csv`` built from ``raw_dir`` into ``out_dir``.

    Returns:
        The paths written.
    """
    from simulator.sources.regions import region_table

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "regions.csv"
    build_regions(Path(raw_dir)).to_csv(path, index=False)
    # The observed tables built next in the same process read the registry just written.
    region_table.cache_clear()
    return [path]
