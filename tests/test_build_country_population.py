"""The country population tables: what the builders compute from world/population."""

import numpy as np
import pandas as pd
from shared_files import SHARED, needs_shared

from simulator.population.targets import data_table
from tools import build_country_population as build

pytestmark = needs_shared


def test_builders_reproduce_the_shipped_tables(tmp_path):
    written = build.build_all(SHARED, tmp_path)
    assert {path.name for path in written} == set(build.BUILDERS)
    for path in written:
        shipped = pd.read_csv(build.DATA_DIR / path.name, keep_default_na=False, na_values=[""])
        rebuilt = pd.read_csv(path, keep_default_na=False, na_values=[""])
        pd.testing.assert_frame_equal(rebuilt, shipped, rtol=1e-6, check_dtype=False)


def test_age_groups_of_adults_sum_to_the_adult_population():
    ages = data_table("country_age_sex.csv")
    assert tuple(ages["age"].unique()) == build.ADULT_GROUPS
    france = ages[ages["code"] == "FRA"]
    # WPP 2019: about 65.3 million people in France in 2020, about 79% of them adults.
    assert 50_000 < france[["female", "male"]].sum().sum() < 53_000
    assert france.loc[france["age"] == 90, "female"].item() > france.loc[
        france["age"] == 90, "male"].item()
    assert ages["code"].nunique() == 200
    assert "NAM" in set(ages["code"]), "Namibia's ISO code NA is a code, not a missing value"


def test_education_shares_by_age_band():
    education = data_table("country_education.csv").set_index(["code", "age_band"])
    shares = education.to_numpy()
    assert np.allclose(shares.sum(axis=1), 1, atol=1e-4) and (shares >= 0).all()
    korea = education.loc["KOR"]
    assert korea.loc["18-29", "less_than_high_school"] < korea.loc["65+", "less_than_high_school"]
    assert education.index.get_level_values("code").nunique() > 140


def test_urban_shares_and_households():
    urban = data_table("country_urbanicity.csv").set_index("code")
    assert urban.loc["BEL", "urban_share"] > 0.95 and urban.loc["NER", "urban_share"] < 0.2
    assert (urban["year"] <= 2020).all()
    households = data_table("country_households.csv").set_index("code")
    assert households.loc["NER", "mean_size"] > households.loc["FRA", "mean_size"] + 3
    assert households["reference_year"].between(1960, 2021).all()
    assert households["adults_per_person"].between(0.4, 0.95).all()
