"""Household types: the US table, the country model, reweighting and grouping."""

import numpy as np
import pytest

from simulator.population.households import (
    MAX_PERSONS,
    adult_household_sizes,
    group_households,
    household_types,
    modelled_types,
    shipped_types,
)
from simulator.population.targets import HOUSEHOLD_SIZES


def _mean(types):
    persons, adults, probability = types[0]
    return (persons * probability).sum(), (adults * probability).sum()


@pytest.mark.parametrize(("mean_size", "adults_per_person"), [(2.2, 0.79), (5.9, 0.44), (1.0, 1)])
def test_the_country_model_has_the_mean_size_and_share_of_adults(mean_size, adults_per_person):
    types = modelled_types(mean_size, adults_per_person)
    assert len(types) == 4 and all(kind is types[0] for kind in types)
    persons, adults, probability = types[0]
    assert probability.sum() == pytest.approx(1) and (adults <= persons).all()
    assert persons.max() <= MAX_PERSONS and adults.min() == 1
    size, adult = _mean(types)
    assert size == pytest.approx(mean_size, abs=1e-3)
    assert adult / size == pytest.approx(adults_per_person, abs=1e-3)


def test_sizes_given_by_a_file_are_matched_for_both_kinds_of_types():
    wanted = np.array([0.1, 0.3, 0.2, 0.2, 0.1, 0.1])
    ages = np.array([0.2, 0.3, 0.3, 0.2])
    for model in (None, (4.0, 0.6)):
        types = household_types(wanted, ages, model)
        assert adult_household_sizes(types, ages) == pytest.approx(wanted, abs=1e-6)
    assert len(shipped_types()) == 4 and len(HOUSEHOLD_SIZES) == 6


def test_grouping_without_state_or_income():
    rng = np.random.default_rng(0)
    n = 5_000
    columns = {"age_band": rng.integers(0, 4, n).astype(np.int8),
               "age": rng.integers(18, 90, n).astype(np.int16)}
    grouped = group_households(modelled_types(3.0, 0.7), columns, rng)
    assert set(grouped) == {"household_id", "household_size"}
    counts = np.bincount(grouped["household_id"])
    members = counts[grouped["household_id"]]
    assert (grouped["household_size"] >= members).all()
    assert 1.5 < members.mean() < 3.0
