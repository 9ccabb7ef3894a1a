import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.sources import (
    CONTEXT_COLUMNS,
    MOBILITY_CATEGORIES,
    POLICY_COLUMNS,
    TABLE_FILES,
    DatasetError,
    ObservedData,
    find_raw_files,
    load_observed,
    regions_of,
    weekly_observed,
)
from simulator.sources.regions import state_codes
from tools.build_observed_tables import DATA_DIR, build_all

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not available")


@pytest.fixture(scope="module")
def shipped() -> ObservedData:
    return load_observed()


@needs_shared
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
    assert observed.regions == sorted(["USA", *state_codes()])
    assert list(observed.policy.columns) == ["region", "week", *POLICY_COLUMNS]
    assert list(observed.mobility.columns) == ["region", "week", *MOBILITY_CATEGORIES]
    assert list(observed.context.columns) == ["region", "week", *CONTEXT_COLUMNS]
    for table in (observed.policy, observed.mobility, observed.context):
        assert table["week"].dtype == "datetime64[ns]"
        assert (table["week"].dt.day_of_week == 0).all()
        assert table["week"].min() >= pd.Timestamp("2020-02-17")
        assert table["week"].max() == pd.Timestamp("2021-04-26")
        assert not table.duplicated(["region", "week"]).any()
    assert len(observed.policy) == len(observed.context) == 52 * 63
    assert len(observed.mobility) == 52 * 62
    assert not observed.policy.isna().any().any()
    assert not observed.context.isna().any().any()


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
    assert policy["stringency_index"].between(0, 100).all()
    context = shipped.context.set_index(["region", "week"])
    assert context.loc[("USA", pd.Timestamp("2020-11-23")), "holiday"] == pytest.approx(1 / 7)
    assert context.loc[("USA", pd.Timestamp("2020-12-21")), "holiday"] == pytest.approx(4 / 7)
    assert context.loc[("USA", pd.Timestamp("2020-12-28")), "holiday"] == pytest.approx(5 / 7)
    before = context.xs(pd.Timestamp("2020-12-07"), level="week")["vaccinated_pct"]
    assert (before == 0).all()
    after = context.xs(pd.Timestamp("2021-04-26"), level="week")["vaccinated_pct"]
    assert after.between(25, 60).all()
    temperature = context["temperature_f"].unstack("region")
    assert (temperature.loc["2020-07-13"] > temperature.loc["2021-01-11"] + 10).all()
    assert temperature["US_DC"].equals(temperature["USA"])
    assert temperature["US_FL"].min() > temperature["US_ND"].max() - 30
    assert context["case_growth"].abs().max() <= 2.0
    winter = context.xs(pd.Timestamp("2021-01-04"), level="week")["new_cases_per_100k"]
    assert winter.between(10, 200).all()


@needs_shared
def test_load_observed_from_raw_directory_matches_shipped(shipped):
    raw = load_observed(SHARED, regions="all")
    for field in ("policy", "mobility", "context"):
        pd.testing.assert_frame_equal(getattr(raw, field), getattr(shipped, field), rtol=1e-5)


@needs_shared
def test_find_raw_files_prefers_consistent_sources():
    files = find_raw_files(SHARED)
    assert [path.name for path in files["mobility"]][:2] == [
        "oi_google_mobility_national_us_daily_7dma.csv",
        "oi_google_mobility_state_us_daily_7dma.csv",
    ]
    assert files["mobility"][-1].name.startswith("owid")
    assert files["cases"][0].name.startswith("nyt_us_states")
    assert len(files["policy"]) == 1


def test_region_selection_and_window(shipped):
    observed = load_observed(regions="CA,new york, US_TX", start="2020-06-01", end="2020-06-29")
    for table in (observed.policy, observed.mobility, observed.context):
        assert sorted(table["region"].unique()) == ["US_CA", "US_NY", "US_TX"]
        assert len(table) == 3 * 5
    assert load_observed(regions="nation").regions == ["USA"]


def test_regions_of():
    assert regions_of(None) == regions_of("all") == ["USA", *state_codes()]
    assert regions_of("nation") == ["USA"]
    assert regions_of("states") == state_codes()
    assert regions_of("CA, Texas,US-NY,CA") == ["US_CA", "US_TX", "US_NY"]
    assert regions_of(["us", "wy"]) == ["USA", "US_WY"]
    assert regions_of("DEU,UK_ENG") == ["DEU", "UK_ENG"]
    with pytest.raises(ValueError, match="unknown region 'Atlantis'"):
        regions_of("Atlantis")


def test_weekly_observed_requires_policy_and_mobility(tmp_path):
    with pytest.raises(DatasetError, match="no raw policy or mobility file"):
        weekly_observed({})
    with pytest.raises(DatasetError, match="no such directory"):
        find_raw_files(tmp_path / "absent")


@needs_shared
def test_weekly_observed_without_context_sources():
    files = find_raw_files(SHARED)
    minimal = {"policy": files["policy"], "mobility": files["mobility"][-1:]}
    observed = weekly_observed(minimal, regions=["USA"])
    context = observed.context
    assert context[["new_cases_per_100k", "vaccinated_pct", "temperature_f"]].isna().all().all()
    assert np.isclose(context["holiday"].sum() * 7, 18)
    assert observed.mobility["week"].min() == pd.Timestamp("2020-02-17")
