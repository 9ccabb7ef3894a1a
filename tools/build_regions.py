"""Build the region registry shipped in ``simulator/sources/data/regions.csv``.

Sources and licences: ``simulator/sources/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "sources" / "data"


def build_regions(raw_dir: Path) -> pd.DataFrame:
    """Region registry: the US nation, the 50 states and DC with their 2019 populations.

    Source: ``population/oi_geoids_state_pop2019.csv`` (Opportunity Insights, Census 2019
    estimates).
    """
    states = pd.read_csv(raw_dir / "population" / "oi_geoids_state_pop2019.csv")
    table = pd.DataFrame(
        {
            "code": "US_" + states["stateabbrev"],
            "name": states["statename"],
            "country": "USA",
            "abbrev": states["stateabbrev"],
            "fips": states["statefips"].astype(int),
            "population": states["state_pop2019"].astype(int),
        }
    )
    nation = pd.DataFrame(
        [
            {
                "code": "USA",
                "name": "United States",
                "country": "USA",
                "abbrev": "US",
                "fips": 0,
                "population": int(table["population"].sum()),
            }
        ]
    )
    return pd.concat([nation, table], ignore_index=True)


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Write ``regions.csv`` built from ``raw_dir`` into ``out_dir``.

    Returns:
        The paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "regions.csv"
    build_regions(Path(raw_dir)).to_csv(path, index=False)
    return [path]
