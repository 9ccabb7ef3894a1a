"""Loaders of the Oxford COVID-19 Government Response Tracker (OxCGRT): indicators and indices.

Codes follow OxCGRT: a nation is its ISO 3166-1 alpha-3 code (``USA``, ``DEU``), a sub-national
region ``<ISO2>_<code>`` (``US_CA``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.sources.indicators import OXCGRT_INDICATORS, POLICY_INDICATORS, POLICY_INDICES
from simulator.sources.reading import (
    DatasetError,
    Domain,
    finish,
    is_blank,
    melt_wide,
    parse_dates,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
    wide_date_columns,
)

# Which version of a v1 indicator stands for "the policy": classic (no suffix), then the majority
# version M, then C8's EV, then the everyone version E (codebook, "Getting started").
_VARIANT_RANK = {"": 0, "M": 1, "EV": 2, "E": 3}
_INDICATOR_COLUMN = re.compile(r"^(?P<code>[CEH]\d)(?P<variant>M|EV|E|NV|V)?_(?P<label>.+)$")
_JURISDICTION_RANK = {"TOTAL": 0, "WIDE": 1, "ALL": 1, "GOV": 2}
DOMAINS: dict[str, Domain] = {
    **{name: (0.0, OXCGRT_INDICATORS[name].max_level) for name in POLICY_INDICATORS.values()},
    **{f"{code.lower()}_flag": (0.0, 1.0) for code in POLICY_INDICATORS},
    **dict.fromkeys(POLICY_INDICES, (0.0, 100.0)),
    "confirmed_cases": (0.0, None),
    "confirmed_deaths": (0.0, None),
}
"""The codebook's domains: an indicator's levels, flags 0 or 1, indices 0-100, counts >= 0."""


def oxcgrt_columns(header: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Pick the indicator and flag columns: canonical name -> upstream column."""
    best: dict[tuple[str, bool], tuple[int, str]] = {}
    for column in header:
        match = _INDICATOR_COLUMN.match(column)
        if not match or match["code"] not in POLICY_INDICATORS:
            continue
        rank = _VARIANT_RANK.get(match["variant"] or "")
        if rank is None:
            continue
        key = (match["code"], match["label"] == "Flag")
        if key not in best or rank < best[key][0]:
            best[key] = (rank, column)
    indicators = {
        POLICY_INDICATORS[code]: best[(code, False)][1]
        for code in POLICY_INDICATORS
        if (code, False) in best
    }
    flags = {
        f"{code.lower()}_flag": best[(code, True)][1]
        for code in POLICY_INDICATORS
        if (code, True) in best
    }
    return indicators, flags


def _index_columns(header: Sequence[str]) -> dict[str, str]:
    names = set(header)
    return {
        canonical: next(name for name in candidates if name in names)
        for canonical, candidates in POLICY_INDICES.items()
        if names.intersection(candidates)
    }


def _oxcgrt_regions(frame: pd.DataFrame) -> pd.Series:
    """Canonical region of the rows kept: one jurisdiction per region and no city rows.

    ``*_TOTAL`` rows (all policies that apply to residents, whoever set them) are preferred, then
    ``*_WIDE``/``*_ALL``, then ``*_GOV``: OxCGRT's own files use TOTAL for national and state data.
    """
    if "CityCode" in frame:
        frame = frame[is_blank(frame["CityCode"])]
    region_code = frame["RegionCode"] if "RegionCode" in frame else pd.Series(pd.NA, frame.index)
    region = region_code.where(~is_blank(region_code), frame["CountryCode"]).str.strip()
    if "Jurisdiction" in frame:
        suffix = frame["Jurisdiction"].astype("string").str.split("_").str[-1]
        rank = suffix.map(_JURISDICTION_RANK).fillna(len(_JURISDICTION_RANK)).astype(int)
        region = region[rank == rank.groupby(region).transform("min")]
    return region.rename("region")


def _fill_policy_gaps(frame: pd.DataFrame, indicators: Sequence[str], other: Sequence[str]) -> None:
    """Forward-fill indicator, flag and index gaps within each region, in place.

    This is what OxCGRT's ``_ForDisplay`` indices do: a missing day takes the last recorded value,
    since a policy stays in force until it is recorded as changed. Before a region's first record
    an indicator is 0, as in OxCGRT's index methodology where absent data scores zero (it matters
    for H7 and H8, added to the codebook in late 2020). A flag is blank when its indicator is 0.
    """
    columns = [*indicators, *other]
    frame[columns] = frame.groupby("region", sort=False)[columns].ffill()
    frame[list(indicators)] = frame[list(indicators)].fillna(0.0)
    for code, indicator in POLICY_INDICATORS.items():
        flag = f"{code.lower()}_flag"
        if flag in frame and indicator in frame:
            frame.loc[frame[indicator] == 0, flag] = np.nan


