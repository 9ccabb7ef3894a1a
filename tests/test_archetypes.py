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


def test_a_reference_population_fixes_the_personas(population):
    other = Population.synthesize("US_GA", 1500, np.random.default_rng(99))
    a = ArchetypeSet.build(population, 12, seed=0, reference=population)
    b = ArchetypeSet.build(other, 12, seed=0, reference=population)
    assert [x.attributes for x in b.archetypes] == [x.attributes for x in a.archetypes]
    assert sum(x.size for x in b.archetypes) == len(other)
    assert np.array_equal(np.bincount(b.assignment), [x.size for x in b.archetypes])
    # Without the shared reference the other draw would cluster its own way.
    own = ArchetypeSet.build(other, 12, seed=0)
    assert sum(x.size for x in own.archetypes) == len(other)


def test_agents_join_the_nearest_archetype_and_empty_ones_are_left_out(population):
    few = Population.synthesize("US_GA", 40, np.random.default_rng(5))
    archetypes = ArchetypeSet.build(few, max_archetypes=100_000, seed=0, reference=population)
    assert 0 < len(archetypes) <= 40
    assert [a.index for a in archetypes.archetypes] == list(range(len(archetypes)))
    assert all(a.size > 0 for a in archetypes.archetypes)
    sizes = [a.size for a in archetypes.archetypes]
    assert np.array_equal(np.bincount(archetypes.assignment), sizes)
    # Uncapped, a persona group of the reference is its own archetype, so an agent whose
    # group the reference has is shown exactly its own persona.
    bins = persona_bins(few)
    reference_groups = {tuple(row) for row in
                         np.stack([codes for codes, _ in persona_bins(population).values()], 1)}
    for agent in range(len(few)):
        codes = tuple(int(bins[n][0][agent]) for n in bins)
        if codes in reference_groups:
            shown = archetypes.archetypes[archetypes.assignment[agent]].attributes
            assert all(shown[n] == bins[n][1][codes[i]] for i, n in enumerate(bins))
