"""Weekly context of a region: epidemic, vaccination, temperature and holidays.

- ``new_cases_per_100k`` and ``new_deaths_per_100k``: weekly mean of the daily rates, 0 before a
  region's first reported case; ``case_growth``: log ratio of this week's to last week's new
  cases, +1 smoothed, clipped to +-:data:`CASE_GROWTH_CLIP`. Cases and deaths each come from the
  best source of the region (see :func:`simulator.sources.weekly.by_preference`).
- ``vaccinated_pct``: people with at least one dose per hundred, forward-filled between reports
  and 0 before the first. US regions ramp linearly from the US roll-out on
  :data:`VACCINE_ROLLOUT` to their first report (the states report from 2021-01-12 only).
- ``temperature_f``: monthly normals interpolated to the week's Thursday; the southern
  hemisphere's seasons come with its own normals. For the NOAA US file the nation is the
  population-weighted mean of its states, and states without values take the nation's.
- ``holiday``: share of the week's seven days that are public holidays of the region's country
  on a weekday (a holiday that falls on a weekend counts on the weekday it is observed), from the
  ``holidays`` package, plus Dec 24-31 where Christmas Day is a public holiday. US states take the
  federal holidays. NaN for a country the package does not cover.

A region without data for an input has NaN in its columns; nothing is filled from elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, reduce

import holidays
import numpy as np
import pandas as pd

from simulator.sources.regions import NATION, region_table
from simulator.sources.weekly import by_preference, to_weekly

VACCINE_ROLLOUT = pd.Timestamp("2020-12-14")
"""First day of COVID-19 vaccinations in the US."""
CASE_GROWTH_CLIP = 2.0
"""Bound on |case_growth|: a factor of e^2 (about 7.4) per week."""
CONTEXT_COLUMNS: tuple[str, ...] = (
    "new_cases_per_100k",
    "case_growth",
    "new_deaths_per_100k",
    "vaccinated_pct",
    "temperature_f",
    "holiday",
)
CONTEXT_INPUTS: dict[str, str] = {
    "new_cases_per_100k": "case counts",
    "case_growth": "case counts",
    "new_deaths_per_100k": "death counts",
    "vaccinated_pct": "vaccination reports",
    "temperature_f": "temperature normals",
    "holiday": "public holidays",
}
"""The input each context column comes from, for messages about missing data."""
CONTEXT_BOUNDS: dict[str, tuple[float, float]] = {
    "new_cases_per_100k": (0.0, 100_000.0),
    "case_growth": (-CASE_GROWTH_CLIP, CASE_GROWTH_CLIP),
    "new_deaths_per_100k": (0.0, 100_000.0),
    "vaccinated_pct": (0.0, 100.0),
    "temperature_f": (-100.0, 150.0),
    "holiday": (0.0, 1.0),
}
"""The values each context column can take, for values a scenario gives: a daily rate per
100,000 residents cannot exceed 100,000; growth is clipped; a percentage and a share of days are
bounded by definition; monthly mean temperatures on Earth lie between about -80 and 105 F."""


def _case_growth(weekly: pd.DataFrame) -> pd.Series:
    """log((cases this week + 1) / (cases last week + 1)), clipped; NaN without last week."""
    counts = (weekly["new_cases"] * 7).to_numpy()
    previous = weekly.groupby("region")["new_cases"].shift(1) * 7
    consecutive = weekly.groupby("region")["week"].diff() == pd.Timedelta(days=7)
    growth = np.log((counts + 1.0) / (previous + 1.0)).where(consecutive)
    return growth.clip(-CASE_GROWTH_CLIP, CASE_GROWTH_CLIP)


def weekly_cases(frames: Sequence[pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp
                 ) -> pd.DataFrame:
    """Weekly case and death rates and growth; 0 before a region's first reported case.

    Args:
        frames: daily frames of :func:`simulator.sources.epidemic.load_cases`, preferred first.
        start: Monday of the first week of the table.
        end: Monday of the last week of the table.
    """
    until = end + pd.Timedelta(days=6)
    chosen = []
    for measure, wanted in (("cases", ["new_cases", "new_cases_per_100k"]),
                            ("deaths", ["new_deaths_per_100k"])):
        having = [frame for frame in frames if measure in frame]
        if having:
            chosen.append(by_preference(having, "date", until).loc[:, ["region", "date", *wanted]])
    if not chosen:
        return pd.DataFrame(columns=["region", "week"])
    daily = reduce(lambda left, right: left.merge(right, on=["region", "date"], how="outer"),
                   chosen)
    columns = list(daily.columns.drop(["region", "date"]))
    first_day = min(start - pd.Timedelta(days=7), daily["date"].min())
    calendar = pd.date_range(first_day, daily["date"].max(), freq="D", name="date")
    wide = {
        column: daily.pivot(index="date", columns="region", values=column).reindex(calendar)
        for column in columns
    }
    reported = wide["new_cases"] if "new_cases" in wide else wide["new_deaths_per_100k"]
    leading = reported.ffill().isna()
    filled = {
        column: values.mask(leading & values.notna().any(), 0.0).stack()
        for column, values in wide.items()
    }
    weekly = to_weekly(pd.concat(filled, axis=1).reset_index(), columns=columns)
    if "new_cases" in weekly:
        weekly["case_growth"] = _case_growth(weekly)
        weekly = weekly.drop(columns="new_cases")
    return weekly


def weekly_vaccinated(frames: Sequence[pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp
                      ) -> pd.DataFrame:
    """Weekly ``vaccinated_pct`` (see the module docstring for the roll-out rule)."""
    daily = by_preference(frames, "date", end + pd.Timedelta(days=6))
    if daily.empty:
        return pd.DataFrame(columns=["region", "week"])
    wide = daily.pivot(index="date", columns="region", values="people_vaccinated_per_hundred")
    first_day = min(start, VACCINE_ROLLOUT - pd.Timedelta(days=1))
    wide = wide.reindex(pd.date_range(first_day, wide.index.max(), freq="D"))
    countries = region_table()["country"].reindex(wide.columns)
    rollout = wide.notna().idxmax().where(countries != NATION, VACCINE_ROLLOUT)
    wide = wide.mask(wide.index.to_numpy()[:, None] < rollout.to_numpy()[None, :], 0.0)
    wide = wide.interpolate(limit_area="inside")
    tidy = wide.rename_axis(index="date").stack().rename("vaccinated_pct").reset_index()
    return to_weekly(tidy, columns=["vaccinated_pct"])


def _month_positions() -> np.ndarray:
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return np.cumsum(lengths) - lengths / 2.0


def _with_us_nation(table: pd.DataFrame) -> pd.DataFrame:
    """A NOAA state table with the US nation (population-weighted) and its gaps filled."""
    population = region_table()["population"]
    states = [code for code in table.index if code in population.index and code != NATION]
    weights = population[states].to_numpy(dtype=float)[:, None] * table.loc[states].notna()
    nation = (table.loc[states].fillna(0.0) * weights).sum() / weights.sum()
    table.loc[NATION] = nation
    return table.apply(lambda month: month.fillna(nation[month.name]))


def weekly_temperature(frames: Sequence[pd.DataFrame], weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Interpolate monthly normals to each week's Thursday (periodic over a 365-day year).

    Args:
        frames: monthly frames of :func:`simulator.sources.climate.load_monthly_temperatures`,
            preferred first; a region takes the first frame that has it.
        weeks: the Mondays of the table.
    """
    tables = []
    for monthly in frames:
        table = monthly.pivot(index="region", columns="month", values="temperature_f")
        if monthly.attrs.get("layout") == "jieyingwu_climate":
            table = _with_us_nation(table)
        tables.append(table)
    if not tables:
        return pd.DataFrame(columns=["region", "week"])
    table = pd.concat(tables)
    table = table[~table.index.duplicated(keep="first")]
    thursday = (weeks + pd.Timedelta(days=3)).day_of_year.to_numpy() - 0.5
    positions = _month_positions()
    basis = np.column_stack(
        [np.interp(thursday, positions, np.eye(12)[month], period=365) for month in range(12)]
    )
    values = basis @ table.to_numpy().T
    frame = pd.DataFrame(values, index=weeks, columns=table.index)
    return frame.rename_axis(index="week").stack().rename("temperature_f").reset_index()


