"""Loaders of climate: monthly average temperatures per region."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.sources.reading import (
    drop_unmapped,
    read_columns,
    read_header,
    require_columns,
    to_numeric,
)
from simulator.sources.regions import us_region_of

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TEMPERATURE_COLUMNS = tuple(f"{month} Temp AVG / F" for month in MONTHS)


def load_monthly_temperatures(path: str | Path) -> pd.DataFrame:
    """Load monthly average temperatures per US state from the JHU county-level summaries.

    Reads ``states_only.csv`` (or ``counties.csv``, whose state rows have a FIPS code ending in
    000) of JieYingWu/COVID-19_US_County-level_Summaries: columns ``FIPS``, ``State`` and
    ``Jan Temp AVG / F`` .. ``Dec Temp AVG / F`` (NOAA climate divisional data, 2019).

    Args:
        path: the CSV file.

    Returns:
        ``region``, ``month`` (1-12) and ``temperature_f``; states whose values are blank upstream
        (DC and Hawaii) have NaN.

    Raises:
        DatasetError: the file is missing or malformed.

    """
    path = Path(path)
    header = read_header(path)
    require_columns(path, header, ["FIPS", "State", *TEMPERATURE_COLUMNS], "monthly temperature")
    frame = read_columns(path, ["FIPS", "State", *TEMPERATURE_COLUMNS], text=["State"])
    to_numeric(frame, ["FIPS", *TEMPERATURE_COLUMNS], path)
    frame = frame[(frame["FIPS"] % 1000 == 0) & (frame["FIPS"] > 0)].copy()
    frame["region"] = us_region_of(frame["State"])
    frame, unmapped = drop_unmapped(frame, frame["State"])
    long = frame.melt(
        id_vars="region", value_vars=list(TEMPERATURE_COLUMNS), value_name="temperature_f"
    )
    long["month"] = long["variable"].str[:3].map({name: i + 1 for i, name in enumerate(MONTHS)})
    long = long.loc[:, ["region", "month", "temperature_f"]].sort_values(["region", "month"])
    long = long.reset_index(drop=True)
    long.attrs.update(layout="jieyingwu_climate", source=str(path), unmapped=unmapped)
    return long
