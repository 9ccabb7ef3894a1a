"""Archetypes: the cells of a population, each answered as itself or through the design."""

import numpy as np
import pytest
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS, signals
from simulator.cognition import RulesEngine
from simulator.cognition.archetypes import ArchetypeSet
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.personas import persona_bins
from simulator.population import Population
from simulator.sources.indicators import OXCGRT_INDICATORS


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_GA", 4000, np.random.default_rng(11))


@pytest.fixture(scope="module")
def archetypes(population):
    return ArchetypeSet.build(population, 24)


def test_a_cell_is_exactly_the_agents_sharing_every_persona_attribute(population, archetypes):
    bins = persona_bins(population)
    for archetype in archetypes.archetypes[:30]:
        members = archetypes.assignment == archetype.index
        for name, (codes, labels) in bins.items():
            assert set(np.asarray(labels)[codes[members]]) == {archetype.attributes[name]}
    sizes = [a.size for a in archetypes.archetypes]
    assert sum(sizes) == len(population) and sizes == sorted(sizes, reverse=True)
    assert np.array_equal(np.bincount(archetypes.assignment), sizes)


def test_traits_are_member_means(population, archetypes):
    first = archetypes.archetypes[0]
    members = archetypes.assignment == 0
    assert first.traits["risk_tolerance"] == pytest.approx(
        float(population["risk_tolerance"][members].mean()))
    assert first.traits["republican"] in (0.0, 1.0)


def test_rules_answers_every_cell_and_asks_each_as_itself(archetypes):
    answers, asked, _ = archetypes.answers(RulesEngine(OXCGRT_INDICATORS), signals(),
                                           MOBILITY, PROMPTS)
    assert answers.shape == (len(archetypes), len(MOBILITY)) and len(asked) == len(archetypes)
    assert set(archetypes.match(factorised=False).values()) == {1.0}


def test_a_language_model_is_asked_the_design_personas_only(tmp_path, archetypes):
    model = ScriptedModel()
    engine = LanguageEngine(model, Elicitation("cloze"))
    answers, asked, decisions = archetypes.answers(engine, signals(), MOBILITY, PROMPTS)
    assert len(asked) == len(archetypes.design.personas) < len(archetypes)
    assert len(model.asked) == len(asked) * len(MOBILITY)
    np.testing.assert_allclose(answers, archetypes.design.combine(archetypes.weights,
                                                                  decisions.probabilities))


def test_the_base_persona_comes_from_the_reference(population):
    other = Population.synthesize("US_GA", 300, np.random.default_rng(99))
    a = ArchetypeSet.build(other, 24, reference=population)
    b = ArchetypeSet.build(population, 24)
    assert a.design.personas == b.design.personas
    assert sum(x.size for x in a.archetypes) == 300


def test_summary_lists_the_personas_asked(archetypes):
    summary = archetypes.summary(factorised=True)
    assert len(summary) == len(archetypes.design.personas)
    # A cell differing from the base in one attribute is its variant: the base does not enter.
    sizes = np.array([a.size for a in archetypes.archetypes])
    assert summary["agents"].iloc[0] == sizes[archetypes.weights[:, 0] != 0].sum()
    assert (summary["agents"] > 0).all()
