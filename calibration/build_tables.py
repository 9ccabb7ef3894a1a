"""Build the weekly observed tables shipped in ``calibration/data`` from the raw public files.

The raw files (``../shared/data`` next to the repository, or a folder filled by ``socialtwin data
fetch``) are never shipped; only the weekly aggregates computed by
:func:`calibration.observed.weekly_observed` are, for the US nation and the 50 states and DC over
the weeks 2020-02-17 .. 2021-04-26. Sources and licences: ``calibration/data/SOURCES.md``.

Run ``python -m calibration.build_tables ../shared/data``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from calibration.observed import TABLE_FILES, find_raw_files, regions_of, weekly_observed

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_RAW_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def build_tables(
    raw_dir: str | Path = DEFAULT_RAW_DIR, out_dir: str | Path = DATA_DIR
) -> list[Path]:
    """Aggregate the raw files weekly and write the three ``weekly_*.csv`` tables.

    Args:
        raw_dir: directory of raw upstream files.
        out_dir: where the tables are written.

    Returns:
        The paths written.

    """
    observed = weekly_observed(find_raw_files(raw_dir), regions_of("all"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for field, name in TABLE_FILES.items():
        path = out_dir / name
        getattr(observed, field).to_csv(
            path, index=False, float_format="%.6g", date_format="%Y-%m-%d"
        )
        written.append(path)
    return written


def main(raw_dir: str | Path | None = None) -> list[Path]:
    """Build the tables from ``raw_dir`` (default ``../shared/data``) and print what was written."""
    written = build_tables(DEFAULT_RAW_DIR if raw_dir is None else raw_dir)
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
