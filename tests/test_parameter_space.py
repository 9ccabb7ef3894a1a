"""The parameters of a fit: every declared value, its prior, bounds and coordinates."""

from pathlib import Path

import numpy as np
import pytest

from calibration.mean_field import Mechanism
from calibration.parameter_space import ParameterSpace
from simulator.fitted_parameters import scenario_changes
from simulator.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO).with_engine("rules")


@pytest.fixture(scope="module")
def space(scenario):
    return ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names)


def test_every_declared_value_is_a_parameter_once(scenario, space):
    declared = sum(1 + len(b.rules.policy) + len(b.rules.context) + len(b.rules.traits)
                   for b in scenario.behaviours)
    assert len(space) == declared + 5 and len(set(space.names)) == len(space)
    workplaces = next(b for b in scenario.behaviours if b.name == "workplaces")
    at = space.names.index("behaviours.workplaces.policy.c2_workplace_closing")
    assert space.prior[at] == workplaces.rules.policy["c2_workplace_closing"]
    assert space.prior[space.names.index("dynamics.habit")] == scenario.dynamics.habit
    assert space.prior[space.names.index("engine.fatigue_weeks")] == 52.0
    # every name is one a parameter file may set on this scenario
    scenario_changes(dict(zip(space.names, space.prior, strict=True)), scenario.behaviours,
                     scenario.engine.options, scenario.dynamics)


def test_the_priors_give_back_the_scenarios_mechanism(scenario, space):
    prior = Mechanism.of(scenario)
    again = space.mechanism(space.prior)
    for field in ("baseline_logit", "policy", "context", "traits"):
        np.testing.assert_allclose(getattr(again.weights, field), getattr(prior.weights, field))
    assert again.fatigue_weeks == prior.fatigue_weeks and again.habit == prior.habit


def test_coordinates_and_bounds(space):
    np.testing.assert_allclose(space.from_free(space.to_free(space.prior)), space.prior)
    bounds = np.array(space.bounds())
    assert (bounds[:, 0] < space.prior_free).all() and (space.prior_free < bounds[:, 1]).all()
    baseline = space.names.index("behaviours.parks.baseline")
    assert space.prior_free[baseline] == pytest.approx(np.log(0.4 / 0.6))  # logit
    fatigue = space.names.index("engine.fatigue_weeks")
    assert space.prior_free[fatigue] == pytest.approx(np.log(52.0))


def test_moving_one_parameter_moves_only_its_slot(space):
    values = space.prior.copy()
    at = space.names.index("behaviours.parks.context.temperature")
    values[at] = 3.0
    moved = space.mechanism(values).weights
    prior = space.mechanism(space.prior).weights
    changed = moved.context != prior.context
    k = moved.context_names.index("temperature")
    assert changed.sum() == 1 and moved.context[k, 2] == 3.0  # parks is the third behaviour


def test_with_partial_pooling_each_region_has_its_own_compliance_scale(scenario):
    pooled = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names)
    space = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names, ("FRA", "IND"))
    assert len(space) == len(pooled) + 2
    assert space.names[-2:] == ("regions.FRA.engine.compliance_scale",
                                "regions.IND.engine.compliance_scale")
    values = space.prior.copy()
    values[-2:] = [0.5, 2.0]
    fra, ind = space.mechanisms(values)
    assert (fra.compliance_scale, ind.compliance_scale) == (0.5, 2.0)
    np.testing.assert_array_equal(fra.weights.policy, ind.weights.policy)
    assert fra.habit == ind.habit == space.mechanism(values).habit
    assert not isinstance(pooled.mechanisms(pooled.prior), list)  # one for all regions
    # the prior is centred on the pool's value, sd 0.5 in log
    assert space.prior_free[-1] == 0.0 and space.prior_sd[-1] == 0.5
