from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.sources import (
    MOBILITY_CATEGORIES,
    POLICY_INDICATORS,
    DatasetError,
    detect_layout,
    load_cases,
    load_mobility,
    load_monthly_temperatures,
    load_oxcgrt,
    load_oxcgrt_indices,
    load_vaccinations,
    to_weekly,
)

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
OXCGRT = (
    SHARED
    / "policy"
    / "OxCGRT_latest_layout_US_national_2020-2022_states_2020-01-01_2021-04-28.csv"
)
INDICES = (
    SHARED / "policy" / "oxcgrt_v1_indices_daily_us_national_and_states_2020-01-01_2022-12-31.csv"
)
GOOGLE = SHARED / "mobility" / "Global_Mobility_Report_layout_US_2020-02-15_2020-12-07.csv"
OI_NATIONAL = SHARED / "mobility" / "oi_google_mobility_national_us_daily_7dma.csv"
OI_STATES = SHARED / "mobility" / "oi_google_mobility_state_us_daily_7dma.csv"
OWID_MOBILITY = (
    SHARED / "mobility" / "owid_changes_visitors_covid_layout_US_2020-02-17_2021-06-01.csv"
)
NYT_STATES = SHARED / "epi" / "nyt_us_states_cumulative_cases_deaths_2020-01-21_2023-03-23.csv"
NYT_NATIONAL = SHARED / "epi" / "nyt_us_national_cumulative_cases_deaths_DERIVED_sum_of_states.csv"
OI_CASES = SHARED / "epi" / "oi_us_national_covid_daily_cases_deaths_tests_vaccines.csv"
VACCINATIONS = SHARED / "epi" / "owid_us_state_vaccinations_2020-12-20_2022-04-27.csv"
CLIMATE = SHARED / "population" / "us_states_demographics_2018_jieyingwu_states_only.csv"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not available")

V1_SUFFIX = {"C8": "EV", "E1": "", "E2": "", "H1": "", "H2": "", "H3": "", "H7": ""}


def to_v1_layout(classic: pd.DataFrame) -> pd.DataFrame:
    """Rename a classic OxCGRT frame to the v1 (2023) column names: C1M_, C8EV_, *_Average."""
    renames = {}
    for column in classic.columns:
        code, _, label = column.partition("_")
        if code in POLICY_INDICATORS:
            renames[column] = f"{code}{V1_SUFFIX.get(code, 'M')}_{label}"
    for index in ("StringencyIndex", "GovernmentResponseIndex", "ContainmentHealthIndex"):
        renames[index] = f"{index}_Average"
    v1 = classic.rename(columns=renames)
    v1["StringencyIndex_Average_ForDisplay"] = v1["StringencyIndex_Average"]
    v1["EconomicSupportIndex_ForDisplay"] = v1["EconomicSupportIndex"]
    return v1


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
def test_load_cases_layouts():
    states = load_cases(NYT_STATES)
    assert states.attrs["layout"] == "nyt_states"
    assert states["region"].nunique() == 51
    assert "Puerto Rico" in states.attrs["unmapped"]
    assert (states["new_cases"] >= 0).all()
    california = states[states["region"] == "US_CA"].set_index("date")
    assert california.loc["2020-12-01":"2020-12-31", "new_cases_per_100k"].mean() > 50
    assert california["new_cases"].iloc[0] == california["cases"].iloc[0]
    nation = load_cases(NYT_NATIONAL)
    assert set(nation["region"]) == {"USA"}
    oi = load_cases(OI_CASES)
    assert oi.attrs["layout"] == "opportunity_insights_cases"
    assert oi.attrs["smoothed"] and not nation.attrs["smoothed"]
    joined = nation.merge(oi, on=["region", "date"], suffixes=("_nyt", "_oi"))
    # OI's cumulative counts are 7-day averages: they lag NYT's in the spring 2020 surge.
    later = joined[joined["date"].between("2020-06-01", "2021-04-30")]
    assert (later["cases_oi"] / later["cases_nyt"]).between(0.9, 1.05).all()


@needs_shared
def test_load_vaccinations():
    vaccinations = load_vaccinations(VACCINATIONS)
    assert vaccinations["region"].nunique() == 52
    assert "Guam" in vaccinations.attrs["unmapped"]
    nation = vaccinations[vaccinations["region"] == "USA"].set_index("date")
    assert nation.index.to_series().diff().dropna().eq(pd.Timedelta(days=1)).all()
    assert nation["people_vaccinated_per_hundred"].is_monotonic_increasing
    assert 35 < nation.loc["2021-04-28", "people_vaccinated_per_hundred"] < 50


