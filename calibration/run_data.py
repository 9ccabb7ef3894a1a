"""A run folder's data as ``socialtwin calibrate RUN_DIR`` reads it: checked, one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from simulator.errors import SocialTwinError

TRAJECTORY_COLUMNS = ("tick", "date", "behaviour", "group", "subgroup", "value", "change_pct")


def read_run(folder: str | Path) -> tuple[str, str, pd.DataFrame]:
    """The region, engine and trajectories of a run folder, checked: one clear error if bad."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        region, engine = manifest["scenario"]["region"], manifest["engine"]
        trajectories = pd.read_csv(folder / "trajectories.csv")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SocialTwinError(f"{folder}: not a readable run folder ({type(error).__name__}: "
                              f"{error})") from None
    path = folder / "trajectories.csv"
    missing = [c for c in TRAJECTORY_COLUMNS if c not in trajectories.columns]
    if missing:
        raise SocialTwinError(f"{path}: no column {', '.join(missing)} (allowed: a file written "
                              f"by socialtwin run, with columns {', '.join(TRAJECTORY_COLUMNS)})")
    dates = pd.to_datetime(trajectories["date"], errors="coerce", format="ISO8601")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise SocialTwinError(f"{path}: date: line {row + 2}: {trajectories['date'].iloc[row]!r} "
                              "is not a date (allowed: YYYY-MM-DD)")
    change = pd.to_numeric(trajectories["change_pct"], errors="coerce")
    if not change.notna().any():
        raise SocialTwinError(f"{path}: change_pct: no number in any row (allowed: the % change "
                              "from the baseline written by socialtwin run)")
    return region, engine, trajectories.assign(date=dates, change_pct=change)
