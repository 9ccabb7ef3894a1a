import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.evaluate import assemble
from calibration.event_protocol import _fold_predictions, evaluate_events
from calibration.event_report import event_text, write_event_outputs
from calibration.event_runs import simulate_events
from calibration.events import event_indicators, find_events
from simulator.errors import UsageError
from simulator.scenario import load_scenario
from simulator.sources import load_observed

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
REGIONS = "FRA,ESP,AUT,POL,SWE,NOR"
BASELINES = ("gbm", "gbm_all_context", "ridge_stringency", "ridge_indicators", "event_study",
             "zero")


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "covid_country_2020.yaml").with_engine("rules")


@pytest.fixture(scope="module")
def evaluation(scenario):
    return evaluate_events(scenario, REGIONS, agents=300, seed=4, progress=False, folds=3)


def test_the_json_carries_the_events_the_noise_and_every_method(evaluation):
    found = evaluation.to_json()
    assert found["protocol"] == "events" and found["regions"] == 6
    assert found["n_events"] == len(evaluation.events) == found["counts"]["scored"] > 20
    assert set(found["placebo_noise"]) == set(evaluation.effects["category"])
    assert all(v["sd"] > 0 for v in found["placebo_noise"].values())
    assert list(found["methods"]) == ["twin", *BASELINES]
    for figures in found["methods"].values():
        for key in ("sign_agreement", "pearson", "spearman", "mae", "coverage"):
            assert key in figures
        assert 0 <= figures["coverage"] <= 1 and figures["mae"] > 0
    assert found["methods"]["zero"]["pearson"] is None
    assert found["methods"]["zero"]["sign_agreement"] == 0
    assert -1 <= found["methods"]["twin"]["pearson"] <= 1
    assert found["folds"] == 3 and found["nominal_coverage"] == 0.8
    assert set(found["twin_effect_band"]["half_width"]) == set(found["placebo_noise"])
    json.dumps(found, allow_nan=False)


def test_every_event_is_scored_by_methods_fitted_without_its_region(scenario):
    codes = REGIONS.split(",")
    observed = load_observed(regions=codes)
    events, _ = find_events(observed.policy, event_indicators(True), codes)
    runs = simulate_events(scenario, codes, events, agents=300, seed=4, progress=False)
    events = [e for e in events if e.key in runs.branches]
    inputs, targets = assemble(observed, runs.factual)
    fold_of = {code: int(code == "FRA") for code in codes}
    effects = pd.DataFrame([{"event": e.key, "category": "parks", "observed": 1.0}
                            for e in events])
    honest = _fold_predictions(inputs, targets, effects, events,
                               [e for e in events if e.region == "FRA"], runs.branches,
                               fold_of, 1, "rules")
    poisoned_targets = targets.copy()
    poisoned_targets.loc[(inputs["region"] == "FRA").to_numpy()] = 1e4
    poisoned_effects = effects.assign(observed=np.where(
        effects["event"].str.startswith("FRA"), 1e4, 1.0))
    poisoned = _fold_predictions(inputs, poisoned_targets, poisoned_effects, events,
                                 [e for e in events if e.region == "FRA"], runs.branches,
                                 fold_of, 1, "rules")
    assert set(honest) == {"twin", *BASELINES}
    for method, (frame, _) in honest.items():
        assert len(frame) > 0
        pd.testing.assert_frame_equal(frame, poisoned[method][0], check_exact=False)


def test_the_report_and_files_say_what_was_measured(evaluation, tmp_path):
    text = event_text(evaluation)
    assert "Placebo noise" in text and "sign agreement" in text and "twin" in text
    written = write_event_outputs(evaluation, tmp_path)
    assert {p.name for p in written} == {"events.csv", "event_scores.csv",
                                         "events_by_indicator.csv", "events.json", "events.png"}
    events = pd.read_csv(tmp_path / "events.csv")
    for column in ("region", "date", "indicators", "category", "observed", "twin",
                   "twin_lower", "twin_upper", *BASELINES):
        assert column in events.columns
    assert len(events) == len(evaluation.effects)
    inside = (events["observed"] >= events["twin_lower"]) & (events["observed"] <=
                                                            events["twin_upper"])
    assert inside.mean() == pytest.approx(evaluation.to_json()["methods"]["twin"]["coverage"],
                                          abs=1e-4)


def test_one_region_is_not_enough(scenario):
    with pytest.raises(UsageError, match="at least two regions"):
        evaluate_events(scenario, "FRA", agents=300, progress=False)
