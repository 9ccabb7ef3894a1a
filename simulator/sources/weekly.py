"""Weekly aggregation: daily frames to Monday-labelled weeks, one source per region."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from simulator.sources.indicators import POLICY_INDICATORS, POLICY_INDICES
from simulator.sources.mobility import MOBILITY_CATEGORIES

POLICY_COLUMNS: tuple[str, ...] = (*POLICY_INDICATORS.values(), *POLICY_INDICES)


def to_weekly(
    daily: pd.DataFrame,
    how: str = "mean",
    min_days: int = 7,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Aggregate a daily ``region``/``date`` frame to weeks starting on Monday.

    Args:
        daily: a frame from one of the loaders (``region``, ``date`` and value columns).
        how: ``mean``, ``sum``, ``min``, ``max``, or ``last`` (the value on the week's last day
            present, e.g. the Sunday value of a 7-day trailing average, which equals the mean of
            that Monday-Sunday week).
        min_days: keep only weeks with at least this many days of data (7 = complete weeks).
        columns: value columns to aggregate; default every numeric column.

    Returns:
        ``region``, ``week`` (the Monday, ``datetime64[ns]``) and the aggregated columns.

    """
    if columns is None:
        columns = [
            c
            for c in daily.columns
            if c not in ("region", "date") and pd.api.types.is_numeric_dtype(daily[c])
        ]
    columns = list(columns)
    frame = daily.loc[:, ["region", "date", *columns]].sort_values(["region", "date"])
    frame["week"] = frame["date"] - pd.to_timedelta(frame["date"].dt.day_of_week, unit="D")
    days = frame.groupby(["region", "week"])["date"].nunique()
    if how == "last":
        values = frame.drop_duplicates(["region", "week"], keep="last").set_index(
            ["region", "week"]
        )
        values = values[columns]
    elif how in ("mean", "sum", "min", "max"):
        values = frame.groupby(["region", "week"])[columns].agg(how)
    else:
        raise ValueError(f"unknown aggregation {how!r}; allowed: mean, sum, min, max, last")
    weekly = values[days.reindex(values.index) >= min_days].reset_index()
    weekly["week"] = weekly["week"].astype("datetime64[ns]")
    return weekly


def by_preference(frames: Sequence[pd.DataFrame], key: str, until: pd.Timestamp | None = None
                  ) -> pd.DataFrame:
    """Stack frames of one kind, keeping for each region only the rows of its best source.

    One source per region for the whole period, so that training and test weeks come from one
    consistent source. The best is the source whose data reach furthest (its last ``key``,
    counted up to ``until``, the end of the table): a source that stops early (Google's own
    file ends in December 2020) cannot give test weeks. Among sources that reach as far, the
    earlier frame wins, so callers pass frames in order of preference (for mobility: Opportunity
    Insights, then Google, then OWID; for cases: NYT, Opportunity Insights, then JHU via OxCGRT).

    Args:
        frames: frames with ``region`` and ``key`` columns, preferred first.
        key: the time column (``week`` or ``date``).
        until: the last time that counts towards a source's reach (None: no limit).
    """
    if not frames:
        return pd.DataFrame(columns=["region", key])
    stacked = pd.concat([frame.assign(_rank=rank) for rank, frame in enumerate(frames)])
    reach = stacked.groupby(["region", "_rank"])[key].max()
    if until is not None:
        reach = reach.clip(upper=until)
    ranked = reach.rename("reach").reset_index().sort_values(
        ["region", "reach", "_rank"], ascending=[True, False, True])
    best = ranked.drop_duplicates("region").set_index("region")["_rank"]
    chosen = stacked[stacked["_rank"] == stacked["region"].map(best)]
    chosen = chosen.drop_duplicates(["region", key], keep="first")
    return chosen.drop(columns="_rank").sort_values(["region", key]).reset_index(drop=True)


def weekly_mobility(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly mobility: complete-week means, or the Sunday value of a 7-day trailing average."""
    how = "last" if daily.attrs.get("smoothed") else "mean"
    return to_weekly(daily, how=how, columns=MOBILITY_CATEGORIES)


def weekly_policy(daily: pd.DataFrame) -> pd.DataFrame:
    """Weekly means of the indicators and indices over the days coded (at least one)."""
    columns = [column for column in POLICY_COLUMNS if column in daily]
    return to_weekly(daily, min_days=1, columns=columns)
