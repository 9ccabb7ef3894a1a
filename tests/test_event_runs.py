from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.event_runs import simulate_events, undo
from calibration.events import event_indicators, find_events
from simulator.policy import PolicyTimeline
from simulator.scenario import load_scenario
from simulator.sources import load_observed

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
REGIONS = ["FRA", "ESP"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "covid_country_2020.yaml").with_engine("rules")


@pytest.fixture(scope="module")
def events():
    found, _ = find_events(load_observed().policy, event_indicators(True), REGIONS)
    return found


def test_undoing_an_event_holds_its_indicators_from_week_0_to_week_4_only(scenario, events):
    event = next(e for e in events if e.key == "FRA 2020-05-11")
    base = PolicyTimeline.from_scenario(scenario.replace(region="FRA"))
    undone = undo(event).apply(base)
    dates = base.dates
    window = (dates >= event.week) & (dates <= event.week + pd.Timedelta(weeks=4))
    for name, level in event.held.items():
        assert (undone.policy.loc[window, name] == level).all()
        assert np.array_equal(undone.policy.loc[~window, name], base.policy.loc[~window, name])
    others = [c for c in base.policy.columns if c not in event.held]
    pd.testing.assert_frame_equal(undone.policy[others], base.policy[others])
    assert undone.stringency[window].mean() > base.with_policy(base.policy).stringency[
        window].mean()  # the May reopening undone: stricter


def test_every_region_runs_once_with_a_branch_per_event_it_can_hold(scenario, events):
    runs = simulate_events(scenario, REGIONS, events, agents=300, seed=2, progress=False)
    assert set(runs.factual["region"]) == set(REGIONS)
    assert set(runs.branches) | set(runs.outside) == {e.key for e in events}
    assert runs.totals["branches"] == len(runs.branches) > 0
    ticks = len(runs.factual) // len(REGIONS)
    assert runs.totals["agent_ticks"] == 300 * (ticks * len(REGIONS) + 5 * len(runs.branches))
    for key, branch in runs.branches.items():
        event = next(e for e in events if e.key == key)
        last = event.week + pd.Timedelta(weeks=4)
        assert branch["week"].max() == last
        factual = runs.factual[runs.factual["region"] == event.region].set_index("week")
        mine = branch.set_index("week")
        before = mine.index < event.week
        pd.testing.assert_frame_equal(mine[before], factual.loc[mine.index[before]])
    # An event too late for the period (its week +4 after the last tick) is listed, not run.
    late = [e for e in events if e.week + pd.Timedelta(weeks=4) > pd.Timestamp("2021-04-19")]
    assert {e.key for e in late} <= set(runs.outside)


def test_with_a_simulated_epidemic_each_branch_carries_its_own_cases(scenario, events):
    simulated = scenario.replace(context={**dict(scenario.context), "epidemic": "simulated",
                                          "epidemic_fit_until": "2020-12-31"})
    observed = simulate_events(scenario, ["FRA"], events, agents=300, seed=2, progress=False)
    looped = simulate_events(simulated, ["FRA"], events, agents=300, seed=2, progress=False)
    assert set(looped.branches) == set(observed.branches)
    columns = [c for c in looped.factual.columns if c.startswith("sim_")]
    # the agents were told other cases: the factual paths differ
    assert not np.allclose(looped.factual[columns], observed.factual[columns])
    key = "FRA 2020-05-11"  # a branch forks with the loop: it goes on from the factual's state
    mine, theirs = (runs.branches[key].set_index("week") for runs in (looped, observed))
    assert not np.allclose(mine[columns], theirs[columns])
