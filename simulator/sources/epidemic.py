"""Loaders of epidemic context: cumulative cases and deaths, and vaccinations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.sources.mobility import oi_region
from simulator.sources.reading import (
    check_unique,
    date_columns,
    drop_unmapped,
    finish,
    parse_dates,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
    ymd_dates,
)
from simulator.sources.regions import NATION, region_table, us_region_of


def _daily_wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as a date x region table on a complete daily calendar, gaps filled forward.

    Filling stops at each region's last report, so a series that ends is not extended.
    """
    wide = frame.pivot(index="date", columns="region", values=column).asfreq("D")
    return wide.ffill(limit_area="inside")


def _populations(regions: pd.Series) -> pd.Series:
    return regions.map(region_table()["population"]).astype(float)


def _cases_frame(frame: pd.DataFrame, path: Path, layout: str, **attrs: object) -> pd.DataFrame:
    """Cumulative ``cases``/``deaths`` -> daily increments (clipped at 0) and rates per 100k."""
    cumulative = {name: _daily_wide(frame, name) for name in ("cases", "deaths")}
    daily = {
        f"new_{name}": (wide - wide.shift(1).fillna(0.0)).clip(lower=0.0)
        for name, wide in cumulative.items()
    }
    tidy = pd.concat({name: wide.stack() for name, wide in {**cumulative, **daily}.items()}, axis=1)
    tidy = tidy[tidy[["cases", "deaths"]].notna().any(axis=1)].reset_index()
    population = _populations(tidy["region"])
    tidy["new_cases_per_100k"] = tidy["new_cases"] / population * 1e5
    tidy["new_deaths_per_100k"] = tidy["new_deaths"] / population * 1e5
    columns = [
        "cases",
        "deaths",
        "new_cases",
        "new_deaths",
        "new_cases_per_100k",
        "new_deaths_per_100k",
    ]
    return finish(tidy, path, layout, columns, **attrs)


def load_cases(path: str | Path) -> pd.DataFrame:
    """Load cumulative COVID-19 cases and deaths and derive daily counts and rates.

    Layouts: the New York Times ``us-states.csv`` (``date, state, fips, cases, deaths``), its
    national ``us.csv`` or a national sum of states (``date, cases, deaths``), and the Opportunity
    Insights ``COVID - National - Daily.csv`` / ``COVID - State - Daily.csv`` (``case_count``,
    ``death_count``, published as 7-day moving averages: ``attrs["smoothed"]`` is True). Cumulative
    series are put on a daily calendar (gaps filled forward); daily counts are differences clipped
    at 0, since downward reporting corrections are not new cases.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``cases`` and ``deaths`` (cumulative), ``new_cases``, ``new_deaths``,
        ``new_cases_per_100k``, ``new_deaths_per_100k`` (per 100,000 residents, using the 2019
        populations of :func:`simulator.regions.region_table`; NaN for regions not in it).

    Raises:
        DatasetError: the file is missing, malformed or of no known case layout.

    """
    path = Path(path)
    header = read_header(path)
    names = set(header)
    if {"case_count", "death_count"} <= names:
        dates = date_columns(header)
        require_columns(
            path, header, [*dates, "case_count", "death_count"], "Opportunity Insights COVID"
        )
        ids = [name for name in ("statefips",) if name in names]
        frame = read_columns(path, [*dates, *ids, "case_count", "death_count"], na_values=["."])
        to_numeric(frame, ["case_count", "death_count"], path)
        frame, unmapped = oi_region(frame, header, path)
        frame["date"] = ymd_dates(frame, path)
        frame = frame.rename(columns={"case_count": "cases", "death_count": "deaths"})
        layout = "opportunity_insights_cases"
    elif "state" in names:
        require_columns(path, header, ("date", "state", "cases", "deaths"), "NYT states")
        frame = read_columns(path, ["date", "state", "cases", "deaths"], text=["date", "state"])
        frame["region"] = us_region_of(frame["state"])
        frame, unmapped = drop_unmapped(frame, frame["state"])
        frame["date"] = parse_dates(frame["date"], path, "date")
        layout = "nyt_states"
    else:
        require_columns(path, header, ("date", "cases", "deaths"), "NYT national")
        frame = read_columns(path, ["date", "cases", "deaths"], text=["date"])
        frame["region"] = NATION
        frame["date"] = parse_dates(frame["date"], path, "date")
        unmapped = []
        layout = "nyt_national"
    to_numeric(frame, ["cases", "deaths"], path)
    check_unique(frame, path)
    smoothed = layout == "opportunity_insights_cases"
    return _cases_frame(frame, path, layout, smoothed=smoothed, unmapped=unmapped)


def load_vaccinations(path: str | Path) -> pd.DataFrame:
    """Load Our World in Data vaccinations: ``us_state_vaccinations.csv`` or ``vaccinations.csv``.

    US states are named (``location``) and mapped to registry codes (``New York State`` too);
    entries that are not states (territories, federal agencies) are dropped and listed in
    ``attrs["unmapped"]``. The country file is keyed by ``iso_code``. Values are put on a daily
    calendar and forward-filled between reports.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``people_vaccinated_per_hundred``,
        ``people_fully_vaccinated_per_hundred``.

    Raises:
        DatasetError: the file is missing or malformed.

    """
    path = Path(path)
    header = read_header(path)
    values = ["people_vaccinated_per_hundred", "people_fully_vaccinated_per_hundred"]
    key = "iso_code" if "iso_code" in header else "location"
    require_columns(path, header, ["date", key, *values], "OWID vaccinations")
    frame = read_columns(path, ["date", key, *values], text=["date", key])
    if key == "iso_code":
        code = frame["iso_code"].str.strip()
        frame["region"] = code.where(~code.str.startswith("OWID_"))
    else:
        frame["region"] = us_region_of(frame["location"])
    frame, unmapped = drop_unmapped(frame, frame[key])
    frame["date"] = parse_dates(frame["date"], path, "date")
    to_numeric(frame, values, path)
    check_unique(frame, path)
    tidy = pd.concat({name: _daily_wide(frame, name).stack() for name in values}, axis=1)
    tidy = tidy.dropna(how="all").reset_index()
    return finish(tidy, path, "owid_vaccinations", values, unmapped=unmapped)
