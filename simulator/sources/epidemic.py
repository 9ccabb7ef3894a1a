"""Loaders of epidemic context: cumulative cases and deaths, and vaccinations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.sources.mobility import oi_region
from simulator.sources.reading import (
    DatasetError,
    Domain,
    check_unique,
    date_columns,
    drop_unmapped,
    finish,
    melt_wide,
    parse_dates,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
    wide_date_columns,
    ymd_dates,
)
from simulator.sources.regions import NATION, codes_of, region_table

MEASURES = ("cases", "deaths")
"""Cumulative counts a case file may hold."""
VACCINATION_VALUES = ("people_vaccinated_per_hundred", "people_fully_vaccinated_per_hundred")
PER_HUNDRED: Domain = (0.0, 200.0)
"""People vaccinated per hundred residents. Not capped at 100: Our World in Data divides by the
resident population, so places where many non-residents are vaccinated exceed it (Gibraltar
reports 129); twice the population is beyond any real place."""
_DOMAINS: dict[str, Domain] = {**dict.fromkeys(MEASURES, (0.0, None)),
                               **dict.fromkeys(VACCINATION_VALUES, PER_HUNDRED)}
"""Cumulative counts are never negative."""


def _daily_wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as a date x region table on a complete daily calendar, gaps filled forward.

    Filling stops at each region's last report, so a series that ends is not extended.
    """
    wide = frame.pivot(index="date", columns="region", values=column).asfreq("D")
    return wide.ffill(limit_area="inside")


def _populations(regions: pd.Series) -> pd.Series:
    return regions.map(region_table()["population"]).astype(float)


def _cases_frame(frame: pd.DataFrame, path: Path, layout: str, **attrs: object) -> pd.DataFrame:
    """Cumulative ``cases``/``deaths`` -> daily increments (clipped at 0) and rates per 100k.

    A file may hold one measure or both; the columns of a measure it lacks are left out.
    """
    measures = [name for name in MEASURES if name in frame]
    cumulative = {name: _daily_wide(frame, name) for name in measures}
    daily = {
        f"new_{name}": (wide - wide.shift(1).fillna(0.0)).clip(lower=0.0)
        for name, wide in cumulative.items()
    }
    tidy = pd.concat({name: wide.stack() for name, wide in {**cumulative, **daily}.items()}, axis=1)
    tidy = tidy[tidy[measures].notna().any(axis=1)].reset_index()
    population = _populations(tidy["region"])
    for name in measures:
        tidy[f"new_{name}_per_100k"] = tidy[f"new_{name}"] / population * 1e5
    columns = [*measures, *(f"new_{name}" for name in measures),
               *(f"new_{name}_per_100k" for name in measures)]
    return finish(tidy, path, layout, columns, domains=_DOMAINS, **attrs)


def _timeseries_measure(path: Path) -> str:
    """The measure of an OxCGRT legacy time-series file, from its official name."""
    for measure in MEASURES:
        if f"confirmed_{measure}" in path.name.lower():
            return measure
    raise DatasetError(f"{path}: a wide OxCGRT time series of neither cases nor deaths; keep the "
                       "official name (confirmed_cases.csv or confirmed_deaths.csv)")


