import numpy as np
import pandas as pd

from calibration.baselines import CalibratedTwin, Persistence, gradient_boosting, ridge


def frame():
    weeks = pd.date_range("2020-03-02", periods=10, freq="W-MON")
    rows = []
    for r in ("A", "B"):
        for k, week in enumerate(weeks):
            rows.append({"region": r, "week": week, "x": float(k), "sim_y": float(k)})
    inputs = pd.DataFrame(rows)
    observed = pd.DataFrame({"y": inputs["x"] * 2 + np.where(inputs["region"] == "B", 50, 0)})
    return inputs, observed


def test_persistence_carries_each_regions_last_value():
    inputs, observed = frame()
    predicted = Persistence().fit(inputs, observed).predict(inputs)
    assert set(predicted.loc[inputs["region"] == "A", "y"]) == {18.0}
    assert set(predicted.loc[inputs["region"] == "B", "y"]) == {68.0}


def test_signal_regressions_and_the_twin_fit_the_same_frame():
    inputs, observed = frame()
    for method in (ridge("r", ["x"], "ridge"), gradient_boosting("g", ["x"], "gbm"),
                   CalibratedTwin(["sim_y"], alpha=1e-6, region_effects="offset")):
        predicted = method.fit(inputs, observed).predict(inputs)
        assert predicted.shape == (20, 1) and list(predicted.index) == list(inputs.index)
    twin = CalibratedTwin(["sim_y"], alpha=1e-6, region_effects="offset").fit(inputs, observed)
    np.testing.assert_allclose(twin.predict(inputs)["y"], observed["y"], atol=1e-3)
