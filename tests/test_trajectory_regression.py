"""A small rules run gives the trajectories it gave before the step was made fast (regression).

The figures in ``tests/data/regression_*.csv`` were written by the step of commit 4173bda (numpy
and scipy, before the fused kernels) for ``covid_us_2020`` with the ``rules`` engine, 2,000
agents and the scenario's seed, 60 weekly ticks. A faster step must compute the same thing, so it
must give the same figures up to float32 rounding.

Tolerance: 1e-5 absolute on probabilities. Agent state is float32 (machine epsilon 1.2e-7); a
kernel that fuses the update or sums in another order may round a value differently by a few
units in the last place, and such differences stay of that order through the habit term's
contraction. 1e-5 is about a hundred times that rounding and about a hundred times smaller than
what another seed changes (checked below), so a change of what the step computes cannot hide in
it. Re-pin (``python tests/test_trajectory_regression.py``) only when the dynamics, the rules
engine or the population change on purpose, and say so in the commit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.model import TwinModel
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
TOLERANCE = 1e-5
KEYS = ["tick", "group", "subgroup"]


def regression_model(seed: int | None = None) -> TwinModel:
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml").with_engine("rules")
    scenario = scenario.replace(population_size=2000)
    if seed is not None:
        scenario = scenario.replace(seed=seed)
    model = TwinModel(scenario, agent_views=False)
    model.run()
    return model


def wide_trajectories(model: TwinModel) -> pd.DataFrame:
    frame = model.trajectories()
    return frame.pivot_table(index=KEYS, columns="behaviour", values="value",
                             sort=True)[list(model.behaviour_names)].reset_index()


def wide_decisions(model: TwinModel) -> pd.DataFrame:
    return model.decisions().sort_values(KEYS, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def model():
    return regression_model()


@pytest.mark.parametrize(("name", "table"), [("trajectories", wide_trajectories),
                                             ("decisions", wide_decisions)])
def test_figures_match_the_pinned_run(model, name, table):
    pinned = pd.read_csv(DATA / f"regression_{name}.csv", keep_default_na=False)
    found = table(model)
    assert found[KEYS].astype(str).equals(pinned[KEYS].astype(str))
    behaviours = list(model.behaviour_names)
    np.testing.assert_allclose(found[behaviours].to_numpy(float),
                               pinned[behaviours].to_numpy(float), rtol=0, atol=TOLERANCE)


def test_another_seed_moves_the_figures_far_beyond_the_tolerance(model):
    other = wide_trajectories(regression_model(seed=model.scenario.seed + 1))
    behaviours = list(model.behaviour_names)
    gap = np.abs(other[behaviours].to_numpy() - wide_trajectories(model)[behaviours].to_numpy())
    assert gap.max() > 100 * TOLERANCE


def test_a_same_seed_rerun_is_byte_identical(model):
    again = regression_model()
    assert again.trajectories().to_csv().encode() == model.trajectories().to_csv().encode()
    assert np.array_equal(again.state, model.state)
    assert again.state.tobytes() == model.state.tobytes()


if __name__ == "__main__":
    pinned = regression_model()
    for name, table in (("trajectories", wide_trajectories), ("decisions", wide_decisions)):
        table(pinned).to_csv(DATA / f"regression_{name}.csv", index=False, float_format="%.10g")
