"""Layout detection from header lines."""

from shared_files import (
    CLIMATE,
    CRU_NORMALS,
    CRU_SERIES,
    GOOGLE,
    INDICES,
    JHU_CASES,
    JHU_DEATHS,
    NYT_NATIONAL,
    NYT_STATES,
    OI_CASES,
    OI_STATES,
    OWID_MOBILITY,
    OXCGRT,
    SHARED,
    VACCINATIONS,
    WORLD,
    WORLD_GOOGLE,
    WORLD_OWID_MOBILITY,
    WORLD_OXCGRT,
    WORLD_VACCINATIONS,
    needs_shared,
)

from simulator.sources import detect_layout


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
        WORLD_OXCGRT: "oxcgrt_classic",
        WORLD_GOOGLE: "google",
        WORLD_OWID_MOBILITY: "owid",
        JHU_CASES: "oxcgrt_timeseries_cases",
        JHU_DEATHS: "oxcgrt_timeseries_cases",
        WORLD_VACCINATIONS: "owid_vaccinations",
        CRU_NORMALS: "cru_normals",
        CRU_SERIES: "cru_series",
    }
    for path, name in expected.items():
        assert detect_layout(path).name == name
    assert detect_layout(SHARED / "population" / "oi_geoids_state_pop2019.csv") is None
    for other in ("epi/owid_country_metadata.csv", "population/BL_v3_MF.csv",
                  "epi/covid-vaccination-doses-per-capita_intl.csv",
                  "population/WPP2019_popF_5yr_age_1950-2020.csv"):
        assert detect_layout(WORLD / other) is None, other
