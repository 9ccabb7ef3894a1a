"""Loaders of Google's COVID-19 Community Mobility Reports in their three common layouts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from simulator.sources.reading import (
    DatasetError,
    Domain,
    date_columns,
    drop_unmapped,
    finish,
    is_blank,
    parse_dates,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
    ymd_dates,
)
from simulator.sources.regions import NATION, codes_of, region_table, state_codes

MOBILITY_CATEGORIES: tuple[str, ...] = (
    "retail_and_recreation",
    "grocery_and_pharmacy",
    "parks",
    "transit_stations",
    "workplaces",
    "residential",
)

PERCENT_CHANGE: Domain = (-100.0, 1000.0)
"""Percent change of visits from the baseline: no fewer than none (-100), and at most +1000.
The largest in Google's reports is +636 (parks in a US state in summer 2020), so the bound
leaves room for any real place yet catches a value scaled wrongly (a fraction read as percent
times 100, a typo such as 1e9) that would drown every error measured against it."""
_DOMAINS = dict.fromkeys(MOBILITY_CATEGORIES, PERCENT_CHANGE)

_OWID_MOBILITY_KEYWORDS = {
    "retail": "retail_and_recreation",
    "grocery": "grocery_and_pharmacy",
    "park": "parks",
    "transit": "transit_stations",
    "workplace": "workplaces",
    "residential": "residential",
}



def _google_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    values = [f"{category}_percent_change_from_baseline" for category in MOBILITY_CATEGORIES]
    require_columns(
        path, header, ["country_region_code", "sub_region_1", "date", *values], "Google mobility"
    )
    lower = [name for name in ("sub_region_2", "metro_area") if name in header]
    ids = ["country_region_code", "sub_region_1", *lower]
    if "iso_3166_2_code" in header:
        ids.append("iso_3166_2_code")

    def regional(chunk: pd.DataFrame) -> pd.Series:
        keep = pd.Series(True, index=chunk.index)
        for column in lower:
            keep &= is_blank(chunk[column])
        return keep

    # keep_default_na=False: Namibia's ISO code "NA" must not become missing.
    frame = read_columns(
        path,
        [*ids, "date", *values],
        text=[*ids, "date"],
        keep_default_na=False,
        na_values=[""],
        row_filter=regional,
    )
    national = is_blank(frame["sub_region_1"])
    iso_sub = (
        frame["iso_3166_2_code"] if "iso_3166_2_code" in frame else pd.Series(pd.NA, frame.index)
    )
    sub_code = iso_sub.where(~is_blank(iso_sub)).str.strip().str.replace("-", "_", regex=False)
    frame["region"] = codes_of(frame["country_region_code"], nations=True).where(national, sub_code)
    labels = frame["country_region_code"].where(national, frame["sub_region_1"])
    frame, unmapped = drop_unmapped(frame, labels)
    frame["date"] = parse_dates(frame["date"], path, "date")
    to_numeric(frame, values, path)
    frame = frame.rename(columns=dict(zip(values, MOBILITY_CATEGORIES, strict=True)))
    return finish(frame, path, "google", MOBILITY_CATEGORIES, domains=_DOMAINS,
                  named=dict(zip(MOBILITY_CATEGORIES, values, strict=True)), smoothed=False,
                  unmapped=unmapped)


def oi_region(
    frame: pd.DataFrame, header: Sequence[str], path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Region of an Opportunity Insights row: state abbreviation or FIPS, else the US nation."""
    if "stateabbrev" in header:
        frame["region"] = codes_of(frame["stateabbrev"], country=NATION)
        return drop_unmapped(frame, frame["stateabbrev"])
    if "statefips" in header:
        to_numeric(frame, ["statefips"], path)
        states = region_table().loc[state_codes(), "fips"]
        by_fips = dict(zip(states.astype(float), states.index, strict=True))
        frame["region"] = frame["statefips"].where(frame["statefips"] > 0).map(by_fips)
        return drop_unmapped(frame, frame["statefips"])
    frame["region"] = NATION
    return frame, []


def _oi_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    values = [f"gps_{category}" for category in MOBILITY_CATEGORIES]
    if {"cityid", "countyfips"} & set(header):
        raise DatasetError(f"{path}: Opportunity Insights city or county files are not supported")
    dates = date_columns(header)
    require_columns(path, header, [*dates, *values], "Opportunity Insights mobility")
    ids = [name for name in ("statefips", "stateabbrev") if name in header]
    frame = read_columns(
        path,
        [*dates, *ids, *values],
        text=["stateabbrev"] if "stateabbrev" in ids else (),
        na_values=["."],
    )
    frame, unmapped = oi_region(frame, header, path)
    frame["date"] = ymd_dates(frame, path)
    to_numeric(frame, values, path)
    frame = frame.rename(columns=dict(zip(values, MOBILITY_CATEGORIES, strict=True)))
    # Opportunity Insights publishes fractions (0.1 = +10%), checked as such; the project works
    # in percent points.
    low, high = PERCENT_CHANGE
    frame = finish(frame, path, "opportunity_insights", MOBILITY_CATEGORIES,
                   domains=dict.fromkeys(MOBILITY_CATEGORIES, (low / 100.0, high / 100.0)),
                   named=dict(zip(MOBILITY_CATEGORIES, values, strict=True)), smoothed=True,
                   unmapped=unmapped)
    frame[list(MOBILITY_CATEGORIES)] *= 100.0
    return frame


