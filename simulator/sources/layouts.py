"""The upstream layouts the data layer reads, recognised from a file's header line."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulator.sources.climate import CRU_MONTHS, TEMPERATURE_COLUMNS, load_monthly_temperatures
from simulator.sources.epidemic import load_cases, load_vaccinations
from simulator.sources.mobility import load_mobility, mobility_layout
from simulator.sources.oxcgrt import load_oxcgrt, load_oxcgrt_indices, oxcgrt_columns
from simulator.sources.reading import DatasetError, wide_date_columns


@dataclass(frozen=True)
class Layout:
    """One upstream file layout the loaders understand.

    Attributes:
        name: short layout name, e.g. ``oxcgrt_classic``.
        kind: what the file holds: ``policy``, ``policy_indices``, ``mobility``, ``cases``,
            ``vaccinations`` or ``temperature``.
        loader: the function that reads a file of this layout.
        matches: predicate on the set of header columns.

    """

    name: str
    kind: str
    loader: Callable[[Path], pd.DataFrame]
    matches: Callable[[set[str]], bool]


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "oxcgrt_classic",
        "policy",
        load_oxcgrt,
        lambda names: "CountryCode" in names and "C1_School closing" in names,
    ),
    Layout(
        "oxcgrt_v1",
        "policy",
        load_oxcgrt,
        lambda names: "CountryCode" in names and bool(oxcgrt_columns(sorted(names))[0]),
    ),
    Layout(
        "oxcgrt_indices",
        "policy_indices",
        load_oxcgrt_indices,
        lambda names: "CountryCode" in names and "Jurisdiction" in names,
    ),
    Layout(
        "opportunity_insights",
        "mobility",
        load_mobility,
        lambda names: mobility_layout(names) == "opportunity_insights",
    ),
    Layout("google", "mobility", load_mobility, lambda names: mobility_layout(names) == "google"),
    Layout("owid", "mobility", load_mobility, lambda names: mobility_layout(names) == "owid"),
    Layout(
        "nyt_states",
        "cases",
        load_cases,
        lambda names: {"date", "state", "cases", "deaths"} <= names,
    ),
    Layout(
        "nyt_national",
        "cases",
        load_cases,
        lambda names: {"date", "cases", "deaths"} <= names and "state" not in names,
    ),
    Layout(
        "opportunity_insights_cases",
        "cases",
        load_cases,
        lambda names: {"case_count", "death_count"} <= names and "countyfips" not in names,
    ),
    Layout(
        "oxcgrt_timeseries_cases",
        "cases",
        load_cases,
        lambda names: "country_code" in names and bool(wide_date_columns(names)),
    ),
    Layout(
        "owid_vaccinations",
        "vaccinations",
        load_vaccinations,
        lambda names: "people_vaccinated_per_hundred" in names and bool({"date", "Day"} & names),
    ),
    Layout(
        "jieyingwu_climate",
        "temperature",
        load_monthly_temperatures,
        lambda names: {"FIPS", *TEMPERATURE_COLUMNS} <= names,
    ),
    Layout(
        "cru_normals",
        "temperature",
        load_monthly_temperatures,
        lambda names: {"country", *CRU_MONTHS} <= names and "YEAR" not in names,
    ),
    Layout(
        "cru_series",
        "temperature",
        load_monthly_temperatures,
        lambda names: {"country", "YEAR", *CRU_MONTHS} <= names,
    ),
)
"""Known layouts; within a kind, earlier layouts are the preferred source."""


def detect_layout(path: str | Path) -> Layout | None:
    """Recognise the :class:`Layout` of a CSV file from its header line (None if unknown)."""
    return _layout_of(_header(Path(path)))


def _header(path: Path) -> list[str]:
    """The column names of a CSV file's header line (none if it cannot be read)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            return [name.strip() for name in next(csv.reader([handle.readline()]), [])]
    except OSError:
        return []


def _layout_of(columns: list[str]) -> Layout | None:
    names = set(columns)
    return next((layout for layout in LAYOUTS if layout.matches(names)), None)


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


def unrecognised_files(directory: str | Path) -> list[tuple[Path, list[str]]]:
    """The CSV files of a directory (searched recursively) whose header matches no layout.

    Returns:
        ``(path, column names)`` per file, so that a user can see why it was not read.
    """
    found = []
    for path in sorted(Path(directory).rglob("*.csv")):
        if not path.name.startswith("."):
            columns = _header(path)
            if _layout_of(columns) is None:
                found.append((path, columns))
    return found
