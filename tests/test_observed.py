import socket

import numpy as np
import pandas as pd
import pytest
from shared_files import SHARED, needs_shared

from simulator.sources import (
    CONTEXT_COLUMNS,
    MOBILITY_CATEGORIES,
    POLICY_COLUMNS,
    TABLE_FILES,
    DatasetError,
    ObservedData,
    find_raw_files,
    load_observed,
    weekly_observed,
    world_regions,
)
from simulator.sources.regions import state_codes
from tools.build_observed_tables import DATA_DIR, build_all


@pytest.fixture(scope="module")
def shipped() -> ObservedData:
    return load_observed()


@needs_shared
@pytest.mark.slow
def test_shipped_tables_equal_builder_output(tmp_path):
    written = build_all(SHARED, tmp_path)
    assert [path.name for path in written] == list(TABLE_FILES.values())
    for path in written:
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


def test_load_observed_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_observed(None) must not use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    observed = load_observed()
    assert {"USA", *state_codes(), "FRA", "IND", "NZL", "ZAF"} <= set(observed.regions)
    assert not {"DEU", "GBR", "BRA", "ITA", "JPN"} & set(observed.regions), "held out upstream"
    assert list(observed.policy.columns) == ["region", "week", *POLICY_COLUMNS]
    assert list(observed.mobility.columns) == ["region", "week", *MOBILITY_CATEGORIES]
    assert list(observed.context.columns) == ["region", "week", *CONTEXT_COLUMNS]
    for table in (observed.policy, observed.mobility, observed.context):
        assert table["week"].dtype == "datetime64[ns]"
        assert (table["week"].dt.day_of_week == 0).all()
        assert table["week"].min() >= pd.Timestamp("2020-02-17")
        assert table["week"].max() == pd.Timestamp("2021-04-26")
        assert not table.duplicated(["region", "week"]).any()
    us = ["USA", *state_codes()]
    assert len(observed.context) == observed.context["region"].nunique() * 63
    assert observed.policy.groupby("region").size().loc[us].eq(63).all()
    assert observed.mobility.groupby("region").size().loc[us].eq(62).all()
    indicators = [column for column in POLICY_COLUMNS if not column.endswith("_index")]
    assert not observed.policy[indicators].isna().any().any()
    assert not observed.policy[observed.policy["region"].isin(us)].isna().any().any()
    assert not observed.context[observed.context["region"].isin(us)].isna().any().any()
    assert set(observed.context["region"]) == set(observed.policy["region"]) | set(
        observed.mobility["region"])


def test_shipped_tables_stay_small():
    for name in TABLE_FILES.values():
        assert (DATA_DIR / name).stat().st_size < 2_000_000, name


def test_april_2020_national_workplaces_strongly_negative(shipped):
    nation = shipped.mobility[shipped.mobility["region"] == "USA"].set_index("week")
    april = nation.loc["2020-04-06":"2020-04-27"]
    assert len(april) == 4
    assert (april["workplaces"] < -35).all()
    assert (april["residential"] > 10).all()
    assert (nation.loc["2020-02-24":"2020-03-02", "workplaces"].abs() < 5).all()
    # The Sunday value of Opportunity Insights' 7-day average: 5 April 2020 is -0.461.
    assert nation.loc["2020-03-30", "workplaces"] == pytest.approx(-46.1)


def test_policy_and_context_are_plausible(shipped):
    policy = shipped.policy.set_index(["region", "week"])
    assert policy.loc[("US_CA", pd.Timestamp("2020-04-06")), "c6_stay_at_home_requirements"] >= 2
    assert policy.loc[("USA", pd.Timestamp("2020-02-17")), "stringency_index"] < 15
    assert policy.loc[("IND", pd.Timestamp("2020-04-06")), "c6_stay_at_home_requirements"] >= 2
    assert policy["stringency_index"].dropna().between(0, 100).all()
    context = shipped.context.set_index(["region", "week"])
    assert context.loc[("USA", pd.Timestamp("2020-11-23")), "holiday"] == pytest.approx(1 / 7)
    assert context.loc[("USA", pd.Timestamp("2020-12-21")), "holiday"] == pytest.approx(4 / 7)
    assert context.loc[("USA", pd.Timestamp("2020-12-28")), "holiday"] == pytest.approx(5 / 7)
    us = context.loc[["USA", *state_codes()]]
    before = us.xs(pd.Timestamp("2020-12-07"), level="week")["vaccinated_pct"]
    assert (before == 0).all()
    after = us.xs(pd.Timestamp("2021-04-26"), level="week")["vaccinated_pct"]
    assert after.between(25, 60).all()
    temperature = context["temperature_f"].unstack("region")
    states = temperature[["USA", *state_codes()]]
    assert (states.loc["2020-07-13"] > states.loc["2021-01-11"] + 10).all()
    assert temperature["US_DC"].equals(temperature["USA"])
    assert temperature["US_FL"].min() > temperature["US_ND"].max() - 30
    # The southern hemisphere's seasons are the other way round.
    for south in ("NZL", "ARG", "ZAF", "AUS"):
        assert temperature.loc["2021-01-11", south] > temperature.loc["2020-07-13", south] + 8
    assert context["case_growth"].abs().max() <= 2.0
    winter = us.xs(pd.Timestamp("2021-01-04"), level="week")["new_cases_per_100k"]
    assert winter.between(10, 200).all()
    france = context.loc["FRA"]
    assert france.loc["2020-11-02", "new_cases_per_100k"] > 50
    assert france.loc["2020-04-13", "holiday"] == pytest.approx(1 / 7)  # Easter Monday
    assert france.loc["2021-04-19", "vaccinated_pct"] > 15


