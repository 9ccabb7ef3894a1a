"""Fitting the mechanism: known parameters recovered from data they generated; the spread."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calibration.evaluate import SIM_PREFIX
from calibration.mean_field import MeanFieldTwin, Mechanism
from calibration.mechanism_fit import check_fittable, fit_mechanism
from calibration.parameter_space import ParameterSpace
from simulator.errors import UsageError
from simulator.scenario import load_scenario
from simulator.sources import MOBILITY_CATEGORIES, load_observed

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml"
REGIONS = ["FRA", "IND", "ESP", "SWE"]
TRUTH = {"behaviours.workplaces.policy.c2_workplace_closing": -2.8, "dynamics.habit": 0.65}


@pytest.fixture(scope="module")
def generated():
    """Observed mobility replaced by the mean field's aggregates under known parameters."""
    scenario = load_scenario(SCENARIO).with_engine("rules")
    space = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names)
    truth = space.prior.copy()
    for name, value in TRUTH.items():
        truth[space.names.index(name)] = value
    twin = MeanFieldTwin.build(scenario, REGIONS, 300, 0, progress=False)
    simulated = twin.simulate(space.mechanism(truth))
    observed = load_observed(None, regions=REGIONS)
    mobility = observed.mobility[["region", "week"]].merge(simulated, on=["region", "week"])
    mobility = mobility.rename(columns={SIM_PREFIX + c: c for c in MOBILITY_CATEGORIES})
    return scenario, replace(observed, mobility=mobility)


@pytest.mark.slow
def test_known_parameters_are_recovered_from_the_data_they_generated(generated):
    scenario, observed = generated
    fitted = fit_mechanism(scenario, observed, REGIONS, agents=300, iterations=40, workers=1,
                           progress=False, events=False)
    values = fitted.by_name()
    for name, truth in TRUTH.items():
        prior = next(v.prior for v in fitted.values if v.name == name)
        # at least half of the way from the prior to the truth
        assert abs(values[name] - truth) < 0.5 * abs(prior - truth), (name, values[name])
    rmse = fitted.fit["train_macro_rmse"]
    assert rmse["fitted"] < 0.5 * rmse["prior"]
    assert fitted.fit["objective"]["fitted"] < fitted.fit["objective"]["prior"]
    spread = {v.name: v for v in fitted.values}
    assert all(v.sd > 0 and 0 <= v.contraction <= 1 for v in fitted.values)
    # a weight on the policy that changed most in 2020 is pinned down by the data
    assert spread["behaviours.workplaces.policy.c2_workplace_closing"].identified
    assert fitted.fit["training_rows"] > 100 and fitted.fit["regions"] == REGIONS


@pytest.mark.slow
def test_partial_pooling_finds_each_regions_compliance():
    scenario = load_scenario(SCENARIO).with_engine("rules")
    space = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names, tuple(REGIONS))
    truth = space.prior.copy()
    own = {"FRA": 0.5, "IND": 1.8}
    for code, value in own.items():
        truth[space.names.index(f"regions.{code}.engine.compliance_scale")] = value
    twin = MeanFieldTwin.build(scenario, REGIONS, 300, 0, progress=False)
    simulated = twin.simulate(space.mechanisms(truth))
    observed = load_observed(None, regions=REGIONS)
    mobility = observed.mobility[["region", "week"]].merge(simulated, on=["region", "week"])
    mobility = mobility.rename(columns={SIM_PREFIX + c: c for c in MOBILITY_CATEGORIES})
    fitted = fit_mechanism(scenario, replace(observed, mobility=mobility), REGIONS, agents=300,
                           iterations=30, workers=1, progress=False, events=False, pooling=True)
    values = fitted.by_name()
    assert fitted.fit["pooling"] == "regions"
    assert values["regions.FRA.engine.compliance_scale"] < 0.8
    assert values["regions.IND.engine.compliance_scale"] > 1.3
    assert fitted.for_region("IND")["engine.compliance_scale"] > 1.3


@pytest.mark.slow
def test_restarts_record_their_values(generated):
    scenario, observed = generated
    fitted = fit_mechanism(scenario, observed, REGIONS[:2], agents=200, iterations=2,
                           restarts=2, workers=1, progress=False)
    assert all(len(v.restarts) == 2 for v in fitted.values)
    assert len(fitted.fit["optimiser"]["restart_objectives"]) == 2
    assert np.isfinite([v.value for v in fitted.values]).all()


def test_only_the_rules_engine_is_fitted_inside_the_protocols():
    scenario = load_scenario(SCENARIO)
    assert scenario.engine.name == "local"
    with pytest.raises(UsageError, match="built for the rules engine"):
        check_fittable(scenario)
    check_fittable(scenario.with_engine("rules"))
