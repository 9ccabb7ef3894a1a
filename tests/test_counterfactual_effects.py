import numpy as np
import pandas as pd
import pytest

from calibration.baselines import Method
from calibration.counterfactual_effects import (
    change_features,
    event_paths,
    fit_event_study,
    predicted_effects,
    region_folds,
)
from calibration.events import PolicyChange, PolicyEvent
from simulator.sources.indicators import stringency_index

WEEKS = pd.date_range("2020-09-07", periods=12, freq="7D")


def event(week=4, held=None, after=None, region="FRA"):
    held = held or {"c6_stay_at_home_requirements": 0.0}
    after = after or dict.fromkeys(held, 2.0)
    changes = tuple(PolicyChange(region, WEEKS[week], name, level, after[name])
                    for name, level in held.items())
    return PolicyEvent(region, WEEKS[week], changes, held, after, 20.0)


def rows(observed_index_offset=3.0):
    c6 = np.where(np.arange(len(WEEKS)) >= 4, 2.0, 0.0)
    frame = pd.DataFrame({"region": "FRA", "week": WEEKS, "c6_stay_at_home_requirements": c6,
                          "c1_school_closing": 1.0, "sim_parks": np.arange(len(WEEKS)) * 1.0})
    formula = [stringency_index(r) for r in frame.drop(columns=["region", "week"])
               .to_dict("records")]
    # OxCGRT's own index differs from the formula (flags): the undone path keeps that offset.
    frame["stringency_index"] = np.asarray(formula) + observed_index_offset
    return frame


def test_the_undone_path_holds_the_event_at_week_minus_1_from_week_0_to_week_4():
    branch = pd.DataFrame({"region": "FRA", "week": WEEKS[4:9], "sim_parks": -1.0})
    factual, undone = event_paths(rows(), event(), branch)
    assert factual["week"].max() == WEEKS[8] and len(undone) == len(factual) == 9
    held = undone["week"] >= WEEKS[4]
    assert (undone.loc[held, "c6_stay_at_home_requirements"] == 0.0).all()
    pd.testing.assert_frame_equal(undone[~held], factual[~held])
    # The index moves by what the formula gives for the held levels, keeping OxCGRT's offset.
    expected = [stringency_index({"c1_school_closing": 1.0}) + 3.0] * held.sum()
    assert undone.loc[held, "stringency_index"].to_numpy() == pytest.approx(expected)
    assert (undone.loc[held, "sim_parks"] == -1.0).all()
    assert (undone["c1_school_closing"] == 1.0).all()


class LinearInC6(Method):
    """Predicts parks as -5 per level of C6, read with a one-week lag within each path."""

    name = "linear"

    def predict(self, inputs):
        lagged = inputs.groupby("region")["c6_stay_at_home_requirements"].shift(1).fillna(0)
        return pd.DataFrame({"parks": -5.0 * lagged}, index=inputs.index)


def test_an_effect_is_the_mean_difference_of_the_two_paths_over_weeks_1_to_4():
    e = event()
    paths = {e.key: (e, *event_paths(rows(), e, None))}
    found = predicted_effects([LinearInC6()], paths, ["parks"])["linear"]
    # Weeks +1..+4 read C6 of weeks 0..+3: 2 on the observed path, 0 when undone.
    assert found.loc[e.key, "parks"] == pytest.approx(-10.0)


def test_every_path_is_its_own_series_when_predictions_are_stacked():
    first, second = event(week=4), event(week=4, region="ESP")
    paths = {first.key: (first, *event_paths(rows(), first, None)),
             second.key: (second, *event_paths(rows().assign(region="ESP"), second, None))}
    found = predicted_effects([LinearInC6()], paths, ["parks"])["linear"]
    assert found["parks"].to_numpy() == pytest.approx([-10.0, -10.0])


def test_folds_deal_regions_evenly_and_reproducibly():
    codes = [f"R{i}" for i in range(12)]
    folds = region_folds(codes, 5, seed=0)
    assert folds == region_folds(codes, 5, seed=0)
    sizes = np.bincount(list(folds.values()))
    assert sizes.max() - sizes.min() <= 1 and len(sizes) == 5
    assert sorted(region_folds(codes[:3], 5, seed=0).values()) == [0, 1, 2]


def test_the_event_study_is_the_mean_effect_per_level_of_each_indicator_and_direction():
    closings = [event(week=k, held={"c1_school_closing": 0.0}, after={"c1_school_closing": 2.0})
                for k in (2, 3, 4)]
    openings = [event(week=k, held={"c1_school_closing": 3.0}, after={"c1_school_closing": 2.0})
                for k in (5, 6)]
    both = closings + openings
    features = change_features(both, ["c1_school_closing"])
    assert features.loc[closings[0].key].to_dict() == {"c1_school_closing:tighten": 2.0,
                                                         "c1_school_closing:loosen": 0.0}
    observed = pd.DataFrame({"parks": [-8.0, -10.0, -12.0, 4.0, 6.0]}, index=features.index)
    model = fit_event_study(features, observed)["parks"]
    new = change_features([event(week=7, held={"c1_school_closing": 0.0},
                                 after={"c1_school_closing": 1.0})], ["c1_school_closing"])
    # -10 per two levels closed: -5 a level, shrunk by the ridge penalty to
    # sum(x y) / (sum(x^2) + alpha) = 2 * -30 / (3 * 4 + 1).
    assert model.predict(new.to_numpy())[0] == pytest.approx(-60 / 13)
    assert model.coef_[1] == pytest.approx(2 * 1.0 * 5 / (2 * 1.0 + 1))  # loosen: +5 a level
