import numpy as np
import pytest

from simulator.dynamics import Dynamics, cell_logits
from simulator.parallel import limited_threads
from simulator.population import Population
from simulator.random_streams import random_stream
from simulator.scenario_sections import DynamicsSpec

NOISE_SEED = 9


def inputs(n=5000, cells=40, k=6, seed=0):
    rng = np.random.default_rng(seed)
    answers = rng.random((cells, k))
    return dict(
        state=rng.random((n, k)).astype(np.float32),
        logits=cell_logits(answers),
        cell=rng.integers(0, cells, n).astype(np.int32),
        offset=(0.35 * rng.standard_normal((n, k))).astype(np.float32),
        habit=rng.uniform(0.3, 0.6, n).astype(np.float32),
        peer_weight=rng.uniform(0.1, 0.4, n).astype(np.float32),
        peers=rng.random((n, k)).astype(np.float32),
        noise_sd=0.02,
    )


def dynamics(given, noise_sd=None):
    return Dynamics(given["cell"], given["habit"], given["peer_weight"], given["offset"],
                    given["noise_sd"] if noise_sd is None else noise_sd,
                    np.random.default_rng(NOISE_SEED))


def noise_draws(given, ticks=1):
    """The standard normal draws of ``ticks`` ticks, one bulk draw each, from the noise seed."""
    rng = np.random.default_rng(NOISE_SEED)
    return [rng.standard_normal(given["state"].shape, dtype=np.float32) for _ in range(ticks)]


def numpy_update(given, noise, state=None):
    """The docstring's update written with numpy arrays, as the step did before."""
    state = given["state"] if state is None else state
    logits, cell = given["logits"], given["cell"]
    target = 1.0 / (1.0 + np.exp(-(logits[cell] + given["offset"])))
    failed = np.isnan(logits)[cell]
    target[failed] = state[failed]
    h, w = given["habit"][:, None], given["peer_weight"][:, None]
    value = (h * state + (1 - h) * ((1 - w) * target + w * given["peers"])
             + noise * np.float32(given["noise_sd"]))
    return np.clip(value, 0.0, 1.0)


def test_cell_logits_are_float32_and_keep_failures():
    logits = cell_logits(np.array([[0.5, 1.0, np.nan, 0.0]]))
    assert logits.dtype == np.float32
    assert logits[0, 0] == 0.0 and np.isnan(logits[0, 2])
    # Kept 1e-4 from certainty (in float32), so an agent's offset still moves it.
    assert logits[0, 1] == pytest.approx(np.log(0.9999 / 0.0001), rel=1e-4)
    assert logits[0, 3] == pytest.approx(-logits[0, 1], rel=1e-4)


def test_update_is_the_documented_formula_with_one_bulk_draw_of_noise_per_tick():
    given = inputs()
    model = dynamics(given)
    first = model.update(given["state"], given["logits"], given["peers"])
    assert first.dtype == np.float32 and first.shape == given["state"].shape
    second = model.update(first, given["logits"], given["peers"])
    noise = noise_draws(given, ticks=2)
    # float32 throughout; exp may round differently from numpy's by one unit in the last place.
    np.testing.assert_allclose(first, numpy_update(given, noise[0]), rtol=0, atol=3e-7)
    np.testing.assert_allclose(second, numpy_update(given, noise[1], state=first), rtol=0,
                               atol=3e-7)


def test_an_agent_whose_cell_failed_keeps_its_behaviour_as_target():
    given = inputs()
    given["logits"][3] = np.nan
    given["peers"] = given["state"].copy()
    found = dynamics(given, noise_sd=0.0).update(given["state"], given["logits"],
                                                 given["peers"])
    members = given["cell"] == 3
    np.testing.assert_allclose(found[members], given["state"][members], atol=1e-6)
    assert not np.allclose(found[~members], given["state"][~members], atol=1e-3)


def test_update_is_clipped_to_probabilities():
    given = inputs()
    found = dynamics(given, noise_sd=2.0).update(given["state"], given["logits"],
                                                 given["peers"])
    assert found.min() == 0.0 and found.max() == 1.0


def test_personalise_shifts_each_cell_answer_by_the_agent_offset():
    given = inputs()
    found = dynamics(given).personalise(given["logits"])
    expected = 1.0 / (1.0 + np.exp(-(given["logits"][given["cell"]] + given["offset"])))
    np.testing.assert_allclose(found, expected, rtol=0, atol=3e-7)


def test_results_do_not_depend_on_the_number_of_threads():
    given = inputs(n=70_000)
    runs = []
    for count in (1, 2, 3):
        with limited_threads(count):
            model = dynamics(given)
            first = model.update(given["state"], given["logits"], given["peers"])
            second = model.update(first, given["logits"], given["peers"])
            runs.append((second.tobytes(), model.personalise(given["logits"]).tobytes()))
    assert runs[0] == runs[1] == runs[2]


def test_a_fork_draws_the_noise_its_parent_draws_from_its_own_stream():
    given = inputs()
    parent = dynamics(given)
    parent.update(given["state"], given["logits"], given["peers"])
    fork = parent.fork()
    ahead = [parent.update(given["state"], given["logits"], given["peers"]) for _ in range(2)]
    behind = [fork.update(given["state"], given["logits"], given["peers"]) for _ in range(2)]
    assert [a.tobytes() for a in ahead] == [b.tobytes() for b in behind]
    assert fork.offset is parent.offset and fork.habit is parent.habit


def test_build_takes_habit_and_peer_weight_from_traits_and_offsets_from_a_named_stream():
    population = Population.synthesize("US_VT", 400, np.random.default_rng(1))
    cell = np.zeros(len(population), dtype=np.int32)
    spec = DynamicsSpec(habit=0.4, peer_weight=0.25, heterogeneity=0.35, noise=0.02)
    built = Dynamics.build(spec, population, cell, 6, seed=5)
    np.testing.assert_array_equal(built.habit, np.clip(
        0.4 + 0.1 * population["conscientiousness"], 0.0, 0.95).astype(np.float32))
    np.testing.assert_array_equal(built.peer_weight, np.clip(
        0.25 * (0.5 + population["conformity"]), 0.0, 0.9).astype(np.float32))
    draws = random_stream(5, "heterogeneity").standard_normal((len(population), 6))
    np.testing.assert_array_equal(built.offset, (0.35 * draws).astype(np.float32))
    assert built.habit.dtype == built.peer_weight.dtype == built.offset.dtype == np.float32
    again = Dynamics.build(spec, population, cell, 6, seed=5)
    state = np.full((len(population), 6), 0.5, dtype=np.float32)
    logits = np.zeros((1, 6), dtype=np.float32)
    assert built.update(state, logits, state).tobytes() == \
        again.update(state, logits, state).tobytes()
