import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.policy import PolicyTimeline, tick_dates
from simulator.scenario import load_scenario, scenario_from_dict
from simulator.sources.indicators import OXCGRT_INDICATORS, stringency_index

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "data"


def scripted(**changes):
    data = {
        "name": "t",
        "region": "US_CA",
        "period": {"start": "2020-03-01", "end": "2020-04-30"},
        "population": {"size": 10},
        "behaviours": ["parks"],
        "policy": {"source": "interventions", "interventions": [
            {"indicator": "c6_stay_at_home_requirements", "level": 2,
             "start": "2020-03-19", "end": "2020-04-05"},
            {"indicator": "c1_school_closing", "level": 3, "start": "2020-03-16"},
        ]},
        "context": {"source": "constant", "values": {"new_cases_per_100k": 12.0}},
    }
    data.update(changes)
    return scenario_from_dict(data)


def test_weekly_ticks_are_whole_iso_weeks():
    dates = tick_dates(dt.date(2020, 3, 1), dt.date(2021, 4, 28), "week")
    assert dates[0] == np.datetime64("2020-03-02")
    assert all(d.weekday() == 0 for d in dates)
    assert dates[-1] == np.datetime64("2021-04-19")
    assert len(dates) == 60


def test_daily_ticks():
    assert len(tick_dates(dt.date(2020, 3, 1), dt.date(2020, 3, 31), "day")) == 31


def test_interventions_are_averaged_over_each_week():
    timeline = PolicyTimeline.from_scenario(scripted())
    frame = timeline.to_frame().set_index("date")
    # Week of 16 March: stay-at-home from Thursday 19th = 4 of 7 days at level 2.
    assert frame.loc["2020-03-16", "c6_stay_at_home_requirements"] == pytest.approx(2 * 4 / 7)
    assert frame.loc["2020-03-23", "c6_stay_at_home_requirements"] == pytest.approx(2.0)
    assert frame.loc["2020-04-06", "c6_stay_at_home_requirements"] == pytest.approx(0.0)
    assert frame.loc["2020-03-09", "c1_school_closing"] == 0.0
    assert frame.loc["2020-04-20", "c1_school_closing"] == 3.0
    assert frame.loc["2020-03-23", "new_cases_per_100k"] == 12.0


def test_stringency_is_computed_from_indicators():
    timeline = PolicyTimeline.from_scenario(scripted())
    signals = timeline.at(3)
    assert signals.stringency == pytest.approx(stringency_index(signals.policy))
    expected = (100 * 3 / 3 + 100 * 2 / 3) / 9
    assert signals.stringency == pytest.approx(expected)


def test_weeks_under_restrictions_accumulate():
    levels = {name: 0 for name in OXCGRT_INDICATORS}
    assert stringency_index(levels) == 0
    timeline = PolicyTimeline.from_scenario(scripted(policy={"source": "interventions",
        "interventions": [{"indicator": name, "level": OXCGRT_INDICATORS[name].max_level,
                           "start": "2020-03-02"} for name in OXCGRT_INDICATORS]}))
    weeks = timeline.to_frame()["weeks_under_restrictions"].to_numpy()
    assert weeks[0] == 1 and np.all(np.diff(weeks) == 1)


def test_oxcgrt_weekly_timeline_for_the_case_study():
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml")
    timeline = PolicyTimeline.from_scenario(scenario)
    frame = timeline.to_frame().set_index("date")
    assert len(timeline) == 60
    assert frame.loc["2020-03-02", "stringency_index"] < 20
    assert frame.loc["2020-04-13", "stringency_index"] > 60
    assert frame.loc["2020-04-13", "c1_school_closing"] >= 2.5
    assert frame.loc["2021-01-04", "vaccinated_pct"] > 0
    assert frame.loc["2020-07-13", "temperature_f"] > frame.loc["2021-01-11", "temperature_f"]
    assert set(timeline.shown) <= set(timeline.policy.columns)


def test_a_country_timeline_has_its_own_seasons_and_holidays():
    scenario = load_scenario(ROOT / "scenarios" / "covid_country_2020.yaml")
    timeline = PolicyTimeline.from_scenario(scenario.replace(region="ARG"))
    frame = timeline.to_frame().set_index("date")
    assert frame.loc["2021-01-11", "temperature_f"] > frame.loc["2020-07-13", "temperature_f"] + 15
    assert frame.loc["2020-05-25", "holiday"] == pytest.approx(1 / 7)  # Revolucion de Mayo
    assert timeline.missing == ()


def test_an_input_a_region_lacks_is_named_and_left_out_of_the_context():
    scenario = load_scenario(ROOT / "scenarios" / "covid_country_2020.yaml")
    timeline = PolicyTimeline.from_scenario(scenario.replace(region="TWN"))
    assert "temperature_f" not in timeline.context.columns
    assert timeline.missing == ("TWN has no observed temperature normals (temperature_f) in the "
                                "period: agents are not told it",)
    assert "new_cases_per_100k" in timeline.context.columns


@pytest.mark.skipif(not RAW.exists(), reason="needs ../shared/data")
def test_daily_ticks_from_a_raw_oxcgrt_file(tmp_path):
    raw = next((RAW / "policy").glob("OxCGRT_latest_layout_*.csv"))
    scenario = scenario_from_dict({
        "name": "daily", "region": "US_NY", "tick": "day",
        "period": {"start": "2020-03-10", "end": "2020-03-31"},
        "population": {"size": 10}, "behaviours": ["workplaces"],
        "policy": {"source": "oxcgrt", "file": str(raw)}, "context": {"source": "none"},
    })
    timeline = PolicyTimeline.from_scenario(scenario)
    assert len(timeline) == 22
    assert timeline.stringency[0] < timeline.stringency[-1]
    assert timeline.at(21).policy["c6_stay_at_home_requirements"] >= 2


def test_daily_ticks_without_a_file_are_refused():
    with pytest.raises(ScenarioError, match="daily ticks need a raw OxCGRT file"):
        PolicyTimeline.from_scenario(scenario_from_dict({
            "name": "d", "region": "USA", "tick": "day",
            "period": {"start": "2020-03-10", "end": "2020-03-31"},
            "population": {"size": 10}, "behaviours": ["workplaces"],
        }))


def test_period_outside_the_data_is_refused():
    with pytest.raises(ScenarioError, match="no OxCGRT data"):
        PolicyTimeline.from_scenario(scenario_from_dict({
            "name": "late", "region": "USA",
            "period": {"start": "2023-06-01", "end": "2023-08-31"},
            "population": {"size": 10}, "behaviours": ["workplaces"],
        }))
