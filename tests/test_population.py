import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.population import Population, PopulationError
from simulator.population.psychographics import TRAITS
from simulator.population.synthesis import ESSENTIAL_SHARE_BY_EDUCATION
from simulator.population.targets import data_table
from simulator.sources.regions import region_table, state_codes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CITY = ROOT / "scenarios" / "populations" / "example_city.yaml"
SHARED = ROOT.parent / "shared" / "data"

DTYPES = {
    "age": np.int16,
    "age_band": np.int8,
    "sex": np.int8,
    "race": np.int8,
    "education": np.int8,
    "income": np.float32,
    "income_band": np.int8,
    "employment": np.int8,
    "essential_worker": np.bool_,
    "household_id": np.int32,
    "household_size": np.int8,
    "urbanicity": np.int8,
    "state": np.int8,
    "disability": np.bool_,
    **dict.fromkeys(TRAITS, np.float32),
    "party_id": np.int8,
    "party": np.int8,
    "trust_government": np.float32,
    "trust_science": np.float32,
    "risk_tolerance": np.float32,
    "perceived_vulnerability": np.float32,
    "conformity": np.float32,
}


@cache
def population(region, size=50_000, seed=7):
    return Population.synthesize(region, size, np.random.default_rng(seed))


def share(pop, column, label):
    return np.mean(pop.labels(column) == label)


def two_party_republican(pop):
    party = pop.labels("party")
    return np.sum(party == "republican") / np.sum(party != "independent")


def test_columns_have_the_documented_names_dtypes_and_ranges():
    pop = population("US_OH", 5_000)
    assert len(pop) == 5_000
    assert set(pop.columns) == set(DTYPES)
    assert set(Population.CATEGORIES) == {
        "age_band",
        "sex",
        "race",
        "education",
        "income_band",
        "employment",
        "urbanicity",
        "party",
    }
    for name, dtype in DTYPES.items():
        assert pop[name].dtype == dtype, name
        assert pop[name].shape == (5_000,)
    for name, labels in Population.CATEGORIES.items():
        assert pop[name].min() >= 0 and pop[name].max() < len(labels), name
    assert pop["age"].min() >= 18 and pop["age"].max() <= 90
    assert np.all(pop["party"] == np.sign(pop["party_id"] - 4) + 1)
    assert pop["party_id"].min() >= 1 and pop["party_id"].max() <= 7
    for name in (
        "trust_government",
        "trust_science",
        "risk_tolerance",
        "perceived_vulnerability",
        "conformity",
    ):
        assert 0 <= pop[name].min() and pop[name].max() <= 1, name
    assert np.all(pop["state"] == state_codes().index("US_OH"))
    assert pop.region == "US_OH"


def test_age_band_income_band_and_essential_work_are_consistent():
    pop = population("USA")
    bands = np.searchsorted([18, 30, 45, 65], pop["age"], side="right") - 1
    assert np.array_equal(bands, pop["age_band"])
    median = (
        data_table("state_marginals.csv").set_index("code").loc["USA", "median_household_income"]
    )
    low, high = pop["income"] < median * 2 / 3, pop["income"] >= median * 2
    band = pop.labels("income_band")
    assert np.all(low[band == "low"]) and np.all(high[band == "high"])
    assert not np.any((low | high)[band == "middle"])
    employed = pop.labels("employment") == "employed"
    assert not np.any(pop["essential_worker"][~employed])
    essential = pop["essential_worker"][employed].mean()
    assert abs(essential - 0.63) < 0.02
    by_education = [
        pop["essential_worker"][employed & (pop["education"] == k)].mean() for k in range(4)
    ]
    assert np.allclose(by_education, ESSENTIAL_SHARE_BY_EDUCATION, atol=0.03)


def test_same_rng_state_gives_the_same_population_and_another_seed_does_not():
    first = Population.synthesize("US_VT", 3_000, np.random.default_rng(11))
    again = Population.synthesize("US_VT", 3_000, np.random.default_rng(11))
    other = Population.synthesize("US_VT", 3_000, np.random.default_rng(12))
    for name in first.columns:
        assert np.array_equal(first[name], again[name]), name
    assert not np.array_equal(first["income"], other["income"])