@lru_cache(maxsize=512)
def _holidays(iso2: str, years: tuple[int, ...]) -> frozenset | None:
    """Dates off work for the public holidays of a country (None if ``holidays`` lacks it)."""
    try:
        calendar = holidays.country_holidays(iso2, years=years)
    except NotImplementedError:
        return None
    days = {pd.Timestamp(day) for day in calendar if day.weekday() < 5}
    for year in years:
        if pd.Timestamp(year, 12, 25).date() in calendar:
            days.update(pd.date_range(f"{year}-12-24", f"{year}-12-31"))
    return frozenset(days)


def holiday_share(weeks: pd.DatetimeIndex, country: str) -> np.ndarray:
    """Share of each week's days that are holidays in a country (see the module docstring).

    Args:
        weeks: Mondays.
        country: ISO alpha-2 code of the country.

    Returns:
        Shares of shape (len(weeks),); NaN when the ``holidays`` package does not cover it.
    """
    days = weeks.to_numpy()[:, None] + np.arange(7) * np.timedelta64(1, "D")
    flat = pd.DatetimeIndex(days.ravel())
    off = _holidays(country, tuple(range(flat.min().year, flat.max().year + 1)))
    if off is None:
        return np.full(len(weeks), np.nan)
    return flat.isin(list(off)).reshape(days.shape).mean(axis=1)


