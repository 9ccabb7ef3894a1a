import numpy as np
import pytest
from scipy.special import expit

from simulator.population import psychographics
from simulator.population.psychographics import TRAITS, PartyModel
from simulator.population.targets import CATEGORIES, data_table

N = 200_000


def rng(seed=0):
    return np.random.default_rng(seed)


def fixed(value, n=N):
    return np.full(n, value, dtype=np.int8)


def test_big_five_design_columns():
    design = psychographics.big_five_design(
        np.array([18.0, 45.0, 95.0]), np.array([True, False, True]), np.array([0, 2, 3])
    )
    assert design.shape == (3, len(psychographics.BIG_FIVE_TERMS))
    assert np.allclose(design[:, 0], 1)
    assert np.allclose(design[:, 1], [-2.7, 0.0, 2.5])  # age clipped to the norm sample's 70
    assert np.array_equal(design[:, 2], [1, 0, 1])
    assert np.array_equal(design[:, 3:], [[0, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_big_five_conditional_mean_and_covariance_match_the_norm_tables():
    age = np.full(N, 52.0)
    traits = psychographics.big_five(age, fixed(1), fixed(3), rng())
    assert traits.dtype == np.float32 and traits.shape == (N, 5)
    coefficients = data_table("big_five_coefficients.csv").set_index("term")[list(TRAITS)]
    expected = psychographics.big_five_design(age[:1], np.array([1]), np.array([3])) @ coefficients
    assert np.allclose(traits.mean(axis=0), expected.to_numpy()[0], atol=0.01)
    covariance = data_table("big_five_residual_covariance.csv").set_index("trait")
    assert np.allclose(np.cov(traits.T), covariance.loc[list(TRAITS), list(TRAITS)], atol=0.02)


def test_big_five_is_reproducible():
    args = (np.full(10, 30.0), fixed(0, 10), fixed(1, 10))
    assert np.array_equal(
        psychographics.big_five(*args, rng(4)), psychographics.big_five(*args, rng(4))
    )


def test_norm_model_keeps_the_known_age_and_sex_gradients():
    coefficients = data_table("big_five_coefficients.csv").set_index("term")
    age = coefficients.loc["age_decades"]
    assert age["agreeableness"] > 0 and age["conscientiousness"] > 0 and age["neuroticism"] < 0
    assert coefficients.loc["male", "neuroticism"] < 0
    assert coefficients.loc["education.bachelor_or_higher", "openness"] > 0


def test_party_model_loads_effects_in_category_order():
    model = PartyModel.load()
    assert set(model.effects) == set(PartyModel.ATTRIBUTES)
    for name, effects in model.effects.items():
        assert len(effects) == len(CATEGORIES[name]) and effects[0] == 0
    race = model.effects["race"]
    assert race[CATEGORIES["race"].index("asian")] == race[CATEGORIES["race"].index("other")]
    assert race[CATEGORIES["race"].index("black")] < -1
    assert np.all(np.diff(model.cutpoints) > 0) and len(model.cutpoints) == 6


def test_party_draws_follow_the_ordered_logit():
    model = PartyModel.load()
    lean = np.full(N, 0.3)
    party_id = model.draw(lean, rng())
    assert party_id.dtype == np.int8 and party_id.min() >= 1 and party_id.max() <= 7
    expected = np.diff(np.concatenate([[0], expit(model.cutpoints - 0.3), [1]]))
    assert np.allclose(np.bincount(party_id, minlength=8)[1:] / N, expected, atol=0.005)
    shares = np.bincount(psychographics.party_of(party_id), minlength=3) / N
    assert np.allclose(shares, model.party_shares(np.array(0.3)), atol=0.005)


def test_party_of_maps_the_seven_point_scale():
    assert psychographics.party_of(np.arange(1, 8, dtype=np.int8)).tolist() == [0, 0, 0, 1, 2, 2, 2]


def test_calibration_hits_each_places_two_party_share():
    model = PartyModel.load()
    lean = np.broadcast_to(np.array([-1.5, 0.0, 0.4]), (3, 3))
    weights = np.array([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8]])
    target = np.array([0.3, 0.5, 0.7])
    shift = model.calibrate(lean, weights, target)
    shares = np.einsum("pc,pck->pk", weights, model.party_shares(lean + shift[:, None]))
    assert np.allclose(shares[:, 2] / (shares[:, 0] + shares[:, 2]), target, atol=1e-6)


def test_trust_government_follows_the_fitted_mean():
    terms = data_table("trust_government_model.csv").set_index("term")["value"]
    trust = psychographics.trust_government(fixed(2), fixed(3), fixed(3), rng())
    assert trust.dtype == np.float32 and 0 < trust.min() and trust.max() < 1
    expected = (
        terms["intercept"]
        + terms["party.republican"]
        + terms["age_band.65+"]
        + terms["education.bachelor_or_higher"]
    )
    assert trust.mean() == pytest.approx(expected, abs=0.005)
    precision = terms["precision"]
    assert trust.var() == pytest.approx(expected * (1 - expected) / (precision + 1), rel=0.05)


def test_modelled_attributes_have_the_documented_directions():
    z = np.zeros(N, dtype=np.float32)
    age = np.full(N, 45.0)

    def traits(**values):
        columns = np.zeros((N, 5), dtype=np.float32)
        for name, value in values.items():
            columns[:, TRAITS.index(name)] = value
        return columns

    science = {
        edu: psychographics.trust_science(fixed(edu), fixed(4), z, rng()).mean() for edu in (0, 3)
    }
    assert science[3] > science[0] + 0.1
    assert (
        psychographics.trust_science(fixed(2), fixed(1), z, rng()).mean()
        > psychographics.trust_science(fixed(2), fixed(7), z, rng()).mean() + 0.1
    )

    risk = psychographics.risk_tolerance
    assert (
        risk(traits(), np.full(N, 25.0), fixed(0), rng()).mean()
        > risk(traits(), np.full(N, 75.0), fixed(0), rng()).mean()
    )
    assert risk(traits(), age, fixed(1), rng()).mean() > risk(traits(), age, fixed(0), rng()).mean()
    assert (
        risk(traits(extraversion=1), age, fixed(0), rng()).mean()
        > risk(traits(neuroticism=1), age, fixed(0), rng()).mean()
    )

    vulnerability = psychographics.perceived_vulnerability
    no, yes = np.zeros(N, bool), np.ones(N, bool)
    assert (
        vulnerability(np.full(N, 80.0), no, z, rng()).mean()
        > vulnerability(np.full(N, 25.0), no, z, rng()).mean() + 0.2
    )
    assert vulnerability(age, yes, z, rng()).mean() > vulnerability(age, no, z, rng()).mean()

    conformity = psychographics.conformity
    assert (
        conformity(traits(agreeableness=1), rng()).mean()
        > conformity(traits(openness=1), rng()).mean() + 0.1
    )

    neutral = conformity(traits(), rng())
    assert neutral.dtype == np.float32
    assert neutral.mean() == pytest.approx(0.5, abs=0.01)
    assert 0 <= neutral.min() and neutral.max() <= 1


def test_terms_of_unrecorded_attributes_are_left_out():
    z = np.zeros(N, dtype=np.float32)
    age = np.full(N, 45.0)
    # Education unrecorded: the education terms take their mean over US adults.
    design = psychographics.big_five_design(np.array([45.0]), np.array([0]), None)
    assert design[0, 3:].sum() == pytest.approx(1 - psychographics.national_education()[0])
    traits = psychographics.big_five(age[:1000], fixed(0, 1000), None, rng())
    assert traits.shape == (1000, 5)
    # Party unrecorded: as if the lean were neutral (an independent's).
    no_party = psychographics.trust_science(fixed(2), None, z, rng()).mean()
    independent = psychographics.trust_science(fixed(2), fixed(4), z, rng()).mean()
    assert no_party == pytest.approx(independent, abs=0.002)
    # Disability unrecorded: its term is left out (as for no disability).
    vulnerability = psychographics.perceived_vulnerability
    assert vulnerability(age, None, z, rng()).mean() == pytest.approx(
        vulnerability(age, np.zeros(N, bool), z, rng()).mean(), abs=0.002)
