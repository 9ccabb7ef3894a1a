"""Weekly aggregation and the choice of one source per region."""

import numpy as np
import pandas as pd
import pytest

from simulator.sources import to_weekly
from simulator.sources.weekly import by_preference


def test_to_weekly_monday_complete_weeks():
    dates = pd.date_range("2020-03-02", "2020-03-17")  # Monday 2 March .. Tuesday 17 March
    daily = pd.DataFrame(
        {"region": "USA", "date": dates, "value": np.arange(len(dates), dtype=float)}
    )
    weekly = to_weekly(daily)
    assert weekly["week"].tolist() == [pd.Timestamp("2020-03-02"), pd.Timestamp("2020-03-09")]
    assert weekly["value"].tolist() == [3.0, 10.0]
    partial = to_weekly(daily, min_days=1)
    assert partial["week"].iloc[-1] == pd.Timestamp("2020-03-16")
    assert partial["value"].iloc[-1] == 14.5
    assert to_weekly(daily, how="last")["value"].tolist() == [6.0, 13.0]
    assert to_weekly(daily, how="sum")["value"].tolist() == [21.0, 70.0]
    with pytest.raises(ValueError, match="unknown aggregation"):
        to_weekly(daily, how="median")


def test_to_weekly_drops_week_with_missing_day():
    dates = pd.date_range("2020-03-02", "2020-03-15").delete(3)
    daily = pd.DataFrame({"region": "US_CA", "date": dates, "value": 1.0})
    assert to_weekly(daily)["week"].tolist() == [pd.Timestamp("2020-03-09")]


def _weekly(region, first, last, value):
    weeks = pd.date_range(first, last, freq="7D")
    return pd.DataFrame({"region": region, "week": weeks, "value": value})


def test_one_source_per_region_the_one_reaching_furthest():
    early = pd.concat([_weekly("FRA", "2020-03-02", "2020-12-07", 1.0),
                       _weekly("USA", "2020-03-02", "2021-04-26", 1.0)])
    late = pd.concat([_weekly("FRA", "2020-03-09", "2021-06-07", 2.0),
                      _weekly("USA", "2020-03-09", "2021-06-07", 2.0)])
    chosen = by_preference([early, late], "week", until=pd.Timestamp("2021-04-26"))
    values = chosen.groupby("region")["value"].agg(["min", "max", "size"])
    # France: only the later source reaches the end of the table; the whole period comes from it.
    assert values.loc["FRA"].tolist() == [2.0, 2.0, 66]
    # The US: both reach the end (the later one beyond it); the preferred source wins.
    assert values.loc["USA"].tolist() == [1.0, 1.0, 61]
    unlimited = by_preference([early, late], "week")
    assert set(unlimited.loc[unlimited["region"] == "USA", "value"]) == {2.0}
    assert by_preference([], "week").empty
