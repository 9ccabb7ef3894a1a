import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator, check_param_validation

from calibration.calibrator import BehaviourCalibrator


@pytest.mark.parametrize("effects", BehaviourCalibrator.EFFECTS)
def test_passes_the_scikit_learn_estimator_checks(effects):
    check_estimator(BehaviourCalibrator(region_effects=effects))


def test_with_lags_only_the_row_order_checks_fail_by_design():
    order = "rows are a time series within each region: lags read the previous rows"
    check_estimator(BehaviourCalibrator(lags=2), expected_failed_checks={
        "check_methods_sample_order_invariance": order,
        "check_methods_subset_invariance": order,
    })


def panel(seed=0, regions=4, weeks=40):
    """Regions that see the same signal path but differ in level and in response strength."""
    rng = np.random.default_rng(seed)
    shared = np.cumsum(rng.normal(size=(weeks, 3)), axis=0)
    rows = []
    for r in range(regions):
        x = shared + rng.normal(0, 0.01, size=(weeks, 3))
        level, scale = 10.0 * r, 1.0 + r
        y = level + scale * (2.0 * x[:, 0] - x[:, 1]) + rng.normal(0, 0.1, weeks)
        rows.append(pd.DataFrame({"region": f"R{r}", "a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                                  "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_recovers_a_linear_map_and_region_effects():
    data = panel()
    X, y, g = data[["a", "b", "c"]], data[["y"]], data["region"]
    pooled = BehaviourCalibrator(alpha=1e-6).fit(X, y, groups=g)
    scaled = BehaviourCalibrator(alpha=1e-6, region_effects="scale").fit(X, y, groups=g)
    error = lambda m: np.sqrt(np.mean((m.predict(X, groups=g)[:, 0] - y["y"]) ** 2))  # noqa: E731
    assert error(scaled) < 0.2 < error(pooled)
    np.testing.assert_allclose(scaled.scales_[:, 0] / scaled.scales_[0, 0], [1, 2, 3, 4],
                               rtol=0.05)
    assert scaled.metrics_ == ["y"] and list(scaled.feature_names_in_) == ["a", "b", "c"]


def test_unseen_region_gets_the_mean_effects():
    data = panel()
    model = BehaviourCalibrator(region_effects="offset").fit(
        data[["a", "b", "c"]], data[["y"]], groups=data["region"])
    new = model.predict(data[["a", "b", "c"]].iloc[:3], groups=["elsewhere"] * 3)
    z = (data[["a", "b", "c"]].iloc[:3].to_numpy() - model.mean_) / model.scale_
    np.testing.assert_allclose(new[:, 0], z @ model.coef_[0] + model.offsets_[:, 0].mean())


def test_lags_never_cross_regions():
    data = panel(regions=2, weeks=5)
    model = BehaviourCalibrator(lags=1).fit(data[["a", "b", "c"]], data["y"],
                                            groups=data["region"])
    assert model.coef_.shape == (1, 6)
    first_of_second_region = data.index[data["region"] == "R1"][0]
    shuffled = data.copy()
    shuffled.loc[data["region"] == "R0", ["a", "b", "c"]] = 99.0
    a = model.predict(data[["a", "b", "c"]], groups=data["region"])
    b = model.predict(shuffled[["a", "b", "c"]], groups=data["region"])
    assert a[first_of_second_region] == pytest.approx(b[first_of_second_region])


def test_missing_targets_are_left_out_per_metric():
    data = panel()
    y = data[["y"]].assign(z=data["y"] * 2)
    y.loc[:9, "z"] = np.nan
    model = BehaviourCalibrator().fit(data[["a", "b", "c"]], y)
    assert list(model.n_train_) == [len(data), len(data) - 10]
    assert np.isfinite(model.predict(data[["a", "b", "c"]])).all()


def test_json_round_trip(tmp_path):
    data = panel()
    model = BehaviourCalibrator(alpha=3.0, lags=1, region_effects="scale").fit(
        data[["a", "b", "c"]], data[["y"]], groups=data["region"])
    path = model.save(tmp_path / "calibrator.json")
    assert b"pickle" not in path.read_bytes()
    again = BehaviourCalibrator.load(path)
    np.testing.assert_array_equal(again.predict(data[["a", "b", "c"]], groups=data["region"]),
                                  model.predict(data[["a", "b", "c"]], groups=data["region"]))
    assert again.get_params() == model.get_params()


def test_bad_file_is_refused(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a BehaviourCalibrator"):
        BehaviourCalibrator.load(bad)


def test_works_with_clone_pipeline_and_grid_search():
    data = panel(regions=1)
    X, y = data[["a", "b", "c"]].to_numpy(), data["y"].to_numpy()
    assert clone(BehaviourCalibrator(alpha=2.0)).get_params()["alpha"] == 2.0
    pipe = make_pipeline(FunctionTransformer(), BehaviourCalibrator())
    assert pipe.fit(X, y).score(X, y) > 0.9
    search = GridSearchCV(BehaviourCalibrator(), {"alpha": [0.1, 10.0]}, cv=3).fit(X, y)
    assert search.best_params_["alpha"] in (0.1, 10.0)


def test_invalid_parameters():
    data = panel()
    with pytest.raises(ValueError, match="region_effects"):
        BehaviourCalibrator(region_effects="yes").fit(data[["a"]], data["y"])
    with pytest.raises(ValueError, match="lags"):
        BehaviourCalibrator(lags=-1).fit(data[["a"]], data["y"])


@pytest.mark.parametrize("params", [{"alpha": -1.0}, {"alpha": np.nan}, {"alpha": "strong"},
                                    {"lags": 1.5}, {"lags": -1}, {"region_effects": "yes"}])
def test_parameters_are_checked_against_their_declared_constraints(params):
    data = panel()
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"The '{name}' parameter of BehaviourCalibrator must"):
        BehaviourCalibrator(**params).fit(data[["a"]], data["y"])


def test_passes_scikit_learns_parameter_validation_check():
    check_param_validation("BehaviourCalibrator", BehaviourCalibrator())


def test_a_failed_fit_leaves_no_model():
    model = BehaviourCalibrator()
    data = panel()
    y = data[["y"]].assign(z=np.nan)
    with pytest.raises(ValueError, match="metric z has fewer than 2 observed rows"):
        model.fit(data[["a"]], y)
    assert not hasattr(model, "coef_")


def test_lags_read_each_regions_earlier_rows_however_the_rows_interleave():
    from calibration.calibrator import _lagged

    X = np.arange(14, dtype=float).reshape(7, 2)
    groups = np.array(["b", "a", "b", "b", "a", "c", "a"])
    design = _lagged(X, 2, groups)
    # region b: rows 0, 2, 3; a: 1, 4, 6; c: 5. Before a region's first row, its first row.
    lag1 = X[[0, 1, 0, 2, 1, 5, 4]]
    lag2 = X[[0, 1, 0, 0, 1, 5, 1]]
    np.testing.assert_array_equal(design, np.hstack([X, lag1, lag2]))
