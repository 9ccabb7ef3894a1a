"""Weekly observed data for calibration: policy signals, mobility and context, by region and week.

:func:`weekly_observed` is the one place where raw upstream files become the weekly tables; the
shipped tables (``calibration/data/weekly_*.csv``, written by :mod:`calibration.build_tables`) and
:func:`load_observed` on a directory of raw files both go through it.

Weeks start on Monday and are labelled by that Monday (``week``). Conventions:

- policy: the weekly mean of the daily OxCGRT indicators and indices (gaps forward-filled by the
  loader). A week with fewer than seven coded days is the mean of the days coded, since a policy
  stays in force until recorded as changed (US states are coded up to 2021-04-28).
- mobility: percent change from baseline. Raw daily data (Google's file) is averaged over complete
  weeks; a 7-day trailing average (Opportunity Insights, OWID) is read on the week's Sunday, which
  is exactly the mean of that Monday-Sunday week.
- one source per region: when several files hold the same region, the preferred layout wins for
  the whole period (Opportunity Insights before Google before OWID for mobility; NYT before
  Opportunity Insights for cases; classic OxCGRT before v1, and files of ``*_TOTAL``
  jurisdictions before state- or federal-only ones), so that train and test weeks come from one
  consistent source.
- context: ``new_cases_per_100k`` and ``new_deaths_per_100k`` (weekly mean of daily rates, 0
  before a region's first reported case), ``case_growth`` (log ratio of this week's to last
  week's new cases, +1 smoothed, clipped to +-:data:`CASE_GROWTH_CLIP`), ``vaccinated_pct``
  (people with at least one dose per hundred; 0
  before the US roll-out on :data:`VACCINE_ROLLOUT`, linear from there to the first report),
  ``temperature_f`` (monthly average temperatures interpolated to the week's Thursday; the nation
  is the population-weighted mean of its states; states without values take the nation's) and
  ``holiday`` (share of the week's days that are US federal holidays or Dec 24-31).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from calibration.datasets import (
    LAYOUTS,
    MOBILITY_CATEGORIES,
    POLICY_INDICATORS,
    POLICY_INDICES,
    DatasetError,
    country_codes,
    detect_layout,
    load_cases,
    load_mobility,
    load_monthly_temperatures,
    load_oxcgrt,
    load_vaccinations,
    to_weekly,
)
from simulator.errors import UsageError
from simulator.regions import NATION, region_table, resolve_region, state_codes

FIRST_WEEK = pd.Timestamp("2020-02-17")
"""Monday of the first week of the shipped tables."""
LAST_WEEK = pd.Timestamp("2021-04-26")
"""Monday of the last week of the shipped tables."""
VACCINE_ROLLOUT = pd.Timestamp("2020-12-14")
"""First day of COVID-19 vaccinations in the US."""
CASE_GROWTH_CLIP = 2.0
"""Bound on |case_growth|: a factor of e^2 (about 7.4) per week."""

POLICY_COLUMNS: tuple[str, ...] = (*POLICY_INDICATORS.values(), *POLICY_INDICES)
CONTEXT_COLUMNS: tuple[str, ...] = (
    "new_cases_per_100k",
    "case_growth",
    "new_deaths_per_100k",
    "vaccinated_pct",
    "temperature_f",
    "holiday",
)
TABLE_FILES: dict[str, str] = {
    "policy": "weekly_policy.csv",
    "mobility": "weekly_mobility.csv",
    "context": "weekly_context.csv",
}
"""Shipped table per :class:`ObservedData` field, in ``calibration/data``."""

_SELECTIONS = ("all", "nation", "states")
_SUBNATIONAL_CODE = re.compile(r"^[A-Z]{2}_[A-Z0-9]{1,4}$")


@dataclass(frozen=True, eq=False)
class ObservedData:
    """The weekly observed tables, each keyed by ``region`` and ``week`` (a Monday).

    Attributes:
        policy: OxCGRT indicators and indices (:data:`POLICY_COLUMNS`), weekly means.
        mobility: the six mobility categories, percent change from baseline.
        context: :data:`CONTEXT_COLUMNS`.

    """

    policy: pd.DataFrame
    mobility: pd.DataFrame
    context: pd.DataFrame

    @property
    def regions(self) -> list[str]:
        """Regions present in any of the tables, sorted."""
        frames = (self.policy, self.mobility, self.context)
        return sorted(set().union(*(frame["region"] for frame in frames)))


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


def find_raw_files(directory: str | Path) -> dict[str, list[Path]]:
    """List the raw files in a directory (searched recursively) whose layout is recognised.

    Args:
        directory: e.g. ``../shared/data`` or a folder filled by ``socialtwin data fetch``.

    Returns:
        Kind (``policy``, ``mobility``, ``cases``, ``vaccinations``, ``temperature``,
        ``policy_indices``) -> paths, the preferred layout first.

    Raises:
        DatasetError: the directory does not exist.

    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such directory of raw data files")
    ranked: dict[str, list[tuple[int, Path]]] = {}
    for path in sorted(directory.rglob("*.csv")):
        layout = None if path.name.startswith(".") else detect_layout(path)
        if layout is not None:
            ranked.setdefault(layout.kind, []).append((LAYOUTS.index(layout), path))
    return {kind: [path for _, path in sorted(items)] for kind, items in ranked.items()}


