"""The factorial persona design: a base persona, one-attribute variants, logit additivity."""

import dataclasses

import numpy as np
import pytest

from simulator.cognition.options import engine_options
from simulator.cognition.personas import (
    KEY_ATTRIBUTES,
    PERSONA_ATTRIBUTES,
    Combination,
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


def combined_before_combinations(weights, probabilities):
    """``FactorialDesign.combine`` as it was before contrast weights and a logit scale."""
    p = np.clip(probabilities, 1e-6, 1 - 1e-6)
    logits = np.log(p / (1 - p))
    used = weights != 0
    failed = np.isnan(probabilities)
    cell_failed = (used.astype(float) @ failed.astype(float)) > 0
    combined = weights @ np.where(failed, 0.0, logits)
    return np.where(cell_failed, np.nan, 1.0 / (1.0 + np.exp(-combined)))


@pytest.fixture(scope="module")
def cells(population, design):
    bins = persona_bins(population)
    return np.unique(np.stack([bins[n][0] for n in design.attributes], axis=1), axis=0)


def test_the_default_combination_gives_the_same_bits_as_before(design, cells):
    weights = design.weights(cells)
    probabilities = np.random.default_rng(3).uniform(0.001, 0.999, (len(design.personas), 6))
    probabilities[2, 1] = np.nan
    before = combined_before_combinations(weights, probabilities)
    defaults = engine_options("local").to_combination()
    assert defaults.neutral and set(defaults.contrast_weights) == set(PERSONA_ATTRIBUTES)
    for combination in (None, Combination(), defaults):
        np.testing.assert_array_equal(design.combine(weights, probabilities, combination), before)
    # every weight 1.0 and the scale 1.0 through the weighted formula: the same bits too
    np.testing.assert_array_equal(design.weighted(weights, defaults), weights)


def test_contrast_weights_and_the_logit_scale_combine_as_the_formula_says(design, cells):
    weights = design.weights(cells)
    probabilities = np.random.default_rng(4).uniform(0.05, 0.95, (len(design.personas), 3))
    logits = np.log(probabilities / (1 - probabilities))
    combination = Combination({"age_band": 0.5, "sex": -1.0, "party": 0.0}, logit_scale=1.7)
    combined = design.combine(weights, probabilities, combination)
    for row in (0, len(cells) // 2, len(cells) - 1):
        bracket = logits[0].copy()
        for column, name in enumerate(design.attributes):
            index = design.variant.get((name, int(cells[row, column])))
            if index is not None:
                bracket += combination.weight(name) * (logits[index] - logits[0])
        np.testing.assert_allclose(np.log(combined[row] / (1 - combined[row])),
                                   1.7 * bracket, atol=1e-9)
    assert not np.allclose(combined, design.combine(weights, probabilities))


def test_a_contrast_weighted_zero_no_longer_informs_its_cells(design, cells):
    weights = design.weights(cells)
    probabilities = np.full((len(design.personas), 1), 0.4)
    variant = next(i for (name, _), i in design.variant.items() if name == "sex")
    probabilities[variant, 0] = np.nan
    informed = weights[:, variant] != 0
    assert np.isnan(design.combine(weights, probabilities)[informed]).all()
    kept = design.combine(weights, probabilities, Combination({"sex": 0.0}))
    assert not np.isnan(kept).any()
