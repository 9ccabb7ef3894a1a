from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.branches import Branch, run_branches
from simulator.model import TwinModel
from simulator.policy import PolicyTimeline
from simulator.scenario import load_scenario
from simulator.sweep.transforms import SetLevel
from simulator.sweep.variants import Variant

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def scenario():
    scenario = load_scenario(SCENARIOS / "covid_country_2020.yaml").with_engine("rules")
    return scenario.replace(region="FRA", population_size=500, seed=11)


@pytest.fixture(scope="module")
def timelines(scenario):
    base = PolicyTimeline.from_scenario(scenario)
    dates = base.dates
    undone = Variant("no stay-at-home", (SetLevel("c6_stay_at_home_requirements", 0.0,
                                                  dates[8].date(), dates[12].date()),))
    return base.with_policy(base.policy), undone.apply(base)


def test_a_branch_equals_a_whole_run_of_its_timeline_with_the_same_seed(scenario, timelines):
    factual, undone = timelines
    model = TwinModel(scenario, timeline=factual, agent_views=False)
    observed, branches = run_branches(model, {"undone": Branch(8, undone, 13)})
    whole = TwinModel(scenario, timeline=undone, agent_views=False).run()
    branch = branches["undone"]
    expected = whole[whole["tick"] < 13].reset_index(drop=True)
    pd.testing.assert_frame_equal(branch.reset_index(drop=True), expected)
    # The factual run is the run it would have been without forks.
    alone = TwinModel(scenario, timeline=factual, agent_views=False).run()
    pd.testing.assert_frame_equal(observed, alone)
    # The two differ from the departure tick on, never before it.
    both = branch.merge(observed, on=["tick", "behaviour", "group", "subgroup"])
    before = both["tick"] < 8
    assert np.array_equal(both.loc[before, "value_x"], both.loc[before, "value_y"])
    after = both[(both["tick"] >= 9) & (both["group"] == "all")]
    assert (after["value_x"] != after["value_y"]).any()


def test_a_fork_counts_its_own_ticks_and_failures(scenario, timelines):
    factual, undone = timelines
    model = TwinModel(scenario, timeline=factual, agent_views=False)
    model.run(until=5)
    fork = model.fork(undone)
    assert fork.forked_at == 5 and model.forked_at is None
    fork.run(until=7)
    assert (fork.tick, model.tick) == (7, 5)
    assert fork.steps == model.steps + 2
    assert fork.failed_answers == 0


def test_branches_outside_the_ticks_and_foreign_timelines_are_refused(scenario, timelines):
    factual, undone = timelines
    model = TwinModel(scenario, timeline=factual, agent_views=False)
    with pytest.raises(ValueError, match="do not fit"):
        run_branches(model, {"late": Branch(len(factual), undone, len(factual) + 5)})
    shorter = PolicyTimeline.from_scenario(scenario.replace(end=scenario.start.replace(
        month=scenario.start.month + 2)))
    with pytest.raises(ValueError, match="same ticks"):
        model.fork(shorter)
