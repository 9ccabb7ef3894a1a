import numpy as np
import pytest

from simulator.dynamics import cell_logits, personalise, update
from simulator.parallel import limited_threads


def inputs(n=5000, cells=40, k=6, seed=0):
    rng = np.random.default_rng(seed)
    answers = rng.random((cells, k))
    return dict(
        state=rng.random((n, k)).astype(np.float32),
        logits=cell_logits(answers),
        assignment=rng.integers(0, cells, n).astype(np.int32),
        offset=(0.35 * rng.standard_normal((n, k))).astype(np.float32),
        habit=rng.uniform(0.3, 0.6, n).astype(np.float32),
        peer_weight=rng.uniform(0.1, 0.4, n).astype(np.float32),
        peers=rng.random((n, k)).astype(np.float32),
        noise=rng.standard_normal((n, k)).astype(np.float32),
        noise_sd=0.02,
    )


def numpy_update(state, logits, assignment, offset, habit, peer_weight, peers, noise, noise_sd):
    """The model docstring's update written with numpy arrays, as the step did before."""
    target = 1.0 / (1.0 + np.exp(-(logits[assignment] + offset)))
    failed = np.isnan(logits)[assignment]
    target[failed] = state[failed]
    h, w = habit[:, None], peer_weight[:, None]
    value = h * state + (1 - h) * ((1 - w) * target + w * peers) + noise * np.float32(noise_sd)
    return np.clip(value, 0.0, 1.0)


def test_cell_logits_are_float32_and_keep_failures():
    logits = cell_logits(np.array([[0.5, 1.0, np.nan, 0.0]]))
    assert logits.dtype == np.float32
    assert logits[0, 0] == 0.0 and np.isnan(logits[0, 2])
    # Kept 1e-4 from certainty (in float32), so an agent's offset still moves it.
    assert logits[0, 1] == pytest.approx(np.log(0.9999 / 0.0001), rel=1e-4)
    assert logits[0, 3] == pytest.approx(-logits[0, 1], rel=1e-4)


def test_update_is_the_documented_formula():
    given = inputs()
    found = update(**given)
    assert found.dtype == np.float32 and found.shape == given["state"].shape
    # float32 throughout; exp may round differently from numpy's by one unit in the last place.
    np.testing.assert_allclose(found, numpy_update(**given), rtol=0, atol=3e-7)


def test_an_agent_whose_cell_failed_keeps_its_behaviour_as_target():
    given = inputs()
    given["logits"][3] = np.nan
    given["noise"][:] = 0.0
    given["peers"] = given["state"].copy()
    found = update(**given)
    members = given["assignment"] == 3
    np.testing.assert_allclose(found[members], given["state"][members], atol=1e-6)
    assert not np.allclose(found[~members], given["state"][~members], atol=1e-3)


def test_update_is_clipped_to_probabilities():
    given = inputs()
    given["noise"] *= 100.0
    found = update(**given)
    assert found.min() == 0.0 and found.max() == 1.0


def test_personalise_shifts_each_cell_answer_by_the_agent_offset():
    given = inputs()
    found = personalise(given["logits"], given["assignment"], given["offset"])
    expected = 1.0 / (1.0 + np.exp(-(given["logits"][given["assignment"]] + given["offset"])))
    np.testing.assert_allclose(found, expected, rtol=0, atol=3e-7)


def test_results_do_not_depend_on_the_number_of_threads():
    given = inputs(n=70_000)
    runs = []
    for count in (1, 2, 3):
        with limited_threads(count):
            runs.append((update(**given).tobytes(),
                         personalise(given["logits"], given["assignment"],
                                     given["offset"]).tobytes()))
    assert runs[0] == runs[1] == runs[2]
