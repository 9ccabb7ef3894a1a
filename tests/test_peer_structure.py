"""The peer mean read by the network's structure equals the sparse product's, whatever the ties."""

import numpy as np
import pytest

from simulator.network import SocialNetwork, _peer_mean
from simulator.parallel import for_rows, limited_threads
from simulator.peer_structure import community_neighbours, household_blocks
from simulator.population import Population
from simulator.scenario_sections import NetworkSpec


def matrix_mean(network, values):
    out = np.empty_like(values)
    m = network.matrix
    for_rows(_peer_mean, len(values), m.indptr, m.indices, m.data, values, out)
    return out


@pytest.mark.parametrize(("agents", "workplace_size", "community_degree", "homophily"), [
    (60, 12, 6, 0.5),      # the smallest ring read by structure
    (3000, 3, 8, 1.0),     # workplaces of three: every colleague
    (3000, 4, 6, 0.2),     # of four: one and two along reach everyone
    (5000, 12, 6, 0.8),    # the case study's settings
    (5000, 2, 0, 0.8),     # no community ties
    (5000, 1, 6, 0.0),     # no workplace ties, random mixing
    (4001, 5, 12, 0.5),    # a last workplace of one
])
def test_the_structured_mean_is_the_matrix_mean(agents, workplace_size, community_degree,
                                                homophily):
    population = Population.synthesize("US_OH", agents, np.random.default_rng(3))
    spec = NetworkSpec(workplace_size=workplace_size, community_degree=community_degree,
                       homophily=homophily)
    network = SocialNetwork.build(population, spec, np.random.default_rng(4), structured=True)
    assert network.structure is not None
    values = np.random.default_rng(5).random((agents, 6)).astype(np.float32)
    np.testing.assert_allclose(network.peer_mean(values), matrix_mean(network, values),
                               rtol=0, atol=5e-7)
    if workplace_size > 1 and community_degree:
        assert len(network.structure.overlap_rows), "some ties are made by two kinds"


def test_the_result_does_not_depend_on_the_number_of_threads():
    population = Population.synthesize("US_OH", 80_000, np.random.default_rng(3))
    network = SocialNetwork.build(population, NetworkSpec(), np.random.default_rng(4),
                                  structured=True)
    values = np.random.default_rng(5).random((len(population), 6)).astype(np.float32)
    everywhere = network.peer_mean(values)
    with limited_threads(1):
        alone = network.peer_mean(values)
    assert everywhere.tobytes() == alone.tobytes()


def test_isolated_agents_keep_their_own_values():
    population = Population.synthesize("US_OH", 500, np.random.default_rng(3))
    network = SocialNetwork.build(population, NetworkSpec(workplace_size=1, community_degree=0),
                                  np.random.default_rng(4), structured=True)
    values = np.random.default_rng(5).random((500, 2)).astype(np.float32)
    alone = network.degree == 0
    assert alone.any()
    np.testing.assert_array_equal(network.peer_mean(values)[alone], values[alone])


def test_small_rings_and_scattered_households_are_read_through_the_matrix():
    small = Population.synthesize("US_OH", 40, np.random.default_rng(3))
    assert SocialNetwork.build(small, NetworkSpec(), np.random.default_rng(4),
                               structured=True).structure is None
    assert household_blocks(np.array([0, 0, 1, 1, 0])) is None
    first, last = household_blocks(np.array([1, 1, 4, 7, 7, 7]))
    assert first.tolist() == [0, 0, 2, 3, 3, 3] and last.tolist() == [2, 2, 3, 6, 6, 6]


def test_community_neighbours_list_both_ends_of_every_tie():
    outgoing = np.zeros(10, dtype=np.uint32)
    outgoing[0] = (1 << 1) | (1 << 3)   # place 0 tied to 1 and 3
    outgoing[9] = 1 << 2                # place 9 tied to 1 (around the ring)
    first, offsets = community_neighbours(outgoing, 3)
    neighbours = {q: sorted((q + int(o)) % 10 for o in offsets[first[q]:first[q + 1]])
                  for q in range(10)}
    assert neighbours[0] == [1, 3] and neighbours[1] == [0, 9] and neighbours[3] == [0]
    assert neighbours[9] == [1] and sum(map(len, neighbours.values())) == 6


def test_two_threads_stepping_with_one_network_do_not_share_work_arrays():
    import threading

    population = Population.synthesize("US_OH", 70_000, np.random.default_rng(3))
    network = SocialNetwork.build(population, NetworkSpec(), np.random.default_rng(4),
                                  structured=True)
    rng = np.random.default_rng(5)
    inputs = [rng.random((len(population), 6)).astype(np.float32) for _ in range(2)]
    expected = [matrix_mean(network, values) for values in inputs]
    worst = [0.0, 0.0]

    def step(k):
        for _ in range(20):
            found = network.peer_mean(inputs[k])
            worst[k] = max(worst[k], float(np.abs(found - expected[k]).max()))

    threads = [threading.Thread(target=step, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(worst) < 5e-7


def test_the_size_decides_how_a_network_is_read_unless_told(monkeypatch):
    population = Population.synthesize("US_OH", 3000, np.random.default_rng(3))
    spec, rng = NetworkSpec(), np.random.default_rng

    assert SocialNetwork.build(population, spec, rng(4)).structure is None  # below the size
    assert SocialNetwork.build(population, spec, rng(4), structured=True).structure is not None
    monkeypatch.setattr("simulator.network.STRUCTURED_FROM", 3000)
    by_size = SocialNetwork.build(population, spec, rng(4))
    assert by_size.structure is not None
    assert SocialNetwork.build(population, spec, rng(4), structured=False).structure is None
    told = SocialNetwork.build(population, spec, rng(4), structured=False)
    assert (told.matrix != by_size.matrix).nnz == 0, "the ties do not depend on the reading"