def _by_preference(frames: Sequence[pd.DataFrame], key: str) -> pd.DataFrame:
    """Stack frames given in preference order, keeping for each region only its best source."""
    if not frames:
        return pd.DataFrame(columns=["region", key])
    stacked = pd.concat([frame.assign(_rank=rank) for rank, frame in enumerate(frames)])
    best = stacked.groupby("region")["_rank"].transform("min")
    chosen = stacked[stacked["_rank"] == best].drop_duplicates(["region", key], keep="first")
    return chosen.drop(columns="_rank").sort_values(["region", key]).reset_index(drop=True)


def _weekly_mobility(daily: pd.DataFrame) -> pd.DataFrame:
    how = "last" if daily.attrs.get("smoothed") else "mean"
    return to_weekly(daily, how=how, columns=MOBILITY_CATEGORIES)


def _weekly_policy(daily: pd.DataFrame) -> pd.DataFrame:
    columns = [column for column in POLICY_COLUMNS if column in daily]
    return to_weekly(daily, min_days=1, columns=columns)


def _case_growth(weekly: pd.DataFrame) -> pd.Series:
    """log((cases this week + 1) / (cases last week + 1)), clipped; NaN without last week."""
    counts = (weekly["new_cases"] * 7).to_numpy()
    previous = weekly.groupby("region")["new_cases"].shift(1) * 7
    consecutive = weekly.groupby("region")["week"].diff() == pd.Timedelta(days=7)
    growth = np.log((counts + 1.0) / (previous + 1.0)).where(consecutive)
    return growth.clip(-CASE_GROWTH_CLIP, CASE_GROWTH_CLIP)


def _weekly_cases(frames: Sequence[pd.DataFrame], start: pd.Timestamp) -> pd.DataFrame:
    """Weekly case and death rates and growth; 0 before a region's first reported case."""
    daily = _by_preference(frames, "date")
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


def _weekly_vaccinated(frames: Sequence[pd.DataFrame], start: pd.Timestamp) -> pd.DataFrame:
    daily = _by_preference(frames, "date")
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


def _weekly_temperature(monthly: pd.DataFrame | None, weeks: pd.DatetimeIndex) -> pd.DataFrame:
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