def _owid_mobility(path: Path, header: list[str]) -> pd.DataFrame:
    date_column = "date" if "date" in header else "Day"
    found: dict[str, str] = {}
    for column in header:
        key = re.sub(r"[^a-z]+", "_", column.lower())
        for keyword, category in _OWID_MOBILITY_KEYWORDS.items():
            if keyword in key and category not in found:
                found[category] = column
    missing = [category for category in MOBILITY_CATEGORIES if category not in found]
    require_columns(path, header, ["Entity", "Code", date_column], "OWID mobility")
    if missing:
        raise DatasetError(
            f"{path}: missing mobility column(s) for {', '.join(missing)} in the OWID layout; "
            f"expected Entity, Code, date and the six categories {', '.join(MOBILITY_CATEGORIES)}"
        )
    frame = read_columns(
        path,
        ["Entity", "Code", date_column, *found.values()],
        text=["Entity", "Code", date_column],
        keep_default_na=False,
        na_values=[""],
    )
    code = frame["Code"].astype("string").str.strip()
    # OWID_* codes are OWID's own aggregates (World, continents), except OWID_KOS (Kosovo).
    frame["region"] = codes_of(code.where(~is_blank(code)), nations=True)
    frame, unmapped = drop_unmapped(frame, frame["Entity"])
    frame["date"] = parse_dates(frame[date_column], path, date_column)
    to_numeric(frame, found.values(), path)
    frame = frame.rename(columns={column: category for category, column in found.items()})
    return finish(frame, path, "owid", MOBILITY_CATEGORIES, domains=_DOMAINS, named=found,
                  smoothed=True, unmapped=unmapped)


_MOBILITY_READERS: dict[str, Callable[[Path, list[str]], pd.DataFrame]] = {
    "google": _google_mobility,
    "opportunity_insights": _oi_mobility,
    "owid": _owid_mobility,
}


def mobility_layout(header: Iterable[str]) -> str | None:
    """The mobility layout a header belongs to: ``google``, ``opportunity_insights``, ``owid``."""
    names = set(header)
    if {"country_region_code", "sub_region_1"} <= names:
        return "google"
    if any(name.startswith("gps_") for name in names):
        return "opportunity_insights"
    if {"Entity", "Code"} <= names and any("retail" in name.lower() for name in names):
        return "owid"
    return None


def load_mobility(path: str | Path) -> pd.DataFrame:
    """Load Google COVID-19 Community Mobility data from any of its three common layouts.

    - ``google``: Google's ``Global_Mobility_Report.csv`` (or a per-country report): raw daily
      integer percent change from baseline; national rows have an empty ``sub_region_1``, regional
      rows an ISO 3166-2 code (``US-CA`` becomes ``US_CA``); county and metro rows are ignored.
    - ``opportunity_insights``: the Opportunity Insights Economic Tracker files (``gps_*`` columns
      as 7-day moving-average fractions, multiplied by 100 here); a national file, or a state file
      with ``stateabbrev`` or ``statefips``; ``date`` or ``year``/``month``/``day`` columns.
    - ``owid``: Our World in Data's ``changes-visitors-covid`` (``Entity``, ``Code``, 7-day smoothed
      percent).

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date`` and :data:`MOBILITY_CATEGORIES` in percent points.
        ``attrs["layout"]`` names the layout, ``attrs["smoothed"]`` is True for the 7-day trailing
        averages (Opportunity Insights, OWID), ``attrs["unmapped"]`` lists places without a code.

    Raises:
        DatasetError: the file is missing, malformed or of no known mobility layout.

    """
    path = Path(path)
    header = read_header(path)
    layout = mobility_layout(header)
    if layout is None:
        raise DatasetError(
            f"{path}: not a known mobility layout; expected Google's (country_region_code, "
            "sub_region_1, date, <category>_percent_change_from_baseline), Opportunity Insights' "
            "(date or year/month/day, optional statefips/stateabbrev, gps_<category>) or OWID's "
            "(Entity, Code, date, the six categories)"
        )
    return _MOBILITY_READERS[layout](path, header)
