"""Weekly context of a region: epidemic, vaccination, temperature and holidays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

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


def _case_growth(weekly: pd.DataFrame) -> pd.Series:
    """log((cases this week + 1) / (cases last week + 1)), clipped; NaN without last week."""
    counts = (weekly["new_cases"] * 7).to_numpy()
    previous = weekly.groupby("region")["new_cases"].shift(1) * 7
    consecutive = weekly.groupby("region")["week"].diff() == pd.Timedelta(days=7)
    growth = np.log((counts + 1.0) / (previous + 1.0)).where(consecutive)
    return growth.clip(-CASE_GROWTH_CLIP, CASE_GROWTH_CLIP)


def weekly_cases(frames: Sequence[pd.DataFrame], start: pd.Timestamp) -> pd.DataFrame:
    """Weekly case and death rates and growth; 0 before a region's first reported case."""
    daily = by_preference(frames, "date")
    if daily.empty:
        return pd.DataFrame(columns=["region", "week"])
    columns = ["new_cases", "new_cases_per_100k", "new_deaths_per_100k"]
    first_day = min(start - pd.Timedelta(days=7), daily["date"].min())
    calendar = pd.date_range(first_day, daily["date"].max(), freq="D", name="date")
    wide = {
        column: daily.pivot(index="date", columns="region", values=column).reindex(calendar)
        for column in columns
    }
    leading = wide["new_cases"].ffill().isna()
    filled = {
        column: values.mask(leading & values.notna().any(), 0.0).stack()
        for column, values in wide.items()
    }
    weekly = to_weekly(pd.concat(filled, axis=1).reset_index(), columns=columns)
    weekly["case_growth"] = _case_growth(weekly)
    return weekly.drop(columns="new_cases")


def weekly_vaccinated(frames: Sequence[pd.DataFrame], start: pd.Timestamp) -> pd.DataFrame:
    """Weekly ``vaccinated_pct`` (see the module docstring for the roll-out rule)."""
    daily = by_preference(frames, "date")
    if daily.empty:
        return pd.DataFrame(columns=["region", "week"])
    wide = daily.pivot(index="date", columns="region", values="people_vaccinated_per_hundred")
    first_day = min(start, VACCINE_ROLLOUT - pd.Timedelta(days=1))
    wide = wide.reindex(pd.date_range(first_day, wide.index.max(), freq="D"))
    wide[wide.index < VACCINE_ROLLOUT] = 0.0
    wide = wide.interpolate(limit_area="inside")
    tidy = wide.rename_axis(index="date").stack().rename("vaccinated_pct").reset_index()
    return to_weekly(tidy, columns=["vaccinated_pct"])


def _month_positions() -> np.ndarray:
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return np.cumsum(lengths) - lengths / 2.0


def weekly_temperature(monthly: pd.DataFrame | None, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Interpolate monthly temperatures to each week's Thursday (periodic over a 365-day year)."""
    if monthly is None:
        return pd.DataFrame(columns=["region", "week"])
    table = monthly.pivot(index="region", columns="month", values="temperature_f")
    population = region_table()["population"]
    states = [code for code in table.index if code in population.index and code != NATION]
    weights = population[states].to_numpy(dtype=float)[:, None] * table.loc[states].notna()
    nation = (table.loc[states].fillna(0.0) * weights).sum() / weights.sum()
    table.loc[NATION] = nation
    table = table.apply(lambda month: month.fillna(nation[month.name]))
    thursday = (weeks + pd.Timedelta(days=3)).day_of_year.to_numpy() - 0.5
    positions = _month_positions()
    basis = np.column_stack(
        [np.interp(thursday, positions, np.eye(12)[month], period=365) for month in range(12)]
    )
    values = basis @ table.to_numpy().T
    frame = pd.DataFrame(values, index=weeks, columns=table.index)
    return frame.rename_axis(index="week").stack().rename("temperature_f").reset_index()


def holiday_share(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Share of each week's seven days that are US federal holidays (as observed) or Dec 24-31."""
    days = weeks.to_numpy()[:, None] + np.arange(7) * np.timedelta64(1, "D")
    flat = pd.DatetimeIndex(days.ravel())
    federal = USFederalHolidayCalendar().holidays(flat.min(), flat.max())
    festive = (flat.month == 12) & (flat.day >= 24)
    return (flat.isin(federal) | festive).reshape(days.shape).mean(axis=1)


def weekly_context(
    cases: Sequence[pd.DataFrame],
    vaccinations: Sequence[pd.DataFrame],
    temperatures: pd.DataFrame | None,
    weeks: pd.DatetimeIndex,
    regions: Sequence[str] | None,
    also_found: Sequence[pd.DataFrame] = (),
) -> pd.DataFrame:
    """The context table: one row for every region and week, :data:`CONTEXT_COLUMNS` as columns.

    Args:
        cases: daily case frames (:func:`simulator.sources.epidemic.load_cases`), preferred first.
        vaccinations: daily vaccination frames, preferred first.
        temperatures: monthly temperatures, or None.
        weeks: the Mondays of the table.
        regions: the regions of the table; None: every region found in ``cases``,
            ``vaccinations`` and ``also_found``.
        also_found: other weekly tables whose regions the table covers (policy, mobility).
    """
    start = weeks[0]
    weekly_cases_ = weekly_cases(cases, start)
    vaccinated = weekly_vaccinated(vaccinations, start)
    temperature = weekly_temperature(temperatures, weeks)
    frames = (weekly_cases_, vaccinated, *also_found)
    found = set().union(*(frame["region"] for frame in frames))
    grid_regions = sorted(found) if regions is None else list(regions)
    context = pd.MultiIndex.from_product([grid_regions, weeks], names=["region", "week"]).to_frame(
        index=False
    )
    for part in (weekly_cases_, vaccinated, temperature):
        context = context.merge(part, on=["region", "week"], how="left")
    context["holiday"] = np.tile(holiday_share(weeks), len(grid_regions))
    context = context.reindex(columns=["region", "week", *CONTEXT_COLUMNS])
    context[list(CONTEXT_COLUMNS)] = context[list(CONTEXT_COLUMNS)].astype(float)
    return context