@needs_shared
def test_load_monthly_temperatures():
    temperatures = load_monthly_temperatures(CLIMATE)
    assert temperatures["region"].nunique() == 51
    table = temperatures.pivot(index="region", columns="month", values="temperature_f")
    assert table.loc[["US_DC", "US_HI"]].isna().all().all()
    assert (table.loc["US_FL"] > table.loc["US_ND"]).all()
    assert table.loc["US_MN", 7] > table.loc["US_MN", 1] + 40


@needs_shared
def test_detect_layout_on_shared_files():
    expected = {
        OXCGRT: "oxcgrt_classic",
        INDICES: "oxcgrt_indices",
        GOOGLE: "google",
        OI_STATES: "opportunity_insights",
        OWID_MOBILITY: "owid",
        NYT_STATES: "nyt_states",
        NYT_NATIONAL: "nyt_national",
        OI_CASES: "opportunity_insights_cases",
        VACCINATIONS: "owid_vaccinations",
        CLIMATE: "jieyingwu_climate",
    }
    for path, name in expected.items():
        assert detect_layout(path).name == name
    assert detect_layout(SHARED / "population" / "oi_geoids_state_pop2019.csv") is None


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


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


CORRUPTIBLE = [
    (load_oxcgrt, OXCGRT, "Date"),
    (load_mobility, GOOGLE, "date"),
    (load_mobility, OI_STATES, "date"),
    (load_cases, NYT_STATES, "date"),
    (load_vaccinations, VACCINATIONS, "date"),
]


def _copy_head(source: Path, target: Path, rows: int = 400) -> list[str]:
    lines = _lines(source)[: rows + 1]
    target.write_text("".join(lines))
    return lines


@needs_shared
@pytest.mark.parametrize(("loader", "source", "date_column"), CORRUPTIBLE)
def test_corrupted_files_raise_clear_errors(tmp_path, loader, source, date_column):
    head = _copy_head(source, tmp_path / "good.csv")
    assert len(loader(tmp_path / "good.csv")) > 0

    frame = pd.read_csv(tmp_path / "good.csv", dtype=str, keep_default_na=False)
    missing = tmp_path / "missing_column.csv"
    frame.drop(columns=date_column).to_csv(missing, index=False)
    with pytest.raises(
        DatasetError, match=rf"missing_column\.csv.*missing column.*'{date_column}'.*expected"
    ):
        loader(missing)

    truncated = tmp_path / "truncated.csv"
    truncated.write_text("".join(head[:-1]) + head[-1][: len(head[-1]) // 3])
    with pytest.raises(DatasetError, match=r"truncated\.csv: truncated file"):
        loader(truncated)

    garbage = tmp_path / "garbage_date.csv"
    bad = frame.copy()
    bad.loc[5, date_column] = "31/02/2020x"
    bad.to_csv(garbage, index=False)
    with pytest.raises(
        DatasetError, match=r"garbage_date\.csv.*unparsable dates.*31/02/2020x.*line"
    ):
        loader(garbage)

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match=r"empty\.csv: empty file"):
        loader(empty)

    header_only = tmp_path / "header_only.csv"
    header_only.write_text(head[0])
    with pytest.raises(DatasetError, match=r"header_only\.csv: no data rows"):
        loader(header_only)


@needs_shared
@pytest.mark.parametrize(
    ("loader", "source", "column"),
    [
        (load_oxcgrt, OXCGRT, "C1_School closing"),
        (load_oxcgrt, OXCGRT, "StringencyIndex"),
        (load_mobility, GOOGLE, "parks_percent_change_from_baseline"),
        (load_mobility, OI_NATIONAL, "gps_workplaces"),
        (load_cases, NYT_STATES, "cases"),
    ],
)
def test_non_numeric_values_raise(tmp_path, loader, source, column):
    _copy_head(source, tmp_path / "good.csv")
    frame = pd.read_csv(tmp_path / "good.csv", dtype=str, keep_default_na=False)
    frame.loc[7, column] = "high"
    path = tmp_path / "non_numeric.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(
        DatasetError, match=rf"non_numeric\.csv: column '{column}' has non-numeric.*'high'.*line"
    ):
        loader(path)


def test_unknown_layouts_and_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_oxcgrt(tmp_path / "absent.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="not a known mobility layout"):
        load_mobility(other)
    with pytest.raises(DatasetError, match=r"missing column\(s\) 'CountryCode', 'Date'"):
        load_oxcgrt(other)
    duplicate = tmp_path / "us.csv"
    duplicate.write_text("date,cases,deaths\n2020-03-01,1,0\n2020-03-01,2,0\n")
    with pytest.raises(DatasetError, match="duplicate rows for region USA on 2020-03-01"):
        load_cases(duplicate)
