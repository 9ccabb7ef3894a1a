"""Loaders of climate: monthly mean temperatures per region, a normal for each calendar month.

Two families: NOAA's 2019 state averages for the US (as collected by the JHU county-level
summaries), and the CRU CY country series of the Climatic Research Unit (University of East
Anglia) for every country, either as their 1991-2020 normals or as the monthly series from which
the loader computes them. Temperatures are in degrees Fahrenheit, as the agents are told them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.sources.context import CONTEXT_BOUNDS
from simulator.sources.reading import (
    DatasetError,
    check_domains,
    drop_unmapped,
    is_blank,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
)
from simulator.sources.regions import NATION, codes_of

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TEMPERATURE_COLUMNS = tuple(f"{month} Temp AVG / F" for month in MONTHS)
"""The month columns of the JHU county-level summaries."""
CRU_MONTHS = tuple(month.upper() for month in MONTHS)
"""The month columns of CRU CY files."""
NORMAL_YEARS = (1991, 2020)
"""The WMO standard normal period over which CRU monthly series are averaged."""
_CRU_MISSING = -999.0


def _fahrenheit(celsius: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    return celsius * 9.0 / 5.0 + 32.0


def _long(frame: pd.DataFrame, columns: tuple[str, ...], path: Path, layout: str,
          unmapped: list[str]) -> pd.DataFrame:
    """A region x month-column frame as ``region``, ``month`` (1-12), ``temperature_f`` rows."""
    long = frame.melt(id_vars="region", value_vars=list(columns), value_name="temperature_f")
    long["month"] = long["variable"].map({name: i + 1 for i, name in enumerate(columns)})
    long = long.loc[:, ["region", "month", "temperature_f"]].sort_values(["region", "month"])
    long = long.reset_index(drop=True)
    check_domains(long, path, {"temperature_f": CONTEXT_BOUNDS["temperature_f"]}, when="month")
    long.attrs.update(layout=layout, source=str(path), unmapped=unmapped)
    return long


def _noaa_states(path: Path, header: list[str]) -> pd.DataFrame:
    require_columns(path, header, ["FIPS", "State", *TEMPERATURE_COLUMNS], "monthly temperature")
    frame = read_columns(path, ["FIPS", "State", *TEMPERATURE_COLUMNS], text=["State"])
    to_numeric(frame, ["FIPS", *TEMPERATURE_COLUMNS], path)
    frame = frame[(frame["FIPS"] % 1000 == 0) & (frame["FIPS"] > 0)].copy()
    frame["region"] = codes_of(frame["State"], country=NATION)
    frame, unmapped = drop_unmapped(frame, frame["State"])
    return _long(frame, TEMPERATURE_COLUMNS, path, "jieyingwu_climate", unmapped)


def _cru(path: Path, header: list[str]) -> pd.DataFrame:
    """CRU CY normals (a row per country) or monthly series (a row per country and year)."""
    series = "YEAR" in header
    code = "iso3_DERIVED" if "iso3_DERIVED" in header else None
    ids = ["country", *(["YEAR"] if series else []), *([code] if code else [])]
    require_columns(path, header, [*ids, *CRU_MONTHS], "CRU CY temperature")
    frame = read_columns(path, [*ids, *CRU_MONTHS], text=["country", *([code] if code else [])],
                         keep_default_na=False, na_values=[""])
    to_numeric(frame, [*CRU_MONTHS, *(["YEAR"] if series else [])], path)
    frame[list(CRU_MONTHS)] = frame[list(CRU_MONTHS)].mask(frame[list(CRU_MONTHS)] <= _CRU_MISSING)
    if series:
        years = frame["YEAR"].between(*NORMAL_YEARS)
        if not years.any():
            raise DatasetError(f"{path}: no year of the normal period {NORMAL_YEARS[0]}-"
                               f"{NORMAL_YEARS[1]} in column 'YEAR'")
        frame = frame[years].groupby("country", as_index=False)[list(CRU_MONTHS)].mean()
    # Country names are file-name tokens (United_Kingdom); the registry knows them as aliases.
    label = frame["country"]
    if code:
        label = frame[code].where(~is_blank(frame[code]), label)
    frame["region"] = codes_of(label, nations=True)
    frame, unmapped = drop_unmapped(frame, frame["country"])
    frame[list(CRU_MONTHS)] = _fahrenheit(frame[list(CRU_MONTHS)])
    return _long(frame, CRU_MONTHS, path, "cru_series" if series else "cru_normals", unmapped)


def load_monthly_temperatures(path: str | Path) -> pd.DataFrame:
    """Load monthly mean temperatures from a NOAA (US states) or CRU CY (countries) file.

    - ``jieyingwu_climate``: ``states_only.csv`` (or ``counties.csv``, whose state rows have a
      FIPS code ending in 000) of JieYingWu/COVID-19_US_County-level_Summaries: ``FIPS``,
      ``State`` and ``Jan Temp AVG / F`` .. ``Dec Temp AVG / F`` (NOAA climate divisional data,
      2019); states blank upstream (DC and Hawaii) have NaN.
    - ``cru_normals``: one row per country, ``country`` (CRU's name token, e.g.
      ``United_Kingdom``), optionally an ISO alpha-3 column ``iso3_DERIVED``, and ``JAN`` ..
      ``DEC`` in degrees Celsius.
    - ``cru_series``: CRU CY country files stacked (``country``, ``YEAR``, ``JAN`` .. ``DEC``,
      seasonal columns; -999 is missing), averaged here over 1991-2020.

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``month`` (1-12) and ``temperature_f`` (degrees Fahrenheit).
        ``attrs["unmapped"]`` lists places the registry does not know (CRU's islands and
        sub-regions).

    Raises:
        DatasetError: the file is missing, malformed or of no known climate layout.

    """
    path = Path(path)
    header = read_header(path)
    if "country" in header and set(CRU_MONTHS) <= set(header):
        return _cru(path, header)
    return _noaa_states(path, header)
