"""Weekly context: cases and deaths from their best sources, vaccination roll-out, temperature
normals of both hemispheres and public holidays of any country."""

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.holiday import USFederalHolidayCalendar

from simulator.sources.context import (
    VACCINE_ROLLOUT,
    holiday_share,
    weekly_cases,
    weekly_context,
    weekly_temperature,
    weekly_vaccinated,
)

WEEKS = pd.date_range("2020-02-17", "2021-04-26", freq="7D")


def test_us_holidays_are_the_federal_calendar_as_observed_and_the_year_end():
    days = WEEKS.to_numpy()[:, None] + np.arange(7) * np.timedelta64(1, "D")
    flat = pd.DatetimeIndex(days.ravel())
    federal = USFederalHolidayCalendar().holidays(flat.min(), flat.max())
    festive = (flat.month == 12) & (flat.day >= 24)
    expected = (flat.isin(federal) | festive).reshape(days.shape).mean(axis=1)
    np.testing.assert_array_equal(holiday_share(WEEKS, "US"), expected)
    july = holiday_share(pd.DatetimeIndex(["2020-06-29"]), "US")
    assert july[0] == pytest.approx(1 / 7), "4 July 2020 is a Saturday: Friday 3 July is off"


def test_holidays_of_other_countries():
    weeks = pd.DatetimeIndex(["2020-04-13", "2020-07-13", "2020-12-21", "2020-10-26"])
    france = holiday_share(weeks, "FR")
    assert france.tolist()[:3] == pytest.approx([1 / 7, 1 / 7, 4 / 7])  # Easter, 14 July, Xmas
    japan = holiday_share(weeks, "JP")
    assert japan[2] == 0, "no Christmas break where Christmas Day is not a public holiday"
    new_zealand = holiday_share(pd.DatetimeIndex(["2020-10-26"]), "NZ")
    assert new_zealand[0] == pytest.approx(1 / 7)  # Labour Day, 26 October 2020
    assert np.isnan(holiday_share(weeks, "ZZ")).all()


def test_cases_and_deaths_each_from_their_best_source():
    days = pd.date_range("2020-02-01", "2021-05-31")
    counts = np.arange(len(days), dtype=float)
    cases_only = pd.DataFrame({"region": "FRA", "date": days, "cases": counts,
                               "new_cases": 1.0, "new_cases_per_100k": 0.5})
    deaths_only = pd.DataFrame({"region": "FRA", "date": days, "deaths": counts,
                                "new_deaths": 1.0, "new_deaths_per_100k": 0.25})
    weekly = weekly_cases([cases_only, deaths_only], WEEKS[0], WEEKS[-1]).set_index("week")
    assert weekly["new_cases_per_100k"].eq(0.5).all()
    assert weekly["new_deaths_per_100k"].eq(0.25).all()
    assert weekly["case_growth"].iloc[1:].eq(0.0).all()
    deaths = weekly_cases([deaths_only], WEEKS[0], WEEKS[-1])
    assert "case_growth" not in deaths and deaths["new_deaths_per_100k"].eq(0.25).all()


def test_vaccination_starts_at_each_country_first_report():
    reports = pd.DataFrame({
        "region": ["FRA", "FRA", "US_CA"],
        "date": pd.to_datetime(["2021-01-04", "2021-01-18", "2021-01-11"]),
        "people_vaccinated_per_hundred": [0.5, 2.0, 1.0],
    })
    daily = pd.concat([
        part.set_index("date").asfreq("D").ffill().reset_index()
        for _, part in reports.groupby("region")])
    weekly = weekly_vaccinated([daily], WEEKS[0], WEEKS[-1]).set_index(["region", "week"])
    france = weekly.loc["FRA", "vaccinated_pct"]
    assert france.loc[:"2020-12-28"].eq(0).all()
    assert france.loc["2021-01-04"] == pytest.approx(0.5)
    california = weekly.loc["US_CA", "vaccinated_pct"]
    # US states report from January 2021 only; the roll-out began on 14 December 2020.
    assert california.loc["2020-12-14"] > 0 and california.loc["2020-12-07"] == 0
    assert VACCINE_ROLLOUT == pd.Timestamp("2020-12-14")


def test_temperature_from_the_first_source_that_has_the_region():
    def monthly(region, values, layout):
        frame = pd.DataFrame({"region": region, "month": range(1, 13), "temperature_f": values})
        frame.attrs["layout"] = layout
        return frame

    south = monthly("NZL", [70, 70, 65, 60, 55, 50, 45, 50, 55, 60, 65, 70], "cru_normals")
    other = monthly("NZL", [0] * 12, "cru_series")
    weekly = weekly_temperature([south, other], WEEKS).set_index("week")["temperature_f"]
    assert weekly.loc["2021-01-11"] > weekly.loc["2020-07-13"] + 20
    assert weekly_temperature([], WEEKS).empty


def test_context_rows_for_every_region_with_signals():
    signals = pd.DataFrame({"region": ["FRA", "XXX"], "week": WEEKS[:2]})
    context = weekly_context([], [], [], WEEKS, None, signals=(signals,))
    assert sorted(context["region"].unique()) == ["FRA", "XXX"]
    assert context["new_cases_per_100k"].isna().all()
    assert context.loc[context["region"] == "FRA", "holiday"].notna().all()