def _holiday_share(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Share of each week's seven days that are US federal holidays (as observed) or Dec 24-31."""
    days = weeks.to_numpy()[:, None] + np.arange(7) * np.timedelta64(1, "D")
    flat = pd.DatetimeIndex(days.ravel())
    federal = USFederalHolidayCalendar().holidays(flat.min(), flat.max())
    festive = (flat.month == 12) & (flat.day >= 24)
    return (flat.isin(federal) | festive).reshape(days.shape).mean(axis=1)


def _window(frame: pd.DataFrame, regions: Sequence[str] | None, start, end) -> pd.DataFrame:
    keep = (frame["week"] >= start) & (frame["week"] <= end)
    if regions is not None:
        keep &= frame["region"].isin(regions)
    frame = frame[keep].astype({"region": str})
    return frame.sort_values(["region", "week"]).reset_index(drop=True)


def weekly_observed(
    files: Mapping[str, Sequence[Path]],
    regions: Sequence[str] | None = None,
    start: pd.Timestamp = FIRST_WEEK,
    end: pd.Timestamp = LAST_WEEK,
) -> ObservedData:
    """Build the weekly tables from raw upstream files (see the module docstring for the rules).

    Args:
        files: kind -> paths in preference order, as returned by :func:`find_raw_files`; the
            ``policy`` and ``mobility`` kinds are required, ``cases``, ``vaccinations`` and
            ``temperature`` are optional (their context columns are NaN without them).
        regions: canonical codes to keep; None keeps every region found.
        start: Monday of the first week kept.
        end: Monday of the last week kept.

    Returns:
        The :class:`ObservedData`. Policy and mobility have a row where data exist; context has a
        row for every region and week of the window.

    Raises:
        DatasetError: a required kind is missing, or a file is malformed.

    """
    missing = [kind for kind in ("policy", "mobility") if not files.get(kind)]
    if missing:
        raise DatasetError(
            f"no raw {' or '.join(missing)} file found; expected an OxCGRT CSV (classic "
            "OxCGRT_latest.csv or v1 layout) and a mobility CSV (Google's "
            "Global_Mobility_Report.csv, Opportunity Insights' 'Google Mobility - * - Daily.csv' "
            "or OWID's changes-visitors-covid.csv)"
        )
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    daily_policy = [load_oxcgrt(path) for path in files["policy"]]
    # Files coding every policy in force (*_TOTAL jurisdictions) before state- or federal-only ones.
    daily_policy.sort(key=lambda f: not all(j.endswith("_TOTAL") for j in f.attrs["jurisdictions"]))
    policy = _by_preference([_weekly_policy(daily) for daily in daily_policy], "week")
    mobility = _by_preference(
        [_weekly_mobility(load_mobility(p)) for p in files["mobility"]], "week"
    )
    cases = _weekly_cases([load_cases(path) for path in files.get("cases", [])], start)
    vaccinated = _weekly_vaccinated(
        [load_vaccinations(p) for p in files.get("vaccinations", [])], start
    )
    temperature_files = files.get("temperature", [])
    monthly = load_monthly_temperatures(temperature_files[0]) if temperature_files else None

    weeks = pd.date_range(start, end, freq="7D")
    temperature = _weekly_temperature(monthly, weeks)
    found = set().union(*(frame["region"] for frame in (policy, mobility, cases, vaccinated)))
    grid_regions = sorted(found) if regions is None else list(regions)
    context = pd.MultiIndex.from_product([grid_regions, weeks], names=["region", "week"]).to_frame(
        index=False
    )
    for part in (cases, vaccinated, temperature):
        context = context.merge(part, on=["region", "week"], how="left")
    context["holiday"] = np.tile(_holiday_share(weeks), len(grid_regions))
    context = context.reindex(columns=["region", "week", *CONTEXT_COLUMNS])
    context[list(CONTEXT_COLUMNS)] = context[list(CONTEXT_COLUMNS)].astype(float)
    return ObservedData(
        policy=_window(
            policy.reindex(columns=["region", "week", *POLICY_COLUMNS]), regions, start, end
        ),
        mobility=_window(mobility, regions, start, end),
        context=_window(context, regions, start, end),
    )


def _shipped_table(name: str) -> pd.DataFrame:
    path = resources.files("calibration") / "data" / name
    with path.open() as handle:
        frame = pd.read_csv(handle, parse_dates=["week"])
    values = frame.columns.drop(["region", "week"])
    frame[values] = frame[values].astype(float)
    frame["week"] = frame["week"].astype("datetime64[ns]")
    return frame


def load_observed(
    data_dir: str | Path | None = None,
    regions: str | Iterable[str] | None = None,
    *,
    start: str | pd.Timestamp = FIRST_WEEK,
    end: str | pd.Timestamp = LAST_WEEK,
) -> ObservedData:
    """Load the weekly observed tables: the shipped ones, or built from a directory of raw files.

    Args:
        data_dir: None reads the tables shipped in ``calibration/data`` (offline; US nation and
            states, weeks :data:`FIRST_WEEK` .. :data:`LAST_WEEK`). A directory is searched for
            raw upstream files (:func:`find_raw_files`) that are aggregated as the builder does.
        regions: a selection for :func:`regions_of`; None keeps all (for raw data, every region
            found in the files).
        start: Monday of the first week kept.
        end: Monday of the last week kept.

    Returns:
        The :class:`ObservedData`.

    Raises:
        DatasetError: a raw file is missing or malformed.
        UsageError: ``regions`` names an unknown region.

    """
    codes = None if regions is None else regions_of(regions)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if data_dir is None:
        tables = {field: _shipped_table(name) for field, name in TABLE_FILES.items()}
        return ObservedData(**{field: _window(t, codes, start, end) for field, t in tables.items()})
    return weekly_observed(find_raw_files(data_dir), codes, start, end)
