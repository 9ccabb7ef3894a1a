"""The event protocol with fitted parameters: each fold's fit never sees the fold's regions."""

from pathlib import Path

import pytest

from calibration.counterfactual_effects import region_folds
from calibration.event_protocol import evaluate_events
from calibration.fold_fits import fold_runs, merged, parameters_summary
from simulator.scenario import load_scenario
from simulator.sources import load_observed

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml"
CODES = ["FRA", "IND", "ESP", "SWE"]


@pytest.mark.slow
def test_each_folds_parameters_are_fitted_without_its_regions():
    scenario = load_scenario(SCENARIO).with_engine("rules").replace(population_size=200)
    fold_of = {"FRA": 0, "IND": 0, "ESP": 1, "SWE": 1}
    runs, parameters = fold_runs(scenario, CODES, [], fold_of, load_observed(None, CODES),
                                 agents=200, seed=0, progress=False, trials=1)
    for fold, fitted in parameters.items():
        assert sorted(fitted.fit["regions"]) == sorted(c for c in CODES if fold_of[c] != fold)
        assert set(runs[fold].factual["region"]) == set(CODES)  # every region's factual path
    assert parameters[0].by_name() != parameters[1].by_name()
    together = merged(runs)
    assert together.branches == {} and together.totals["agents_per_region"] == 200
    summary = parameters_summary(parameters)
    assert set(summary) == {"0", "1"} and summary["0"]["regions"] == 2


@pytest.mark.slow
def test_the_event_protocol_scores_with_parameters_fitted_per_fold():
    scenario = load_scenario(SCENARIO).with_engine("rules")
    regions = "FRA,IND,ESP,SWE,NZL,KOR,CAN,AUS,MEX,ZAF"
    evaluation = evaluate_events(scenario, regions=regions, agents=200, progress=False,
                                 folds=2, fit=True, trials=1)
    result = evaluation.to_json()
    assert set(result["parameters"]) == {"0", "1"} and result["n_events"] > 0
    assert result["mechanism_detail"]["parameters"] == "fitted per fold of regions"
    fold_of = region_folds(result["region_codes"], 2, 0)
    for fold, fitted in result["parameters"].items():
        others = [c for c in result["region_codes"] if fold_of[c] != int(fold)]
        assert fitted["regions"] == len(others) < len(result["region_codes"])
