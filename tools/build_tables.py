"""Rebuild every table shipped in the package from a folder of raw public files.

What ``socialtwin data build-tables --from DIR`` and ``make tables`` run, from a source checkout:
``python -m tools.build_tables ../shared/data``. The raw files are never shipped; each builder
writes small tables of figures whose sources are listed next to them (``SOURCES.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools import (
    build_country_population,
    build_observed_tables,
    build_population_tables,
    build_psychographic_tables,
    build_regions,
)
from tools.raw_files import check_raw_dir

BUILDERS = (build_regions, build_population_tables, build_psychographic_tables,
            build_country_population, build_observed_tables)
"""Run in this order: the other builders read the region registry the first one writes."""


def build_all(raw_dir: str | Path) -> list[Path]:
    """Run every builder on ``raw_dir``; returns the paths written.

    Raises:
        UsageError: ``raw_dir`` lacks a raw file a builder reads (nothing is rebuilt).
    """
    folder = check_raw_dir(raw_dir)
    return [path for builder in BUILDERS for path in builder.build_all(folder)]


if __name__ == "__main__":
    for written in build_all(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"):
        print(written)
