"""The training events of a fit: only its regions' training weeks, and the protocol's effect."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.calibrator import BehaviourCalibrator
from calibration.evaluate import assemble
from calibration.fit_objective import FitObjective
from calibration.mean_field import MeanFieldTwin, Mechanism
from calibration.parameter_space import ParameterSpace
from calibration.protocol import TRAIN_WINDOW
from calibration.training_events import LAST, TrainingEvents
from simulator.scenario import load_scenario
from simulator.sources import MOBILITY_CATEGORIES, ObservedData, load_observed

US = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020.yaml"
REGIONS = ["US_CA", "US_NY", "US_TX", "US_FL", "US_IL", "US_WA", "US_MA", "US_GA"]


@pytest.fixture(scope="module")
def setting():
    scenario = load_scenario(US).with_engine("rules")
    observed = load_observed(None, regions="all")
    twin = MeanFieldTwin.build(scenario, REGIONS, 200, 0, progress=False)
    return scenario, observed, twin, TrainingEvents.build(scenario, observed, twin)


def test_events_are_the_fits_regions_inside_the_training_weeks(setting):
    _, _, twin, events = setting
    assert len(events) >= 5 and events.counts["scored"] == len(events)
    assert np.isfinite(events.observed).any(axis=1).all()
    for key, r, start in zip(events.keys, events.region, events.start, strict=True):
        region, week = key.split(" ")
        assert twin.regions[r].region == region
        assert twin.regions[r].dates[start] == pd.Timestamp(week)
        assert pd.Timestamp(week) - pd.Timedelta(weeks=3) >= pd.Timestamp(TRAIN_WINDOW[0])
        assert pd.Timestamp(week) + pd.Timedelta(weeks=LAST) <= pd.Timestamp(TRAIN_WINDOW[1])


def test_no_test_week_and_no_other_region_is_read(setting):
    scenario, observed, twin, events = setting
    mobility = observed.mobility.copy()
    later = pd.to_datetime(mobility["week"]) > pd.Timestamp(TRAIN_WINDOW[1])
    other = ~mobility["region"].isin(REGIONS)
    mobility.loc[later | other, list(MOBILITY_CATEGORIES)] = 1e6
    changed = ObservedData(observed.policy, mobility, observed.context)
    again = TrainingEvents.build(scenario, changed, twin)
    assert again.keys == events.keys
    np.testing.assert_array_equal(again.observed, events.observed)


def test_the_twins_effect_is_the_calibrated_difference_of_the_two_paths(setting):
    # The shortcut (only the weeks a lag of weeks +1..+4 reads) against predicting each
    # region's whole path and its whole undone path from the routine on.
    scenario, observed, twin, events = setting
    mechanism = Mechanism.of(scenario)
    _, paths = events.simulate(twin, mechanism, 10)
    inputs, targets = assemble(observed, twin.simulate(mechanism))
    train = (inputs["window"] == "train").to_numpy() & targets.notna().all(axis=1).to_numpy()
    columns = [c for c in inputs.columns if c.startswith("sim_")]
    model = BehaviourCalibrator(alpha=1.0, lags=2, region_effects="scale").fit(
        inputs.loc[train, columns].to_numpy(), targets[train].to_numpy(),
        groups=inputs.loc[train, "region"].to_numpy())
    found = events.effects(model, paths)
    for e, (r, s) in enumerate(zip(events.region, events.start, strict=True)):
        factual = twin.regions[r].mean_changes(mechanism, s + LAST + 1)
        undone = events.branches[e].mean_changes(mechanism, s + LAST + 1)
        np.testing.assert_allclose(paths[e][0], factual, atol=1e-9)
        np.testing.assert_allclose(paths[e][1], undone[s:], atol=1e-9)
        sides = [model.predict(path, groups=np.array(["unseen"] * len(path)))[s + 1:]
                 for path in (factual, undone)]
        np.testing.assert_allclose(found[e], (sides[0] - sides[1]).mean(axis=0), atol=1e-9)
    assert np.abs(found).max() > 0.5  # pp: the events move the twin


def test_the_undone_path_is_the_observed_path_moved_by_the_undo_alone(setting):
    # Before week 0 and after week +4 the branch is the observed path, stringency index too
    # (the observed series, not the formula's); inside, the undone indicators sit at week -1's
    # level and the index moves by the formula's change.
    scenario, _, twin, events = setting
    for e, (r, s) in enumerate(zip(events.region, events.start, strict=True)):
        own, branch = twin.regions[r], events.branches[e]
        window = np.zeros(len(own.dates) + 1, dtype=bool)
        window[s + 1:s + LAST + 2] = True  # ticks s..s+4, the routine first
        for part in ("policy", "context"):
            for name, values in getattr(own, part).items():
                np.testing.assert_allclose(getattr(branch, part)[name][~window],
                                           values[~window], atol=1e-12)
        moved = [name for name, values in own.policy.items()
                 if not np.allclose(branch.policy[name][window], values[window])]
        assert moved, events.keys[e]
        for name in moved:
            np.testing.assert_allclose(branch.policy[name][window], branch.policy[name][s],
                                       atol=1e-12)  # held at week -1's level


def test_the_objective_counts_the_events_as_their_own_observations(setting):
    scenario, observed, twin, events = setting
    space = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names)
    weeks = FitObjective(twin, space, observed)
    both = FitObjective(twin, space, observed, events)
    metrics = len(MOBILITY_CATEGORIES)
    residuals = both.residuals(space.prior_free)
    assert residuals.shape == (both.rows + len(events), metrics)
    np.testing.assert_allclose(residuals[:both.rows], weeks.residuals(space.prior_free))
    np.testing.assert_array_equal(np.isnan(residuals[both.rows:]), np.isnan(events.observed))
    assert set(np.unique(both.group[both.observed])) == set(range(2 * metrics))
    extra = sum(np.sum(~np.isnan(events.observed[:, m])) / 2 * np.log(
        np.nanmean(residuals[both.rows:, m] ** 2)) for m in range(metrics))
    assert both(space.prior_free) == pytest.approx(weeks(space.prior_free) + extra)
    figures = both.figures(space.prior_free)
    assert figures["train_macro_rmse"] == pytest.approx(
        weeks.figures(space.prior_free)["train_macro_rmse"])
    assert figures["events_mae"] == pytest.approx(np.nanmean(np.abs(residuals[both.rows:])))