@pytest.mark.parametrize("region", ["USA", "US_CA", "US_WY", "US_MS"])
def test_summary_matches_targets_within_two_points_at_50k(region):
    pop = population(region)
    summary = pop.summary()
    assert list(summary.columns) == ["attribute", "category", "target", "synthetic", "abs_error"]
    expected = {
        "age_band",
        "sex",
        "race",
        "education",
        "employment",
        "income_band",
        "urbanicity",
        "disability",
        "household_size",
        "party",
    }
    assert expected <= set(summary["attribute"])
    assert ("state" in set(summary["attribute"])) == (region == "USA")
    for _, group in summary.groupby("attribute"):
        assert group["target"].sum() == pytest.approx(1, abs=1e-6)
        assert group["synthetic"].sum() == pytest.approx(1, abs=1e-6)
    assert pop.max_abs_error == summary["abs_error"].max()
    assert pop.max_abs_error < 0.02


def test_state_targets_come_from_the_shipped_state_table():
    states = data_table("state_marginals.csv").set_index("code")
    pop = population("US_MA")
    summary = pop.summary().set_index(["attribute", "category"])["target"]
    for label in Population.CATEGORIES["education"]:
        assert summary["education", label] == pytest.approx(
            states.loc["US_MA", f"education.{label}"], abs=1e-5
        )
    assert two_party_republican(pop) == pytest.approx(
        states.loc["US_MA", "republican_share"], abs=0.01
    )


def test_state_differences_show_up_alone_and_within_the_nation():
    assert (
        share(population("US_MA"), "education", "bachelor_or_higher")
        > share(population("US_WV"), "education", "bachelor_or_higher") + 0.15
    )
    assert (
        two_party_republican(population("US_WY")) > two_party_republican(population("US_VT")) + 0.3
    )
    nation = population("USA")
    frame = nation.to_frame()
    by_state = frame.groupby("state", observed=True)
    degree = by_state["education"].apply(lambda s: np.mean(s == "bachelor_or_higher"))
    assert degree["US_MA"] > degree["US_WV"] + 0.1
    median = by_state["income"].median()
    assert median["US_MD"] > median["US_MS"] * 1.4


def test_nation_spreads_agents_over_states_by_population():
    nation = population("USA")
    counts = np.bincount(nation["state"], minlength=len(state_codes())) / len(nation)
    table = region_table()
    expected = table.loc[state_codes(), "population"].to_numpy(float)
    assert np.allclose(counts, expected / expected.sum(), atol=2e-4)


def test_households_group_adults_living_together():
    pop = population("USA")
    household = pop["household_id"]
    assert np.all(np.diff(household) >= 0), "members of a household are adjacent"
    frame = pd.DataFrame(
        {name: pop[name] for name in ("household_id", "household_size", "state", "income", "age")}
    )
    groups = frame.groupby("household_id")
    assert groups.ngroups == household.max() + 1
    assert (groups["state"].nunique() == 1).all()
    assert (groups["household_size"].nunique() == 1).all()
    assert (groups["household_size"].first() >= groups.size()).all()
    assert (groups["income"].nunique() == 1).mean() > 0.99
    multi = groups.filter(lambda g: len(g) > 1).groupby("household_id")["age"]
    assert (multi.max() - multi.min()).median() < 12
    sizes = pop.summary().query("attribute == 'household_size'")
    assert sizes["abs_error"].max() < 0.01


def test_traits_are_us_norm_z_scores_correlated_as_in_the_norm_sample():
    pop = population("USA")
    traits = np.column_stack([pop[t] for t in TRAITS]).astype(float)
    assert np.allclose(traits.mean(axis=0), 0, atol=0.03)
    assert np.allclose(traits.std(axis=0), 1, atol=0.03)
    covariance = (
        data_table("big_five_residual_covariance.csv")
        .set_index("trait")
        .loc[list(TRAITS), list(TRAITS)]
        .to_numpy()
    )
    sd = np.sqrt(np.diag(covariance))
    residual_corr = covariance / np.outer(sd, sd)
    young_women_graduates = (
        (pop.labels("sex") == "female")
        & (pop["age"] == 30)
        & (pop.labels("education") == "bachelor_or_higher")
    )
    assert young_women_graduates.sum() > 100
    within = np.corrcoef(traits[young_women_graduates].T)
    assert np.allclose(within, residual_corr, atol=0.15)
    overall = np.corrcoef(traits.T)
    e, a, c, n = (
        TRAITS.index(t)
        for t in ("extraversion", "agreeableness", "conscientiousness", "neuroticism")
    )
    assert overall[e, a] > 0.3 and overall[c, n] < -0.15
    older = pop["age"] >= 65
    assert traits[older, a].mean() > traits[~older, a].mean()
    assert traits[older, n].mean() < traits[~older, n].mean()


