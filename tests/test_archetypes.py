import numpy as np
import pytest

from helpers import MOBILITY, signals
from simulator.cognition.archetypes import PERSONA_ATTRIBUTES, ArchetypeSet, persona_bins
from simulator.population import Population


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_GA", 4000, np.random.default_rng(11))


def test_agents_are_grouped_by_the_bins_the_prompt_shows(population):
    bins = persona_bins(population)
    assert tuple(bins) == PERSONA_ATTRIBUTES
    for codes, labels in bins.values():
        assert codes.shape == (len(population),) and codes.max() < len(labels)


def test_uncapped_archetypes_are_exact_persona_groups(population):
    archetypes = ArchetypeSet.build(population, max_archetypes=100_000, seed=0)
    assert len(archetypes) == archetypes.n_groups
    bins = persona_bins(population)
    for archetype in archetypes.archetypes[:20]:
        members = archetypes.assignment == archetype.index
        for name, (codes, labels) in bins.items():
            assert set(np.asarray(labels)[codes[members]]) == {archetype.attributes[name]}


def test_cap_by_clustering_covers_every_agent_once(population):
    archetypes = ArchetypeSet.build(population, max_archetypes=12, seed=0)
    assert len(archetypes) == 12 < archetypes.n_groups
    sizes = [a.size for a in archetypes.archetypes]
    assert sum(sizes) == len(population) and sizes == sorted(sizes, reverse=True)
    assert np.array_equal(np.bincount(archetypes.assignment), sizes)
    summary = archetypes.summary()
    assert summary["share"].sum() == pytest.approx(1.0)
    assert set(PERSONA_ATTRIBUTES) <= set(summary.columns)


def test_traits_are_member_means(population):
    archetypes = ArchetypeSet.build(population, max_archetypes=12, seed=0)
    first = archetypes.archetypes[0]
    members = archetypes.assignment == 0
    assert first.traits["risk_tolerance"] == pytest.approx(
        float(population["risk_tolerance"][members].mean()))
    assert 0 <= first.traits["republican"] <= 1


def test_same_seed_same_archetypes(population):
    a = ArchetypeSet.build(population, 12, seed=4)
    b = ArchetypeSet.build(population, 12, seed=4)
    assert np.array_equal(a.assignment, b.assignment)
    assert [x.attributes for x in a.archetypes] == [x.attributes for x in b.archetypes]


def test_one_request_per_archetype(population):
    archetypes = ArchetypeSet.build(population, 8, seed=0)
    requests = archetypes.requests(signals(), MOBILITY)
    assert len(requests) == 8 and all(r.behaviours == MOBILITY for r in requests)