@needs_shared
@pytest.mark.slow
def test_load_observed_from_raw_directory_matches_shipped(shipped):
    raw = load_observed(SHARED)
    for field in ("policy", "mobility", "context"):
        pd.testing.assert_frame_equal(getattr(raw, field), getattr(shipped, field), rtol=1e-5)


@needs_shared
def test_find_raw_files_ranks_layouts():
    files = find_raw_files(SHARED)
    assert [path.name for path in files["mobility"]] == [
        "oi_google_mobility_national_us_daily_7dma.csv",
        "oi_google_mobility_state_us_daily_7dma.csv",
        "Global_Mobility_Report_layout_US_2020-02-15_2020-12-07.csv",
        "Global_Mobility_Report_layout_national_intl_2020.csv",
        "owid_changes_visitors_covid_layout_US_2020-02-17_2021-06-01.csv",
        "changes-visitors-covid_intl.csv",
    ]
    assert files["cases"][0].name.startswith("nyt_us_states")
    assert [path.name for path in files["cases"][-2:]] == [
        "oxcgrt_timeseries_confirmed_cases_intl_2020-2022.csv",
        "oxcgrt_timeseries_confirmed_deaths_intl_2020-2022.csv",
    ]
    assert len(files["policy"]) == 2
    assert [path.name.split("_")[0] for path in files["temperature"]] == \
        ["us", "crucy", "crucy"]


@needs_shared
@pytest.mark.slow
def test_one_source_per_region_reaching_the_test_window():
    """Google's file ends in December 2020: countries take OWID's series, the US Opportunity
    Insights', each for the whole period."""
    files = find_raw_files(SHARED)
    google, owid = (weekly_observed({"policy": files["policy"], "mobility": [path]},
                                    regions=["FRA", "USA"]).mobility for path in
                    (files["mobility"][3], files["mobility"][5]))
    chosen = load_observed(SHARED, regions="FRA,USA").mobility
    france = chosen[chosen["region"] == "FRA"].reset_index(drop=True)
    pd.testing.assert_frame_equal(france, owid[owid["region"] == "FRA"].reset_index(drop=True))
    assert google["week"].max() < pd.Timestamp("2021-01-01") < france["week"].max()
    oi = load_observed(SHARED, regions="USA").mobility
    assert oi["week"].min() == pd.Timestamp("2020-02-24"), "OI's series starts on 24 February"


def test_region_selection_and_window(shipped):
    observed = load_observed(regions="California,new york, US_TX", start="2020-06-01",
                             end="2020-06-29")
    for table in (observed.policy, observed.mobility, observed.context):
        assert sorted(table["region"].unique()) == ["US_CA", "US_NY", "US_TX"]
        assert len(table) == 3 * 5
    assert load_observed(regions="nation").regions == ["USA"]


def test_world_is_every_country_with_policy_and_mobility(shipped):
    world = world_regions(shipped)
    assert {"USA", "FRA", "IND", "NZL", "BRA"} - set(world) == {"BRA"}
    assert not any(code.startswith("US_") for code in world)
    both = set(shipped.policy["region"]) & set(shipped.mobility["region"])
    assert set(world) == {code for code in both if "_" not in code}
    assert load_observed(regions="world").regions == world


def test_weekly_observed_requires_policy_and_mobility(tmp_path):
    with pytest.raises(DatasetError, match="no raw policy or mobility file"):
        weekly_observed({})
    with pytest.raises(DatasetError, match="no such directory"):
        find_raw_files(tmp_path / "absent")


@needs_shared
def test_weekly_observed_without_context_sources():
    files = find_raw_files(SHARED)
    minimal = {"policy": files["policy"], "mobility": files["mobility"][4:5]}
    observed = weekly_observed(minimal, regions=["USA"])
    context = observed.context
    assert context[["new_cases_per_100k", "vaccinated_pct", "temperature_f"]].isna().all().all()
    assert np.isclose(context["holiday"].sum() * 7, 18)
