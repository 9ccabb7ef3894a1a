"""Paths of the shared raw data files the data-layer tests read, and a v1 OxCGRT converter."""

from pathlib import Path

import pandas as pd
import pytest

from simulator.sources import POLICY_INDICATORS

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

WORLD = SHARED / "world"
WORLD_OXCGRT = WORLD / "policy" / "OxCGRT_latest_layout_national_intl_2020-2022.csv"
WORLD_GOOGLE = WORLD / "mobility" / "Global_Mobility_Report_layout_national_intl_2020.csv"
WORLD_OWID_MOBILITY = WORLD / "mobility" / "changes-visitors-covid_intl.csv"
JHU_CASES = WORLD / "epi" / "oxcgrt_timeseries_confirmed_cases_intl_2020-2022.csv"
JHU_DEATHS = WORLD / "epi" / "oxcgrt_timeseries_confirmed_deaths_intl_2020-2022.csv"
WORLD_VACCINATIONS = WORLD / "epi" / "share-people-vaccinated-covid_intl.csv"
CRU_NORMALS = WORLD / "climate" / "crucy_v4.07_tmp_normals_1991-2020_DERIVED.csv"
CRU_SERIES = WORLD / "climate" / "crucy_v4.07_tmp_monthly_country_1991-2022.csv"

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
