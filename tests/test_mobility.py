"""Mobility loaders: Google, Opportunity Insights and OWID layouts."""

import numpy as np
import pandas as pd
import pytest
from shared_files import (
    GOOGLE,
    OI_NATIONAL,
    OI_STATES,
    OWID_MOBILITY,
    WORLD_GOOGLE,
    WORLD_OWID_MOBILITY,
    needs_shared,
)

from simulator.sources import MOBILITY_CATEGORIES, load_mobility


@needs_shared
def test_load_mobility_three_layouts():
    google = load_mobility(GOOGLE)
    assert google.attrs["layout"] == "google" and google.attrs["smoothed"] is False
    assert google["region"].nunique() == 52
    assert list(google.columns) == ["region", "date", *MOBILITY_CATEGORIES]
    oi_national, oi_states = load_mobility(OI_NATIONAL), load_mobility(OI_STATES)
    assert oi_national.attrs["layout"] == "opportunity_insights" and oi_national.attrs["smoothed"]
    assert set(oi_national["region"]) == {"USA"}
    assert oi_states["region"].nunique() == 51
    first = oi_national.iloc[0]
    assert first["date"] == pd.Timestamp("2020-02-24")
    assert first["retail_and_recreation"] == pytest.approx(3.0)
    owid = load_mobility(OWID_MOBILITY)
    assert owid.attrs["layout"] == "owid" and set(owid["region"]) == {"USA"}
    # The OI and OWID series are 7-day trailing means of Google's raw daily values.
    raw = google.set_index(["region", "date"]).groupby(level="region")["workplaces"]
    trailing = raw.transform(lambda series: series.rolling(7).mean()).dropna()
    for smoothed, tolerance in ((oi_states, 1.0), (owid, 0.01)):
        joined = (
            smoothed.set_index(["region", "date"])["workplaces"]
            .to_frame()
            .join(trailing.rename("trailing"), how="inner")
        )
        assert len(joined) > 200
        assert (joined["workplaces"] - joined["trailing"]).abs().median() < tolerance


def test_mobility_upstream_opportunity_insights_layout(tmp_path):
    path = tmp_path / "Google Mobility - State - Daily.csv"
    columns = ",".join(f"gps_{category}" for category in MOBILITY_CATEGORIES)
    path.write_text(
        f"year,month,day,statefips,{columns},gps_away_from_home\n"
        "2020,2,24,6,.0129,.00286,.106,.00714,.0114,.00143,-.0025\n"
        "2020,2,24,11,-.0114,-.0329,.,.00571,-.0143,.00714,-.00492\n"
        "2020,2,24,72,.01,.01,.01,.01,.01,.01,.01\n"
    )
    mobility = load_mobility(path)
    assert mobility["region"].tolist() == ["US_CA", "US_DC"]
    assert mobility.attrs["unmapped"] == ["72.0"]
    assert mobility.loc[0, "parks"] == pytest.approx(10.6)
    assert np.isnan(mobility.loc[1, "parks"])


def test_google_layout_any_country(tmp_path):
    path = tmp_path / "Global_Mobility_Report.csv"
    values = ",".join(f"{c}_percent_change_from_baseline" for c in MOBILITY_CATEGORIES)
    path.write_text(
        "country_region_code,country_region,sub_region_1,sub_region_2,metro_area,iso_3166_2_code,"
        f"census_fips_code,place_id,date,{values}\n"
        "NA,Namibia,,,,,,x,2020-02-15,1,2,3,4,5,6\n"
        "DE,Germany,,,,,,x,2020-02-15,-1,-2,-3,-4,-5,-6\n"
        "DE,Germany,Bavaria,,,DE-BY,,x,2020-02-15,7,8,9,10,11,12\n"
        "DE,Germany,Bavaria,Munich,,,,x,2020-02-15,99,99,99,99,99,99\n"
        "DE,Germany,,,Berlin Metro,,,x,2020-02-15,98,98,98,98,98,98\n"
        "ZZ,Nowhere,,,,,,x,2020-02-15,0,0,0,0,0,0\n"
    )
    mobility = load_mobility(path).set_index("region")
    assert sorted(mobility.index) == ["DEU", "DE_BY", "NAM"]
    assert mobility.loc["DE_BY", "parks"] == 9
    assert mobility.attrs["unmapped"] == ["ZZ"]


@needs_shared
def test_owid_world_file_with_day_first_dates():
    mobility = load_mobility(WORLD_OWID_MOBILITY)
    assert mobility.attrs["layout"] == "owid" and mobility.attrs["smoothed"]
    assert mobility["date"].min() == pd.Timestamp("2020-02-17")
    assert mobility["date"].max() == pd.Timestamp("2021-06-01")
    assert {"FRA", "IND", "NZL", "USA"} <= set(mobility["region"])
    assert mobility["region"].nunique() == 127
    france = mobility[mobility["region"] == "FRA"].set_index("date")
    assert france.loc["2020-04-05", "workplaces"] < -50


def test_owid_aggregates_are_dropped_and_kosovo_kept(tmp_path):
    path = tmp_path / "changes-visitors-covid.csv"
    path.write_text(
        "Entity,Code,Day,retail_and_recreation,grocery_and_pharmacy,residential,"
        "transit_stations,parks,workplaces\n"
        "Kosovo,OWID_KOS,2020-02-17,1,2,3,4,5,6\n"
        "World,OWID_WRL,2020-02-17,1,2,3,4,5,6\n"
        "France,FRA,2020-02-17,-1,-2,-3,-4,-5,-6\n"
    )
    mobility = load_mobility(path).set_index("region")
    assert sorted(mobility.index) == ["FRA", "RKS"]
    assert mobility.loc["FRA", "parks"] == -5
    assert mobility.attrs["unmapped"] == ["World"]


@needs_shared
def test_google_world_file_keeps_namibia():
    mobility = load_mobility(WORLD_GOOGLE)
    assert mobility["region"].nunique() == 130
    assert "NAM" in set(mobility["region"]) and not mobility.attrs["unmapped"]
