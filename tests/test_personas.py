"""The factorial persona design: a base persona, one-attribute variants, logit additivity."""

import dataclasses

import numpy as np
import pytest

from simulator.cognition.personas import (
    KEY_ATTRIBUTES,
    PERSONA_ATTRIBUTES,
    FactorialDesign,
    persona_bins,
)
from simulator.population import Population


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_GA", 4000, np.random.default_rng(11))


@pytest.fixture(scope="module")
def design(population):
    return FactorialDesign.build(population, 24)


def test_bins_cover_the_persona_attributes_the_population_records(population):
    bins = persona_bins(population)
    assert tuple(bins) == PERSONA_ATTRIBUTES
    for codes, labels in bins.values():
        assert codes.shape == (len(population),) and codes.max() < len(labels)


def test_the_base_persona_is_the_most_common_level_of_each_attribute(population, design):
    bins = persona_bins(population)
    for name in design.attributes:
        codes, labels = bins[name]
        assert design.personas[0][name] == labels[np.bincount(codes).argmax()]


def test_each_variant_differs_from_the_base_in_one_attribute(design):
    base = design.personas[0]
    for persona in design.personas[1:]:
        assert sum(persona[k] != base[k] for k in base) == 1
    levels = sum(len(design.labels[n]) - 1 for n in design.factors)
    assert len(design.personas) == 1 + levels <= 24


def test_the_cap_adds_attributes_in_priority_order(population):
    small = FactorialDesign.build(population, 15)
    assert small.factors == KEY_ATTRIBUTES and len(small.personas) == 15
    assert FactorialDesign.build(population, 14).factors == KEY_ATTRIBUTES[:5]


def test_cells_combine_their_variants_in_logit_space(population, design):
    bins = persona_bins(population)
    codes = np.stack([bins[n][0] for n in design.attributes], axis=1)
    cells = np.unique(codes, axis=0)
    weights = design.weights(cells)
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.1, 0.9, size=(len(design.personas), 3))
    combined = design.combine(weights, probabilities)
    logits = np.log(probabilities / (1 - probabilities))
    base_cell = np.flatnonzero((cells == [design.base[n] for n in design.attributes]).all(1))
    np.testing.assert_allclose(combined[base_cell[0]], probabilities[0])
    cell = cells[-1]
    expected = logits[0].copy()
    for column, name in enumerate(design.attributes):
        index = design.variant.get((name, int(cell[column])))
        if index is not None:
            expected += logits[index] - logits[0]
    np.testing.assert_allclose(np.log(combined[-1] / (1 - combined[-1])), expected, atol=1e-9)


def test_a_failed_persona_answer_fails_the_cells_it_informs(population, design):
    bins = persona_bins(population)
    cells = np.unique(np.stack([bins[n][0] for n in design.attributes], axis=1), axis=0)
    probabilities = np.full((len(design.personas), 2), 0.4)
    probabilities[1, 0] = np.nan
    combined = design.combine(design.weights(cells), probabilities)
    informed = design.weights(cells)[:, 1] != 0
    assert np.isnan(combined[informed, 0]).all() and not np.isnan(combined[~informed, 0]).any()
    assert not np.isnan(combined[:, 1]).any()


def test_every_agent_sees_its_own_level_of_every_factor(population, design):
    match = design.persona_match(persona_bins(population))
    assert all(match[name] == 1.0 for name in design.factors)


def test_an_attribute_not_shown_matches_no_one_and_a_wrong_persona_is_caught(population):
    bins = persona_bins(population)
    small = FactorialDesign.build(population, 15)
    assert small.persona_match(bins)["education"] == 0.0
    personas = list(small.personas)
    index = small.variant[("race", small.labels["race"].index("black"))]
    personas[index] = {**personas[index], "race": "white"}
    broken = dataclasses.replace(small, personas=tuple(personas))
    black = float(np.mean(bins["race"][0] == small.labels["race"].index("black")))
    assert broken.persona_match(bins)["race"] == pytest.approx(1.0 - black)
