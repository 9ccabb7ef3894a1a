"""Case, death and vaccination loaders."""

import pandas as pd
import pytest
from shared_files import (
    JHU_CASES,
    JHU_DEATHS,
    NYT_NATIONAL,
    NYT_STATES,
    OI_CASES,
    VACCINATIONS,
    WORLD_VACCINATIONS,
    needs_shared,
)

from simulator.sources import DatasetError, load_cases, load_vaccinations


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
def test_jhu_counts_of_every_country_one_measure_per_file(tmp_path):
    cases, deaths = load_cases(JHU_CASES), load_cases(JHU_DEATHS)
    assert cases.attrs["layout"] == deaths.attrs["layout"] == "oxcgrt_timeseries_cases"
    assert "deaths" not in cases and "cases" not in deaths
    assert {"new_cases_per_100k", "new_cases"} <= set(cases.columns)
    assert {"new_deaths_per_100k", "new_deaths"} <= set(deaths.columns)
    assert cases["region"].nunique() > 170 and "RKS" in set(cases["region"])
    france = cases[cases["region"] == "FRA"].set_index("date")
    assert 40 < france.loc["2020-11-01":"2020-11-14", "new_cases_per_100k"].mean() < 150
    assert (cases["new_cases"] >= 0).all()
    renamed = tmp_path / "counts.csv"
    renamed.write_bytes(JHU_CASES.read_bytes())
    with pytest.raises(DatasetError, match="neither cases nor deaths.*confirmed_cases.csv"):
        load_cases(renamed)


@needs_shared
def test_owid_grapher_vaccinations_of_every_country():
    vaccinations = load_vaccinations(WORLD_VACCINATIONS)
    assert list(vaccinations.columns) == ["region", "date", "people_vaccinated_per_hundred"]
    assert "RKS" in set(vaccinations["region"])
    assert "OWID_CYN" in vaccinations.attrs["unmapped"]  # Northern Cyprus
    france = vaccinations[vaccinations["region"] == "FRA"].set_index("date")
    assert france.index.min() < pd.Timestamp("2021-01-01")
    assert 15 < france.loc["2021-04-26", "people_vaccinated_per_hundred"] < 30
