"""Weekly observed data: policy signals, mobility and context, by region and week.

:func:`weekly_observed` is the one place where raw upstream files become the weekly tables; the
shipped tables (``simulator/sources/data/weekly_*.csv``, written by
``tools/build_observed_tables.py``) and :func:`load_observed` on a directory of raw files both go
through it. Weeks start on Monday and are labelled by that Monday (``week``). How each table is
aggregated is told by :mod:`simulator.sources.weekly` (policy, mobility, the choice of one source
per region) and :mod:`simulator.sources.context` (cases, vaccination, temperature, holidays).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from simulator.sources.climate import load_monthly_temperatures
from simulator.sources.context import weekly_context
from simulator.sources.epidemic import load_cases, load_vaccinations
from simulator.sources.layouts import find_raw_files
from simulator.sources.mobility import load_mobility
from simulator.sources.oxcgrt import load_oxcgrt
from simulator.sources.reading import DatasetError
from simulator.sources.regions import is_nation, regions_of, selects_world
from simulator.sources.weekly import POLICY_COLUMNS, by_preference, weekly_mobility, weekly_policy

FIRST_WEEK = pd.Timestamp("2020-02-17")
"""Monday of the first week of the shipped tables."""
LAST_WEEK = pd.Timestamp("2021-04-26")
"""Monday of the last week of the shipped tables."""

TABLE_FILES: dict[str, str] = {
    "policy": "weekly_policy.csv",
    "mobility": "weekly_mobility.csv",
    "context": "weekly_context.csv",
}
"""Shipped table per :class:`ObservedData` field, in ``simulator/sources/data``."""


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


def world_regions(observed: ObservedData) -> list[str]:
    """The countries (not sub-national regions) with both policy and mobility rows, sorted."""
    both = set(observed.policy["region"]) & set(observed.mobility["region"])
    return sorted(code for code in both if is_nation(code))


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
    """Build the weekly tables from raw upstream files.

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
    policy = by_preference([weekly_policy(daily) for daily in daily_policy], "week", end)
    mobility = by_preference([weekly_mobility(load_mobility(p)) for p in files["mobility"]],
                             "week", end)
    context = weekly_context(
        cases=[load_cases(path) for path in files.get("cases", [])],
        vaccinations=[load_vaccinations(path) for path in files.get("vaccinations", [])],
        temperatures=[load_monthly_temperatures(path) for path in files.get("temperature", [])],
        weeks=pd.date_range(start, end, freq="7D"),
        regions=regions,
        signals=(policy, mobility),
    )
    return ObservedData(
        policy=_window(
            policy.reindex(columns=["region", "week", *POLICY_COLUMNS]), regions, start, end
        ),
        mobility=_window(mobility, regions, start, end),
        context=_window(context, regions, start, end),
    )


def _shipped_table(name: str) -> pd.DataFrame:
    path = resources.files("simulator.sources") / "data" / name
    with path.open() as handle:
        frame = pd.read_csv(handle, parse_dates=["week"])
    values = frame.columns.drop(["region", "week"])
    frame[values] = frame[values].astype(float)
    frame["week"] = frame["week"].astype("datetime64[ns]")
    return frame


@lru_cache(maxsize=1)
def _shipped() -> ObservedData:
    return ObservedData(**{field: _shipped_table(name) for field, name in TABLE_FILES.items()})


def _signature(directory: Path) -> tuple:
    """What identifies the raw files of a folder: their paths, sizes and modification times."""
    files = find_raw_files(directory)
    return tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns)
                 for paths in files.values() for path in paths)


@lru_cache(maxsize=2)
def _built(directory: Path, signature: tuple, start: pd.Timestamp, end: pd.Timestamp
           ) -> ObservedData:
    """Every region of a folder of raw files, built once per process while the files stay.

    A protocol over many regions reads the folder once, not once per region.
    """
    return weekly_observed(find_raw_files(directory), None, start, end)


def _select(observed: ObservedData, codes: Sequence[str] | None, start, end) -> ObservedData:
    return ObservedData(**{name: _window(getattr(observed, name), codes, start, end)
                           for name in TABLE_FILES})


def load_observed(
    data_dir: str | Path | None = None,
    regions: str | Iterable[str] | None = None,
    *,
    start: str | pd.Timestamp = FIRST_WEEK,
    end: str | pd.Timestamp = LAST_WEEK,
) -> ObservedData:
    """Load the weekly observed tables: the shipped ones, or built from a directory of raw files.

    Args:
        data_dir: None reads the tables shipped in ``simulator/sources/data`` (offline; weeks
            :data:`FIRST_WEEK` .. :data:`LAST_WEEK`). A directory is searched for raw upstream
            files (:func:`find_raw_files`) that are aggregated as the builder does.
        regions: a selection for :func:`regions_of` (``world``: the countries with policy and
            mobility data, :func:`world_regions`); None keeps every region.
        start: Monday of the first week kept.
        end: Monday of the last week kept.

    Returns:
        The :class:`ObservedData`.

    Raises:
        DatasetError: a raw file is missing or malformed.
        UsageError: ``regions`` names an unknown region.

    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    world = selects_world(regions)
    codes = None if regions is None or world else regions_of(regions)
    if data_dir is None:
        everything = _shipped()
    else:
        directory = Path(data_dir).resolve()
        if not directory.is_dir():
            raise DatasetError(f"{data_dir}: no such directory of raw data files")
        everything = _built(directory, _signature(directory), start, end)
    if world:
        codes = regions_of(regions, world=world_regions(everything))
    return _select(everything, codes, start, end)