def weekly_context(
    cases: Sequence[pd.DataFrame],
    vaccinations: Sequence[pd.DataFrame],
    temperatures: Sequence[pd.DataFrame],
    weeks: pd.DatetimeIndex,
    regions: Sequence[str] | None,
    signals: Sequence[pd.DataFrame] = (),
) -> pd.DataFrame:
    """The context table: one row for every region and week, :data:`CONTEXT_COLUMNS` as columns.

    Args:
        cases: daily case frames (:func:`simulator.sources.epidemic.load_cases`), preferred first.
        vaccinations: daily vaccination frames, preferred first.
        temperatures: monthly temperature frames, preferred first.
        weeks: the Mondays of the table.
        regions: the regions of the table; None: every region of the ``signals`` tables.
        signals: the tables whose regions a twin can model (policy, mobility).
    """
    start, end = weeks[0], weeks[-1]
    weekly_cases_ = weekly_cases(cases, start, end)
    vaccinated = weekly_vaccinated(vaccinations, start, end)
    temperature = weekly_temperature(temperatures, weeks)
    found = set().union(*(frame["region"] for frame in signals))
    grid_regions = sorted(found) if regions is None else list(regions)
    context = pd.MultiIndex.from_product([grid_regions, weeks], names=["region", "week"]).to_frame(
        index=False
    )
    for part in (weekly_cases_, vaccinated, temperature):
        context = context.merge(part, on=["region", "week"], how="left")
    context["holiday"] = np.concatenate(
        [holiday_share(weeks, _country_iso2(region)) for region in grid_regions] or [[]]
    )
    context = context.reindex(columns=["region", "week", *CONTEXT_COLUMNS])
    context[list(CONTEXT_COLUMNS)] = context[list(CONTEXT_COLUMNS)].astype(float)
    return context


def _country_iso2(region: str) -> str:
    """ISO alpha-2 code of a region's country (the prefix of an unregistered ``UK_ENG``)."""
    table = region_table()
    if region in table.index:
        return str(table.loc[table.loc[region, "country"], "abbrev"])
    return region.split("_")[0]
