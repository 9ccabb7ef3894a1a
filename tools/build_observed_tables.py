"""Build the weekly observed tables shipped in ``simulator/sources/data`` from raw public files.

The raw files (``../shared/data`` next to the repository, or a folder filled by ``socialtwin data
fetch``) are never shipped; only the weekly aggregates computed by
:func:`simulator.sources.weekly_observed` are, for the US nation and the 50 states and DC over
the weeks 2020-02-17 .. 2021-04-26. Sources and licences: ``simulator/sources/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

from simulator.sources import TABLE_FILES, find_raw_files, weekly_observed

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "sources" / "data"


def build_all(raw_dir: str | Path, out_dir: str | Path = DATA_DIR) -> list[Path]:
    """Aggregate the raw files weekly and write the three ``weekly_*.csv`` tables.

    Args:
        raw_dir: directory of raw upstream files.
        out_dir: where the tables are written.

    Returns:
        The paths written.

    """
    observed = weekly_observed(find_raw_files(raw_dir))
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

