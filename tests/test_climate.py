"""Climate loaders: NOAA US states and CRU countries."""

import pytest
from shared_files import CLIMATE, CRU_NORMALS, CRU_SERIES, needs_shared

from simulator.sources import load_monthly_temperatures


@needs_shared
def test_load_monthly_temperatures():
    temperatures = load_monthly_temperatures(CLIMATE)
    assert temperatures["region"].nunique() == 51
    table = temperatures.pivot(index="region", columns="month", values="temperature_f")
    assert table.loc[["US_DC", "US_HI"]].isna().all().all()
    assert (table.loc["US_FL"] > table.loc["US_ND"]).all()
    assert table.loc["US_MN", 7] > table.loc["US_MN", 1] + 40


@needs_shared
def test_cru_normals_and_series_agree():
    normals, series = load_monthly_temperatures(CRU_NORMALS), load_monthly_temperatures(CRU_SERIES)
    assert normals.attrs["layout"] == "cru_normals" and series.attrs["layout"] == "cru_series"
    assert "Actaeon_Group" in normals.attrs["unmapped"]
    joined = normals.merge(series, on=["region", "month"], suffixes=("_normals", "_series"))
    assert joined["region"].nunique() > 190
    difference = (joined["temperature_f_normals"] - joined["temperature_f_series"]).abs()
    assert difference.max() < 0.1  # the normals are rounded to 0.01 degrees C
    table = normals.pivot(index="region", columns="month", values="temperature_f")
    assert table.loc["NZL", 1] > table.loc["NZL", 7] + 10  # the southern summer is in January
    assert table.loc["FRA", 7] > table.loc["FRA", 1] + 20
    assert 77 < table.loc["IND", 5] < 95
    assert {"GBR", "RKS", "SLB"} <= set(table.index)


def test_cru_series_keeps_the_normal_period_and_missing_values(tmp_path):
    path = tmp_path / "crucy.csv"
    months = ",".join(month.upper() for month in
                      ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                       "Nov", "Dec"))
    path.write_text(
        f"country,YEAR,{months},ANN\n"
        "New_Zealand,1990,30,30,30,30,30,30,30,30,30,30,30,30,30\n"
        "New_Zealand,1991,10,10,10,10,10,10,10,10,10,10,10,10,10\n"
        "New_Zealand,2020,20,20,20,20,20,20,20,20,20,20,20,-999.0,20\n"
    )
    table = load_monthly_temperatures(path).set_index("month")["temperature_f"]
    assert table[1] == pytest.approx(15 * 9 / 5 + 32)
    assert table[12] == pytest.approx(50.0)