def test_psychographics_follow_demographics():
    pop = population("USA")
    old = pop.labels("age_band") == "65+"
    young = pop.labels("age_band") == "18-29"
    assert pop["perceived_vulnerability"][old].mean() > pop["perceived_vulnerability"][young].mean()
    assert pop["risk_tolerance"][old].mean() < pop["risk_tolerance"][young].mean()
    party = pop.labels("party")
    assert (
        pop["trust_science"][party == "democrat"].mean()
        > pop["trust_science"][party == "republican"].mean()
    )
    race = pop.labels("race")
    assert np.mean(party[race == "black"] == "democrat") > 0.7


def test_labels_and_frame_decode_categoricals():
    pop = population("US_OH", 5_000)
    frame = pop.to_frame()
    assert len(frame) == len(pop) and list(frame.columns) == list(pop.columns)
    for name, labels in Population.CATEGORIES.items():
        assert list(frame[name].cat.categories) == list(labels)
        assert np.array_equal(frame[name].astype(str).to_numpy(), pop.labels(name))
    assert set(pop.labels("state")) == {"US_OH"}
    assert set(frame["state"].astype(str)) == {"US_OH"}
    with pytest.raises(KeyError, match="not categorical"):
        pop.labels("income")
    with pytest.raises(KeyError, match="no column"):
        pop["shoe_size"]
    with pytest.raises(ValueError):
        pop["age"][0] = 30


def test_example_city_marginals_are_matched():
    pop = Population.synthesize("US_IL", 30_000, np.random.default_rng(3), marginals=EXAMPLE_CITY)
    summary = pop.summary().set_index(["attribute", "category"])
    assert summary.loc[("race", "black"), "target"] == pytest.approx(0.29)
    assert summary.loc[("urbanicity", "rural"), "synthetic"] == 0
    assert summary.loc[("household_size", "6+"), "target"] == pytest.approx(0.06)
    assert pop.max_abs_error < 0.02
    assert two_party_republican(pop) == pytest.approx(0.22, abs=0.02)
    assert np.median(pop["income"]) == pytest.approx(58_000, rel=0.05)
    assert set(pop.labels("state")) == {"US_IL"}
    sex = summary.loc[("sex", "female"), "target"]
    assert sex == pytest.approx(
        population("US_IL")
        .summary()
        .set_index(["attribute", "category"])
        .loc[("sex", "female"), "target"],
        abs=0.01,
    )


def test_marginals_based_on_the_nation_belong_to_no_state(tmp_path):
    path = tmp_path / "country.yaml"
    path.write_text("name: Elsewhere\nshares:\n  sex: {female: 0.5, male: 0.5}\n")
    pop = Population.synthesize("USA", 2_000, np.random.default_rng(0), marginals=path)
    assert np.all(pop["state"] == -1)
    assert set(pop.labels("state")) == {""}
    assert pop.to_frame()["state"].isna().all()
    assert "state" not in set(pop.summary()["attribute"])


