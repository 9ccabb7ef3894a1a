import numpy as np
import pytest

import simulator.population.synthesis as synthesis
from simulator.population import Population
from simulator.random_streams import (
    POPULATION_STREAMS,
    RUN_STREAMS,
    StreamRegistry,
    name_seed,
    random_stream,
)


def first_draws(streams):
    return {name: rng.random(4).tolist() for name, rng in streams.items()}


def test_streams_are_named_not_shared():
    a = random_stream(1, "noise").random(3)
    assert np.array_equal(a, random_stream(1, "noise").random(3))
    assert not np.array_equal(a, random_stream(1, "network").random(3))
    assert not np.array_equal(a, random_stream(2, "noise").random(3))


def test_a_run_stream_is_seeded_by_the_run_seed_and_its_name():
    expected = np.random.default_rng([7, name_seed("noise")]).random(3)
    assert np.array_equal(random_stream(7, "noise").random(3), expected)


def test_an_undeclared_stream_is_refused():
    with pytest.raises(KeyError, match="'weather' is not a declared run stream"):
        random_stream(1, "weather")


def test_the_frozen_population_streams_are_seeded_by_the_integers_drawn_first():
    """The synthesis took its child streams this way before they were named: keep it so."""
    seeds = np.random.default_rng(5).integers(2**62, size=12)
    streams = POPULATION_STREAMS.spawn(np.random.default_rng(5))
    assert list(streams) == list(POPULATION_STREAMS.frozen)
    for name, seed in zip(POPULATION_STREAMS.frozen, seeds, strict=True):
        assert streams[name].random(3).tolist() == np.random.default_rng(seed).random(3).tolist()


@pytest.mark.parametrize("registry", [RUN_STREAMS, POPULATION_STREAMS], ids=["run", "population"])
def test_adding_a_stream_leaves_every_other_streams_draws_unchanged(registry):
    extended = registry.with_stream("added").with_stream("another")
    before = first_draws(registry.spawn(np.random.default_rng(3)))
    after = first_draws(extended.spawn(np.random.default_rng(3)))
    assert {name: after[name] for name in before} == before
    assert after["added"] != after["another"]
    assert after["added"] not in before.values()
    for name in registry.named:
        assert extended.stream(11, name).random(4).tolist() == \
            registry.stream(11, name).random(4).tolist()


def test_a_population_is_unchanged_by_a_stream_added_to_the_registry(monkeypatch):
    def columns():
        population = Population.synthesize("US_VT", 800, np.random.default_rng(2))
        return {name: population[name].tobytes() for name in population.columns}

    before = columns()
    monkeypatch.setattr(synthesis, "POPULATION_STREAMS", POPULATION_STREAMS.with_stream("pets"))
    assert columns() == before


def test_a_name_declared_twice_is_refused():
    with pytest.raises(ValueError, match="run stream 'noise' is declared twice"):
        RUN_STREAMS.with_stream("noise")
    with pytest.raises(ValueError, match="population stream 'age' is declared twice"):
        POPULATION_STREAMS.with_stream("age")


def test_two_streams_with_one_seed_are_refused():
    # Two names of one CRC-32: the second would draw the first's numbers.
    assert name_seed("plumless") == name_seed("buckeroo")
    with pytest.raises(ValueError, match="'plumless' and 'buckeroo' have one seed"):
        StreamRegistry("test", named=("plumless", "buckeroo"))

    class Repeating:
        def integers(self, high, size):
            return np.ones(size, dtype=np.int64)

    with pytest.raises(ValueError, match="'a' and 'b' have one seed"):
        StreamRegistry("test", frozen=("a", "b")).spawn(Repeating())


def test_a_registry_without_frozen_streams_still_keys_its_children_by_the_parent():
    registry = StreamRegistry("test", named=("x",))
    one = registry.spawn(np.random.default_rng(1))["x"].random(3)
    two = registry.spawn(np.random.default_rng(2))["x"].random(3)
    assert not np.array_equal(one, two)
