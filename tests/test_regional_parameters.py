"""Fitted parameters region by region: a region's own values, the pool's for the others."""

from pathlib import Path

import pytest

from calibration.regional_parameters import regional_engine, regional_scenario
from simulator.cognition import make_engine
from simulator.fitted_parameters import FittedParameters, FittedValue
from simulator.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO).with_engine("rules").replace(region="FRA")


@pytest.fixture(scope="module")
def fitted():
    return FittedParameters("rules", (
        FittedValue("dynamics.habit", 0.3, 0.4),
        FittedValue("regions.FRA.engine.compliance_scale", 0.6, 1.0),
        FittedValue("regions.IND.engine.compliance_scale", 1.8, 1.0),
    ))


def test_a_region_takes_its_own_values_and_an_unseen_one_the_pools(fitted):
    assert fitted.regional
    assert fitted.for_region("IND") == {"dynamics.habit": 0.3, "engine.compliance_scale": 1.8}
    assert fitted.for_region("DEU") == {"dynamics.habit": 0.3, "engine.compliance_scale": 1.0}


def test_each_regions_scenario_whatever_region_it_was_applied_to_before(scenario, fitted):
    applied = fitted.applied_to(scenario)
    assert applied.engine.options.compliance_scale == 0.6 and applied.dynamics.habit == 0.3
    india = regional_scenario(applied, "IND", fitted, population_size=100)
    germany = regional_scenario(applied, "DEU", fitted)
    assert india.engine.options.compliance_scale == 1.8 and india.population_size == 100
    assert germany.engine.options.compliance_scale == 1.0  # not France's
    assert regional_scenario(scenario, "IND").engine.options.compliance_scale == 1.0


def test_a_file_applies_each_regions_values_as_the_scenario_changes_region(tmp_path, scenario,
                                                                          fitted):
    path = fitted.save(tmp_path / "p.json")
    france = scenario.replace(engine={**dict(scenario.engine), "parameters": str(path)})
    assert france.engine.options.compliance_scale == 0.6
    assert france.replace(region="IND").engine.options.compliance_scale == 1.8
    assert france.replace(region="DEU").engine.options.compliance_scale == 1.0


def test_a_region_with_other_options_runs_on_an_engine_of_its_own(scenario, fitted):
    shared = make_engine("rules", scenario.engine.options, scenario.policy.indicators)
    with regional_engine(scenario.replace(region="DEU"), scenario, shared) as engine:
        assert engine is shared
    india = regional_scenario(scenario, "IND", fitted)
    with regional_engine(india, scenario, shared) as engine:
        assert engine is not shared and engine.compliance_scale == 1.8
    assert shared.compliance_scale == 1.0