BAD_MARGINALS = [
    ("shares:\n  sex: {female: 0.5, male: 0.5}\n", "'name' is required"),
    ("name: X\nshare: {}\n", "unknown field 'share'; allowed: name, description, shares"),
    (
        "name: X\nshares:\n  religion: {none: 1.0}\n",
        "unknown field 'shares.religion'; allowed attributes: age_band, sex, race",
    ),
    (
        "name: X\nshares:\n  race: {white: 0.5, black: 0.2, latino: 0.2, asian: 0.1, other: 0}\n",
        "field 'shares.race' has unknown ['latino'] categories; allowed: white, black, hispanic",
    ),
    (
        "name: X\nshares:\n  sex: {female: 1.0}\n",
        "field 'shares.sex' has missing ['male'] categories; allowed: female, male",
    ),
    (
        "name: X\nshares:\n  sex: {female: 0.5, male: 0.3}\n",
        "field 'shares.sex' shares sum to 0.8000; they must sum to 1",
    ),
    (
        "name: X\nshares:\n  sex: {female: half, male: 0.5}\n",
        "field 'shares.sex.female' must be a number in [0, 1]",
    ),
    (
        "name: X\nmedian_household_income: -5\n",
        "field 'median_household_income' must be a number in",
    ),
    ("name: X\nrepublican_vote_share: 1.5\n", "field 'republican_vote_share' must be a number in"),
    ("name: X\nshares: [1, 2]\n", "field 'shares' must map attributes"),
    ("name: X\nshares:\n  sex: [0.5, 0.5]\n", "field 'shares.sex' must map each of female, male"),
    ("name: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
]


@pytest.mark.parametrize(("text", "message"), BAD_MARGINALS)
def test_bad_marginals_raise_a_clear_error_naming_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad_city.yaml"
    path.write_text(text)
    with pytest.raises(PopulationError, match=re.escape(message)) as error:
        Population.synthesize("US_IL", 100, np.random.default_rng(0), marginals=path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_missing_marginals_file_bad_size_and_unknown_region_are_refused(tmp_path):
    with pytest.raises(PopulationError, match="cannot read marginals file"):
        Population.synthesize(
            "USA", 10, np.random.default_rng(0), marginals=tmp_path / "absent.yaml"
        )
    for size in (0, -5, 2.5, True):
        with pytest.raises(PopulationError, match="positive integer"):
            Population.synthesize("USA", size, np.random.default_rng(0))
    with pytest.raises(KeyError, match="unknown region"):
        Population.synthesize("Atlantis", 10, np.random.default_rng(0))


def test_regions_accept_aliases():
    pop = Population.synthesize("vermont", 200, np.random.default_rng(0))
    assert pop.region == "US_VT"
    assert len(Population.synthesize("US", 1, np.random.default_rng(0))) == 1


US_ONLY = {"race", "income", "income_band", "employment", "essential_worker", "state",
           "disability", "party_id", "party", "trust_government"}


@pytest.mark.parametrize("region", ["FRA", "IND", "NZL"])
def test_a_country_records_only_what_its_sources_give(region):
    pop = population(region, 20_000)
    assert not US_ONLY & set(pop.columns)
    assert {"age", "age_band", "sex", "education", "urbanicity", "household_size",
            "household_id", *TRAITS, "trust_science", "risk_tolerance",
            "perceived_vulnerability", "conformity"} == set(pop.columns)
    for name in pop.columns:
        assert pop[name].dtype == DTYPES[name], name
    summary = pop.summary()
    assert set(summary["attribute"]) == {"age_band", "sex", "education", "urbanicity",
                                         "household_size"}
    assert pop.max_abs_error < 0.01
    assert share(pop, "urbanicity", "suburban") == 0
    with pytest.raises(KeyError, match=rf"no column 'party' \(not recorded for {region}\)"):
        pop["party"]
    assert "race" not in pop.to_frame().columns


def test_countries_differ_as_their_figures_do():
    france, india = population("FRA", 20_000), population("IND", 20_000)
    assert np.median(france["age"]) > np.median(india["age"]) + 5
    assert france["household_size"].mean() < india["household_size"].mean() - 1
    degree = "bachelor_or_higher"
    assert share(france, "education", degree) > share(india, "education", degree)
    assert share(india, "urbanicity", "rural") > share(france, "urbanicity", "rural") + 0.3


def test_a_country_without_education_figures_has_no_education_column():
    nigeria = population("NGA", 5_000)
    assert "education" not in nigeria.columns and "household_size" in nigeria.columns


def test_a_marginals_file_gives_what_a_country_lacks(tmp_path):
    path = tmp_path / "kosovo.yaml"
    path.write_text(
        "name: Kosovo\nshares:\n  age_band: {'18-29': 0.3, '30-44': 0.3, '45-64': 0.27, "
        "'65+': 0.13}\n  sex: {female: 0.5, male: 0.5}\n  employment: {employed: 0.3, "
        "unemployed: 0.1, not_in_labor_force: 0.6}\n")
    with pytest.raises(PopulationError, match="no population data for RKS"):
        Population.synthesize("Kosovo", 100, np.random.default_rng(0))
    pop = Population.synthesize("Kosovo", 10_000, np.random.default_rng(0), marginals=path)
    assert {"age_band", "sex", "employment"} <= set(pop.columns)
    assert not {"education", "essential_worker", "household_size"} & set(pop.columns)
    assert share(pop, "employment", "employed") == pytest.approx(0.3, abs=0.01)
    assert len(np.unique(pop["household_id"])) == len(pop), "no household figures: alone"
