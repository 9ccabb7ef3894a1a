import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.evaluate import assemble, compare, simulate_regions, window_of
from calibration.run_calibration import apply_calibrator, calibrate_run, calibration_gap
from simulator.scenario import load_scenario
from simulator.sources import load_observed
from socialtwin.main import main

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ["USA", "US_CA", "US_MN"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml").with_engine("rules")


@pytest.fixture(scope="module")
def panel(scenario):
    simulated, totals = simulate_regions(scenario, REGIONS, agents=400, seed=1, progress=False)
    inputs, targets = assemble(load_observed(regions=REGIONS), simulated)
    return inputs, targets, totals


@pytest.fixture(scope="module")
def evaluation(panel):
    inputs, targets, _ = panel
    return compare(inputs, targets, "rules")


def test_weeks_belong_to_a_window_only_when_all_their_days_do():
    weeks = pd.Series(pd.to_datetime(["2020-02-24", "2020-03-02", "2020-12-21", "2020-12-28",
                                      "2021-01-04", "2021-04-19", "2021-04-26"]))
    assert list(window_of(weeks)) == [None, "train", "train", None, "test", "test", None]


def test_no_test_week_leaks_into_training(panel, evaluation):
    inputs, targets, _ = panel
    honest = evaluation
    poisoned_targets = targets.copy()
    test = (inputs["window"] == "test").to_numpy()
    poisoned_targets.loc[test] = np.random.default_rng(0).normal(500, 300, (test.sum(),
                                                                             targets.shape[1]))
    poisoned = compare(inputs, poisoned_targets, "rules")
    methods = list(honest.table.index)
    pd.testing.assert_frame_equal(honest.predictions[methods], poisoned.predictions[methods])
    np.testing.assert_array_equal(honest.twin.calibrator.coef_, poisoned.twin.calibrator.coef_)
    assert (poisoned.table["macro"] > 100).all()
    pd.testing.assert_frame_equal(honest.selection, poisoned.selection)
    # The bands come from held-out training residuals: the test weeks do not widen them.
    assert honest.intervals["half_width"] == poisoned.intervals["half_width"]
    assert poisoned.intervals["coverage"]["pooled"] < honest.intervals["coverage"]["pooled"]


def test_the_calibrated_series_carry_a_band_whose_test_coverage_is_measured(evaluation):
    intervals = evaluation.intervals
    assert intervals["nominal"] == 0.8
    predictions = evaluation.predictions
    width = predictions["band_upper"] - predictions["band_lower"]
    half = predictions["metric"].map(intervals["half_width"])
    np.testing.assert_allclose(width, 2 * half, atol=1e-3)  # the record is rounded
    test = predictions[(predictions["window"] == "test") & predictions["observed"].notna()]
    inside = (test["observed"] >= test["band_lower"]) & (test["observed"] <= test["band_upper"])
    assert intervals["coverage"]["pooled"] == pytest.approx(inside.mean(), abs=1e-4)
    assert set(intervals["coverage"]) == {"pooled", *intervals["half_width"]}


def test_every_method_is_scored_on_the_same_rows(evaluation):
    assert set(evaluation.table.index) == {"twin[rules]", "persistence", "gbm",
                                           "gbm_all_context", "gbm_regions", "ridge_stringency",
                                           "ridge_indicators"}
    assert list(evaluation.table.columns)[-1] == "macro"
    assert evaluation.table.notna().all().all()
    summary = evaluation.to_json()
    assert summary["regions"] == 3
    twin = summary["macro_rmse"]["twin[rules]"]
    gbm = summary["macro_rmse"]["gbm"]
    assert summary["improvement_vs_gbm_pct"] == pytest.approx(100 * (gbm - twin) / gbm, abs=0.01)


def test_simulation_accounting(panel):
    _, _, totals = panel
    assert totals["agent_ticks"] == 3 * 400 * 60
    assert totals["llm_calls"] == 0 and totals["failed_answers"] == 0


def test_calibrate_a_run_and_apply_it_to_another(scenario):
    from simulator.run import run_scenario

    run = run_scenario(scenario.replace(population_size=400), progress=False, agent_views=False)
    calibration = calibrate_run(run.trajectories, "USA", "rules")
    table = calibration.evaluation.table
    assert table.loc["twin[rules]", "macro"] < table.loc["ridge_stringency", "macro"]
    predicted = apply_calibrator(calibration.calibrator, run.trajectories, "USA")
    assert set(predicted["metric"]) == set(table.columns) - {"macro"}
    assert len(predicted) == 6 * 60 and predicted["calibrated"].notna().all()


def test_calibration_gap_explains_itself(scenario):
    assert calibration_gap(scenario) is None
    short = scenario.replace(end=scenario.start.replace(month=6))
    assert "does not reach" in calibration_gap(short)
    stay = load_scenario(ROOT / "scenarios" / "congestion_pricing.yaml")
    assert "no behaviour maps" in calibration_gap(stay)


@pytest.mark.slow
def test_evaluate_command_prints_json(capsys):
    status = main(["evaluate", "--engine", "rules", "--regions", "US_VT,US_WY",
                   "--agents", "200", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["regions"] == 2 and result["engine"] == "rules"
    assert {"twin[rules]", "gbm", "persistence"} <= set(result["macro_rmse"])
    assert "improvement_vs_gbm_pct" in result


def test_evaluate_command_rejects_unknown_regions(capsys):
    assert main(["evaluate", "--regions", "Atlantis", "--agents", "50"]) == 2
    assert "Atlantis" in capsys.readouterr().err


def test_per_region_table(evaluation):
    by_region = evaluation.by_region
    assert list(by_region.columns[:2]) == ["region", "method"]
    assert set(by_region["region"]) == set(REGIONS)
    assert len(by_region) == len(REGIONS) * len(evaluation.table)
    summary = evaluation.to_json()
    assert set(summary["per_region"]) == set(REGIONS)
    row = by_region[(by_region["region"] == "USA") & (by_region["method"] == "gbm")]
    assert summary["per_region"]["USA"]["gbm"] == pytest.approx(row["macro"].item(), abs=1e-4)
    assert summary["excluded"] == {}


@pytest.mark.parametrize(("regions", "message"), [
    ("DEU", "DEU: no observed mobility"),
    ("GRD", "GRD: no observed mobility"),
    ("LIE,US_VT", "LIE: no population data"),
])
def test_explicit_regions_lacking_inputs_are_named_before_any_work(capsys, regions, message):
    assert main(["evaluate", "--engine", "rules", "--regions", regions, "--agents", "50"]) == 2
    err = capsys.readouterr().err
    assert message in err and "simulating" not in err


@pytest.mark.parametrize(("overrides", "field"), [({"agents": 0}, "population.size (--agents)"),
                                                  ({"seed": -1}, "seed (--seed)")])
def test_evaluate_checks_its_overrides_before_any_work(scenario, overrides, field, monkeypatch):
    # Called from Python too, not only from the command line: nothing is read before the check.
    import importlib

    from simulator.errors import ScenarioError

    module = importlib.import_module("calibration.evaluate")

    monkeypatch.setattr(module, "load_observed", lambda *a, **k: pytest.fail("data was read"))
    with pytest.raises(ScenarioError, match=field.replace("(", r"\(").replace(")", r"\)")):
        module.evaluate(scenario, regions="nation", **overrides)