def _oxcgrt_timeseries_cases(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """An OxCGRT legacy time series (one measure, a column per day) and its unmapped places."""
    measure = _timeseries_measure(path)
    days = wide_date_columns(header)
    frame = read_columns(path, ["country_code", *days], text=["country_code"])
    to_numeric(frame, days, path)
    frame = melt_wide(frame, ["country_code"], days, measure)
    frame["region"] = codes_of(frame["country_code"], nations=True)
    return drop_unmapped(frame, frame["country_code"])


def _oi_cases(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """An Opportunity Insights COVID file, its counts renamed, and its unmapped places."""
    dates = date_columns(header)
    require_columns(
        path, header, [*dates, "case_count", "death_count"], "Opportunity Insights COVID"
    )
    ids = [name for name in ("statefips",) if name in header]
    frame = read_columns(path, [*dates, *ids, "case_count", "death_count"], na_values=["."])
    to_numeric(frame, ["case_count", "death_count"], path)
    frame, unmapped = oi_region(frame, header, path)
    frame["date"] = ymd_dates(frame, path)
    frame = frame.rename(columns={"case_count": "cases", "death_count": "deaths"})
    return frame, unmapped


def _nyt_states_cases(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The New York Times ``us-states.csv`` and its unmapped places."""
    require_columns(path, header, ("date", "state", "cases", "deaths"), "NYT states")
    frame = read_columns(path, ["date", "state", "cases", "deaths"], text=["date", "state"])
    frame["region"] = codes_of(frame["state"], country=NATION)
    frame, unmapped = drop_unmapped(frame, frame["state"])
    frame["date"] = parse_dates(frame["date"], path, "date")
    return frame, unmapped


def _nyt_national_cases(path: Path, header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The New York Times ``us.csv`` (or a national sum of states); every row is the nation."""
    require_columns(path, header, ("date", "cases", "deaths"), "NYT national")
    frame = read_columns(path, ["date", "cases", "deaths"], text=["date"])
    frame["region"] = NATION
    frame["date"] = parse_dates(frame["date"], path, "date")
    return frame, []


def load_cases(path: str | Path) -> pd.DataFrame:
    """Load cumulative COVID-19 cases and deaths and derive daily counts and rates.

    Layouts: the New York Times ``us-states.csv`` (``date, state, fips, cases, deaths``), its
    national ``us.csv`` or a national sum of states (``date, cases, deaths``), the Opportunity
    Insights ``COVID - National - Daily.csv`` / ``COVID - State - Daily.csv`` (``case_count``,
    ``death_count``, published as 7-day moving averages: ``attrs["smoothed"]`` is True), and the
    JHU CSSE counts of every country as OxCGRT carries them (``confirmed_cases.csv`` and
    ``confirmed_deaths.csv`` of OxCGRT/covid-policy-tracker-legacy: ``country_code``,
    ``country_name``, one column per day such as ``01Jan2020``; one measure per file).
    Cumulative series are put on a daily calendar (gaps filled forward); daily counts are
    differences clipped at 0, since downward reporting corrections are not new cases.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``cases`` and ``deaths`` (cumulative), ``new_cases``, ``new_deaths``,
        ``new_cases_per_100k``, ``new_deaths_per_100k`` (per 100,000 residents, using the
        populations of :func:`simulator.sources.regions.region_table`; NaN for regions not in
        it); a time-series file has the columns of its one measure.

    Raises:
        DatasetError: the file is missing, malformed or of no known case layout.

    """
    path = Path(path)
    header = read_header(path)
    names = set(header)
    if wide_date_columns(header) and "country_code" in names:
        layout, read = "oxcgrt_timeseries_cases", _oxcgrt_timeseries_cases
    elif {"case_count", "death_count"} <= names:
        layout, read = "opportunity_insights_cases", _oi_cases
    elif "state" in names:
        layout, read = "nyt_states", _nyt_states_cases
    else:
        layout, read = "nyt_national", _nyt_national_cases
    frame, unmapped = read(path, header)
    to_numeric(frame, [name for name in MEASURES if name in frame], path)
    check_unique(frame, path)
    smoothed = layout == "opportunity_insights_cases"
    return _cases_frame(frame, path, layout, smoothed=smoothed, unmapped=unmapped)


def load_vaccinations(path: str | Path) -> pd.DataFrame:
    """Load Our World in Data vaccinations.

    Layouts: ``us_state_vaccinations.csv`` (US states named in ``location``, ``New York State``
    too; entries that are not states, such as territories and federal agencies, are dropped and
    listed in ``attrs["unmapped"]``), ``vaccinations.csv`` (countries keyed by ``iso_code``) and
    the grapher export ``share-people-vaccinated-covid.csv`` (``Entity``, ``Code``, ``Day``,
    ``people_vaccinated_per_hundred``). OWID's aggregates (``OWID_*`` codes other than Kosovo's)
    are dropped. Values are put on a daily calendar and forward-filled between reports.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``date``, ``people_vaccinated_per_hundred`` and, where the file has it,
        ``people_fully_vaccinated_per_hundred``.

    Raises:
        DatasetError: the file is missing or malformed.

    """
    path = Path(path)
    header = read_header(path)
    key = next((name for name in ("iso_code", "Code") if name in header), "location")
    day = "Day" if "Day" in header and "date" not in header else "date"
    values = [name for name in VACCINATION_VALUES if name in header] or [VACCINATION_VALUES[0]]
    require_columns(path, header, [day, key, *values], "OWID vaccinations")
    frame = read_columns(path, [day, key, *values], text=[day, key])
    if key == "location":
        frame["region"] = codes_of(frame["location"], country=NATION)
    else:
        frame["region"] = codes_of(frame[key], nations=True)
    frame, unmapped = drop_unmapped(frame, frame[key])
    frame["date"] = parse_dates(frame[day], path, day)
    to_numeric(frame, values, path)
    check_unique(frame, path)
    tidy = pd.concat({name: _daily_wide(frame, name).stack() for name in values}, axis=1)
    tidy = tidy.dropna(how="all").reset_index()
    return finish(tidy, path, "owid_vaccinations", values, domains=_DOMAINS, unmapped=unmapped)
