"""OxCGRT loaders: classic and v1 layouts, gaps, indices."""

import numpy as np
import pandas as pd
import pytest
from shared_files import INDICES, OXCGRT, needs_shared, to_v1_layout

from simulator.sources import (
    POLICY_INDICATORS,
    DatasetError,
    detect_layout,
    load_oxcgrt,
    load_oxcgrt_indices,
)


def test_load_oxcgrt_classic():
    if not OXCGRT.is_file():
        pytest.skip("shared/data is not available")
    policy = load_oxcgrt(OXCGRT)
    assert policy.attrs["layout"] == "oxcgrt_classic"
    assert policy.attrs["jurisdictions"] == ["NAT_TOTAL", "STATE_TOTAL"]
    assert policy["region"].nunique() == 52
    assert {"USA", "US_CA", "US_DC"} <= set(policy["region"])
    assert policy["date"].dtype == "datetime64[ns]"
    indicators = list(POLICY_INDICATORS.values())
    assert not policy[indicators].isna().any().any()
    assert {"c1_flag", "stringency_index", "confirmed_cases"} <= set(policy.columns)
    california = policy[policy["region"] == "US_CA"].set_index("date")
    assert california.loc["2020-04-15", "c6_stay_at_home_requirements"] >= 2
    assert california.loc["2020-01-05", "c1_school_closing"] == 0


@needs_shared
def test_load_oxcgrt_v1_layout_matches_classic(tmp_path):
    classic = pd.read_csv(OXCGRT, nrows=3000)
    v1 = to_v1_layout(classic)
    v1["C1E_School closing"] = 3.0
    path = tmp_path / "OxCGRT_compact_national_v1.csv"
    v1.to_csv(path, index=False)
    source = tmp_path / "classic.csv"
    classic.to_csv(source, index=False)
    loaded, expected = load_oxcgrt(path), load_oxcgrt(source)
    assert loaded.attrs["layout"] == "oxcgrt_v1"
    assert detect_layout(path).name == "oxcgrt_v1"
    pd.testing.assert_frame_equal(loaded, expected)


def test_oxcgrt_gaps_forward_filled(tmp_path):
    path = tmp_path / "OxCGRT_latest.csv"
    path.write_text(
        "CountryName,CountryCode,RegionName,RegionCode,Jurisdiction,Date,C1_School closing,C1_Flag,"
        "H7_Vaccination policy,StringencyIndex\n"
        "Aland,ALA,,,NAT_TOTAL,20200101,1,0,,10\n"
        "Aland,ALA,,,NAT_TOTAL,20200102,,,,\n"
        "Aland,ALA,,,NAT_TOTAL,20200103,0,,2,5\n"
        "Aland,ALA,,,NAT_TOTAL,20200104,,,,\n"
        "Aland,ALA,North,ALA_N,STATE_GOV,20200101,3,1,,50\n"
        "Aland,ALA,North,ALA_N,STATE_TOTAL,20200101,2,1,,40\n"
        "Aland,ALA,North,ALA_N,STATE_TOTAL,20200102,,,,\n"
    )
    policy = load_oxcgrt(path).set_index(["region", "date"])
    nation = policy.loc["ALA"]
    assert nation["c1_school_closing"].tolist() == [1, 1, 0, 0]
    assert nation["c1_flag"].fillna(-1).tolist() == [0, 0, -1, -1]
    assert nation["h7_vaccination_policy"].tolist() == [0, 0, 2, 2]
    assert nation["stringency_index"].tolist() == [10, 10, 5, 5]
    state = policy.loc["ALA_N"]
    assert state["c1_school_closing"].tolist() == [2, 2]
    assert state["stringency_index"].tolist() == [40, 40]


@needs_shared
def test_load_oxcgrt_indices_long_and_wide(tmp_path):
    long = load_oxcgrt_indices(INDICES)
    assert long.attrs["layout"] == "oxcgrt_indices_long"
    assert long["region"].nunique() == 52
    raw = pd.read_csv(INDICES, nrows=2 * 1096, dtype=str, keep_default_na=False)
    raw["day"] = pd.to_datetime(raw["Date"]).dt.strftime("%d%b%Y")
    ids = ["CountryCode", "CountryName", "RegionCode", "RegionName", "Jurisdiction"]
    wide = raw.pivot(index=ids, columns="day", values="StringencyIndex").reset_index()
    wide.insert(4, "CityCode", "")
    wide.insert(5, "CityName", "")
    path = tmp_path / "OxCGRT_timeseries_StringencyIndex_v1.csv"
    wide.to_csv(path, index=False)
    loaded = load_oxcgrt_indices(path)
    assert loaded.attrs["layout"] == "oxcgrt_timeseries"
    assert list(loaded.columns) == ["region", "date", "stringency_index"]
    merged = loaded.merge(long, on=["region", "date"], suffixes=("", "_long"))
    assert len(merged) == len(loaded)
    np.testing.assert_allclose(merged["stringency_index"], merged["stringency_index_long"])
    renamed = tmp_path / "indices.csv"
    path.rename(renamed)
    with pytest.raises(DatasetError, match="index is unknown"):
        load_oxcgrt_indices(renamed)
    assert load_oxcgrt_indices(renamed, index="StringencyIndex")["stringency_index"].notna().all()
