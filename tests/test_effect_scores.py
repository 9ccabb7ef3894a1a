import numpy as np
import pandas as pd
import pytest

from calibration.effect_scores import (
    POOLED,
    agreement,
    by_indicator,
    correlation,
    coverage,
    score_table,
)


def test_sign_agreement_counts_only_effects_above_the_noise_and_zero_has_no_sign():
    observed = np.array([-10.0, 8.0, -1.0, 0.5])
    above = np.abs(observed) > 5
    assert agreement(observed, np.array([-1.0, 2.0, 3.0, -3.0]), above) == 1.0
    assert agreement(observed, np.array([-1.0, -2.0, 0.0, 0.0]), above) == 0.5
    assert agreement(observed, np.zeros(4), above) == 0.0
    assert agreement(observed, np.zeros(4), np.zeros(4, dtype=bool)) is None


def test_correlations_of_a_constant_prediction_are_undefined():
    observed = np.array([1.0, 2.0, 3.0, 5.0])
    assert correlation(observed, np.zeros(4), "pearson") is None
    assert correlation(observed, 2 * observed, "pearson") == pytest.approx(1.0)
    assert correlation(observed, -observed ** 3, "spearman") == pytest.approx(-1.0)


@pytest.fixture
def effects():
    return pd.DataFrame({
        "event": ["A", "A", "B", "B", "C", "C"],
        "category": ["parks", "workplaces"] * 3,
        "observed": [-30.0, -8.0, 20.0, 1.0, -2.0, 9.0],
        "twin": [-10.0, -4.0, 5.0, 2.0, 1.0, 3.0],
        "zero": 0.0,
        "lower": [-20.0, -6.0, 0.0, 0.0, -5.0, 0.0],
        "upper": [0.0, -2.0, 10.0, 4.0, 5.0, 5.0],
    })


def test_the_score_table_has_every_method_pooled_and_per_category(effects):
    threshold = pd.Series({"parks": 10.0, "workplaces": 5.0})
    table = score_table(effects, ["twin", "zero"], threshold).set_index(["method", "category"])
    twin = table.loc[("twin", POOLED)]
    assert twin["n"] == 6 and twin["n_above_noise"] == 4
    assert twin["sign_agreement"] == 1.0
    assert twin["mae"] == pytest.approx(np.mean([20, 4, 15, 1, 3, 6]))
    parks = table.loc[("twin", "parks")]
    assert parks["n"] == 3 and parks["n_above_noise"] == 2
    assert pd.isna(table.loc[("zero", POOLED), "pearson"])


def test_coverage_is_the_share_inside_the_band_pooled_and_per_category(effects):
    found = coverage(effects, "lower", "upper")
    assert found == {POOLED: pytest.approx(2 / 6), "parks": pytest.approx(1 / 3),
                     "workplaces": pytest.approx(1 / 3)}


def test_events_are_counted_under_every_indicator_they_changed(effects):
    events = pd.DataFrame({"event": ["A", "B", "C"],
                           "directions": ["c1:tighten+c6:tighten", "c6:loosen", "c1:tighten"]})
    table = by_indicator(effects, events, ["twin"]).set_index(
        ["indicator", "direction", "category"])
    c1 = table.loc[("c1", "tighten", "parks")]
    assert (c1["n_events"], c1["n_alone"]) == (2, 1)
    assert c1["observed"] == pytest.approx(-16.0) and c1["twin"] == pytest.approx(-4.5)
    assert table.loc[("c6", "loosen", "workplaces"), "n_alone"] == 1
    assert table.loc[("c6", "tighten", "parks"), "n_alone"] == 0
