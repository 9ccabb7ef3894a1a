import dataclasses

import networkx as nx
import numpy as np
import pytest

from simulator.network import SocialNetwork, _homophily_order
from simulator.population import Population
from simulator.scenario_sections import NetworkSpec


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("US_OH", 3000, np.random.default_rng(3))


def build(population, **spec):
    return SocialNetwork.build(population, NetworkSpec(**spec), np.random.default_rng(5))


def test_households_are_fully_tied(population):
    network = build(population)
    household = population["household_id"]
    i, j = network.edges["household"]
    assert np.all(household[i] == household[j])
    sizes = np.bincount(household)
    expected_pairs = int((sizes * (sizes - 1) // 2).sum())
    assert len(i) == expected_pairs
    assert (i < j).all() and len(set(zip(i.tolist(), j.tolist(), strict=True))) == len(i)


def test_workplace_ties_link_employed_or_students(population):
    network = build(population)
    i, j = network.edges["workplace"]
    employment = population.labels("employment")
    age = population.labels("age_band")
    eligible = (employment == "employed") | (age == "18-29")
    assert eligible[i].all() and eligible[j].all()


def test_matrix_is_row_normalised_and_symmetric_in_support(population):
    network = build(population)
    m = network.matrix
    sums = np.asarray(m.sum(axis=1)).ravel()
    connected = network.degree > 0
    np.testing.assert_allclose(sums[connected], 1.0, rtol=1e-5)
    support = (m > 0).astype(int)
    assert (support != support.T).nnz == 0
    assert m.diagonal().sum() == 0


def test_peer_mean_is_the_neighbours_average(population):
    network = build(population)
    values = np.random.default_rng(0).random((len(population), 2)).astype(np.float32)
    mean = network.peer_mean(values)
    agent = int(np.flatnonzero(network.degree > 3)[0])
    neighbours = network.matrix[agent].indices
    np.testing.assert_allclose(mean[agent], values[neighbours].mean(axis=0), rtol=1e-5)


def test_homophily_raises_party_assortativity(population):
    party = population.labels("party")
    values = {}
    for homophily in (0.0, 0.9):
        graph = build(population, homophily=homophily, workplace_size=0).to_networkx()
        nx.set_node_attributes(graph, dict(enumerate(party)), "party")
        values[homophily] = nx.attribute_assortativity_coefficient(graph, "party")
    assert values[0.9] > values[0.0] + 0.1


def test_networkx_view_matches_the_matrix(population):
    network = build(population)
    graph = network.to_networkx()
    assert graph.number_of_nodes() == len(population)
    assert graph.number_of_edges() == network.summary()["ties"]
    kinds = {d["kind"] for _, _, d in graph.edges(data=True)}
    assert kinds == {"household", "workplace", "community"}


def test_same_stream_same_network(population):
    a, b = build(population), build(population)
    assert (a.matrix != b.matrix).nnz == 0


def test_a_country_population_without_employment_or_party():
    country = Population.synthesize("FRA", 4_000, np.random.default_rng(2))
    network = build(country)
    degree = network.summary()["mean_degree_by_kind"]
    assert degree["workplace"] > 0 and degree["community"] > 0 and degree["household"] > 0
    working_age = country["age_band"] < 3
    tied = np.zeros(len(country), bool)
    tied[np.concatenate(network.edges["workplace"])] = True
    assert tied[working_age].mean() > 0.95 and not tied[~working_age].any()


def test_peer_mean_is_the_sparse_product_and_isolated_agents_keep_their_own(population):
    network = SocialNetwork.build(population, NetworkSpec(workplace_size=0, community_degree=0),
                                  np.random.default_rng(5), structured=True)
    isolated = network.degree == 0
    assert isolated.any() and not isolated.all()
    values = np.random.default_rng(1).random((len(population), 6)).astype(np.float32)
    expected = network.matrix @ values
    expected[isolated] = values[isolated]
    found = network.peer_mean(values, out=np.empty_like(values))
    assert network.structure is not None and found.dtype == np.float32
    np.testing.assert_allclose(found, expected, rtol=0, atol=5e-7)  # summed in another order
    through_matrix = dataclasses.replace(network, structure=None)
    assert np.array_equal(through_matrix.peer_mean(values), expected), "exactly, row by row"


def test_full_homophily_orders_agents_lexicographically_with_random_ties():
    rng = np.random.default_rng(7)
    keys = [rng.integers(-1, 3, 2000), rng.integers(0, 5, 2000), rng.integers(0, 2, 2000)]
    order = _homophily_order(keys, 1.0, np.random.default_rng(1))
    rows = np.stack([key[order] for key in keys], axis=1)
    assert sorted(map(tuple, rows)) == list(map(tuple, rows))
    again = _homophily_order(keys, 1.0, np.random.default_rng(2))
    assert not np.array_equal(order, again)
    assert np.array_equal(np.stack([key[again] for key in keys], axis=1), rows)


@pytest.mark.parametrize(("agents", "workplace_size"), [(40, 12), (40, 3), (3000, 4), (3000, 12)])
def test_every_kind_of_tie_is_listed_once_low_end_first(agents, workplace_size):
    """Small rings and small workplaces can meet a tie from both ends; none is listed twice."""
    small = Population.synthesize("US_VT", agents, np.random.default_rng(3))
    network = SocialNetwork.build(small, NetworkSpec(workplace_size=workplace_size,
                                                     community_degree=8),
                                  np.random.default_rng(4))
    for kind, (i, j) in network.edges.items():
        assert (i < j).all(), kind
        assert len(set(zip(i.tolist(), j.tolist(), strict=True))) == len(i), kind
    assert network.matrix.nnz == 2 * len({pair for i, j in network.edges.values()
                                          for pair in zip(i.tolist(), j.tolist(), strict=True)})
