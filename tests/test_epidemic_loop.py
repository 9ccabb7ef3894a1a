"""The epidemic inside the tick: the agents are told its cases, and its cases follow them."""

from pathlib import Path

import numpy as np
import pytest

from simulator.epidemic.fitting import simulate_cases
from simulator.epidemic.seir import INFECTIOUS_DAYS, EpidemicParameters
from simulator.epidemic.setup import epidemic_inputs
from simulator.model import TwinModel
from simulator.policy import PolicyTimeline
from simulator.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020_epidemic.yaml"
PARAMETERS = EpidemicParameters(transmission=2.0 / INFECTIOUS_DAYS, reporting=0.2, seed=2e-5,
                                season=0.3, elasticity=1.5)


@pytest.fixture(scope="module")
def scenario():
    scenario = load_scenario(SCENARIO)
    return scenario.replace(population_size=600, period={
        "start": "2020-03-01", "end": "2020-08-31"}, context={
        **dict(scenario.context), "epidemic_fit_until": "2020-07-31"})


def _run(scenario, parameters=PARAMETERS, timeline=None):
    model = TwinModel(scenario, timeline=timeline, agent_views=False)
    model.start_epidemic(parameters)
    model.run()
    return model


def test_the_loops_cases_are_the_seir_on_the_contacts_of_the_tick_before(scenario):
    model = _run(scenario)
    found = model.epidemic.frame(model.timeline.dates)
    inputs = epidemic_inputs(model.trajectories(), model.baseline, scenario, model.timeline)
    np.testing.assert_allclose(found["simulated_cases_per_100k"], simulate_cases(
        PARAMETERS, inputs), rtol=1e-9)
    np.testing.assert_allclose(found["contact_multiplier"], inputs.contacts, rtol=1e-9)
    assert found["contact_multiplier"].iloc[0] == 1.0 and found["contact_multiplier"].min() < 0.9
    told = model.decisions()  # the agents answered the simulated cases, not the observed
    assert len(found) == len(model.timeline) == told["tick"].nunique() - 1


def test_more_transmission_frightens_the_agents_into_fewer_outings(scenario):
    mild = _run(scenario, EpidemicParameters(1.0 / INFECTIOUS_DAYS, 0.2, 2e-5))
    severe = _run(scenario, EpidemicParameters(3.0 / INFECTIOUS_DAYS, 0.2, 2e-5))
    assert severe.epidemic.records[-1]["simulated_cases_per_100k"] > \
        10 * mild.epidemic.records[-1]["simulated_cases_per_100k"]
    retail = [m.trajectories().query("group == 'all' and behaviour == "
                                     "'retail_and_recreation' and tick >= 0")["value"].mean()
              for m in (mild, severe)]
    assert retail[1] < retail[0]


def test_a_counterfactual_without_stay_at_home_orders_carries_more_cases(scenario):
    factual = PolicyTimeline.from_scenario(scenario)
    policy = factual.policy.copy()
    policy["c6_stay_at_home_requirements"] = 0.0
    without = _run(scenario, timeline=factual.with_policy(policy))
    observed = _run(scenario, timeline=factual.with_policy(factual.policy))
    cases = [sum(r["simulated_cases_per_100k"] for r in m.epidemic.records)
             for m in (observed, without)]
    assert cases[1] > cases[0]


def test_a_fork_goes_on_with_the_epidemic_where_the_twin_left_it(scenario):
    whole = _run(scenario)
    model = TwinModel(scenario, agent_views=False)
    model.start_epidemic(PARAMETERS)
    model.run(until=8)
    fork = model.fork(model.timeline)
    fork.run()
    assert len(model.epidemic.records) == 8  # the fork's ticks are its own
    np.testing.assert_allclose(
        [r["simulated_cases_per_100k"] for r in fork.epidemic.records],
        [r["simulated_cases_per_100k"] for r in whole.epidemic.records], rtol=1e-6)