def load_oxcgrt(path: str | Path) -> pd.DataFrame:
    """Load an OxCGRT file in the classic ``OxCGRT_latest.csv`` or the v1 (2023) layout.

    The classic layout names indicators ``C1_School closing``; v1 files add a suffix for whom a
    policy applies to (``C1M_``, ``C8EV_``, ``H6M_``...) and name indices with ``_Average`` (and
    ``_ForDisplay`` variants); the majority (M) or EV versions are used. Dates are YYYYMMDD. Gaps
    are forward-filled within each region (see OxCGRT's ``_ForDisplay`` indices); indicators are 0
    before a region's first record.

    Args:
        path: the CSV file.

    Returns:
        One row per region and day: ``region``, ``date``, the indicators present among
        :data:`POLICY_INDICATORS` (``c1_school_closing``...), their flags (``c1_flag``...), the
        indices present among :data:`POLICY_INDICES`, ``confirmed_cases`` and ``confirmed_deaths``
        when present. ``attrs["layout"]`` is ``oxcgrt_classic`` or ``oxcgrt_v1``;
        ``attrs["jurisdictions"]`` lists the jurisdiction types kept (one per region: ``*_TOTAL``
        when the file has it, then ``*_WIDE``/``*_ALL``, then ``*_GOV``; city rows are dropped).

    Raises:
        DatasetError: the file is missing, malformed or not an OxCGRT file.

    """
    path = Path(path)
    header = read_header(path)
    require_columns(path, header, ("CountryCode", "Date"), "OxCGRT")
    indicators, flags = oxcgrt_columns(header)
    indices = _index_columns(header)
    if not indicators and not indices:
        raise DatasetError(
            f"{path}: no OxCGRT indicator or index columns; expected columns such as "
            "'C1_School closing' (classic), 'C1M_School closing' (v1), 'StringencyIndex' or "
            "'StringencyIndex_Average'"
        )
    cases = {
        name: column
        for name, column in (
            ("confirmed_cases", "ConfirmedCases"),
            ("confirmed_deaths", "ConfirmedDeaths"),
        )
        if column in header
    }
    sources = {**indicators, **flags, **indices, **cases}
    frame = _read_oxcgrt_rows(path, header, sources).sort_values(["region", "date"])
    _fill_policy_gaps(frame, list(indicators), [*flags, *indices])
    jurisdictions = (
        sorted(frame["Jurisdiction"].dropna().unique()) if "Jurisdiction" in frame else []
    )
    variants = {_INDICATOR_COLUMN.match(column)["variant"] for column in indicators.values()}
    layout = (
        "oxcgrt_v1" if variants - {None} else "oxcgrt_classic" if variants else "oxcgrt_indices"
    )
    return finish(frame, path, layout, list(sources), domains=DOMAINS, named=sources,
                  jurisdictions=jurisdictions)


def _read_oxcgrt_rows(path: Path, header: Sequence[str], sources: dict[str, str]
                      ) -> pd.DataFrame:
    """Rows of an OxCGRT file with canonical ``region``, ``date`` and the ``sources`` columns.

    ``sources`` maps canonical names to the file's column names; their values must be numeric.
    """
    ids = [name for name in ("RegionCode", "Jurisdiction", "CityCode") if name in header]
    frame = read_columns(path, ["CountryCode", "Date", *ids, *sources.values()],
                  text=["CountryCode", "Date", *ids])
    to_numeric(frame, sources.values(), path)
    region = _oxcgrt_regions(frame)
    frame = frame.loc[region.index].assign(region=region)
    frame = frame.rename(columns={v: k for k, v in sources.items()})
    frame["date"] = parse_dates(frame["Date"], path, "Date")
    return frame


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def load_oxcgrt_indices(path: str | Path, index: str | None = None) -> pd.DataFrame:
    """Load the OxCGRT v1 policy indices, in long form or as an official wide timeseries file.

    The long form has one row per jurisdiction and day (``CountryCode``, ``RegionCode``,
    ``Jurisdiction``, ``Date``, ``StringencyIndex``...). The wide timeseries files of
    OxCGRT/covid-policy-dataset (``OxCGRT_timeseries_<Index>_v1.csv``) have one column per day
    (``01Jan2020``...) and hold one index, named by ``index`` or else by the file name. Gaps are
    forward-filled within a region.

    Args:
        path: the CSV file.
        index: for a wide file, the index it holds (``StringencyIndex`` or ``stringency_index``).

    Returns:
        ``region``, ``date`` and the canonical index columns present (``stringency_index``...).

    Raises:
        DatasetError: the file is missing or malformed, or the index of a wide file is unknown.

    """
    path = Path(path)
    header = read_header(path)
    wide_dates = wide_date_columns(header)
    if not wide_dates:
        indices = _index_columns(header)
        require_columns(path, header, ("CountryCode", "Date"), "OxCGRT indices")
        if not indices:
            raise DatasetError(
                f"{path}: no index columns; expected one of "
                f"{', '.join(names[0] for names in POLICY_INDICES.values())}"
            )
        frame = _read_oxcgrt_rows(path, header, indices)
        layout = "oxcgrt_indices_long"
    else:
        match = re.search(r"timeseries_([A-Za-z]+?)(?:_v\d+)?$", path.stem)
        index_name = _snake(index or (match[1] if match else ""))
        if index_name not in POLICY_INDICES:
            raise DatasetError(
                f"{path}: wide timeseries file whose index is unknown; pass index= one of "
                f"{', '.join(POLICY_INDICES)} or keep the official file name"
            )
        require_columns(path, header, ("CountryCode",), "OxCGRT timeseries")
        ids = [name for name in ("RegionCode", "Jurisdiction", "CityCode") if name in header]
        frame = read_columns(path, ["CountryCode", *ids, *wide_dates], text=["CountryCode", *ids])
        to_numeric(frame, wide_dates, path)
        region = _oxcgrt_regions(frame)
        frame = pd.concat([region, frame.loc[region.index, wide_dates]], axis=1)
        frame = melt_wide(frame, ["region"], wide_dates, index_name)
        indices = {index_name: index_name}
        layout = "oxcgrt_timeseries"
    frame = frame.sort_values(["region", "date"])
    frame[list(indices)] = frame.groupby("region", sort=False)[list(indices)].ffill()
    return finish(frame, path, layout, list(indices), domains=DOMAINS, named=indices)
