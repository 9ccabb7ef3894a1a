"""The calibration layer: a scikit-learn estimator from simulated aggregates to observed metrics.

``BehaviourCalibrator`` is ridge regression per observed metric on the population's simulated
aggregates (e.g. the weekly mean probability of each behaviour, as % change from baseline),
optionally with lags, pooled across regions: one set of coefficients for every region, so the
twin transfers to regions and periods it was not fitted on. It follows the scikit-learn estimator
contract (parameters stored by ``__init__``, declared as scikit-learn parameter constraints and
checked when ``fit`` starts, learned attributes ending in ``_``), so it works with ``clone``,
``Pipeline`` and ``GridSearchCV``, and it is saved as JSON, never pickle.
"""

from __future__ import annotations

import json
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

_FORMAT = "socialtwin.BehaviourCalibrator/1"


class BehaviourCalibrator(RegressorMixin, BaseEstimator):
    """Ridge regression per observed metric on simulated aggregates, with optional lags.

    Args:
        alpha: ridge penalty on the standardised features (shared by the metrics).
        lags: number of past ticks of every feature added to the design (0 = none). Rows must
            be in time order within each group; the first rows of a group repeat their first
            value as their past.
        region_effects: ``"none"``: one intercept serves every region. ``"offset"``: region
            fixed effects; the slopes come from the variation over time within each region
            (the within estimator) and each region seen in ``fit`` gets its own offset.
            ``"scale"``: as ``"offset"``, and each region's response is also scaled by the
            spread of its observed metric (slopes fitted on within-region standardised
            targets), for regions whose metrics swing more (e.g. summer parks in the north).
            Regions not seen in ``fit`` get the mean offset and scale.

    Attributes:
        coef_: array of shape (n_metrics, n_features * (lags + 1)), on the standardised design.
        intercept_: array of shape (n_metrics,), the mean of the region offsets.
        mean_: array of shape (n_features * (lags + 1),), design means.
        scale_: array of shape (n_features * (lags + 1),), design standard deviations.
        n_features_in_: number of features seen in ``fit``.
        feature_names_in_: feature names, when ``X`` was a DataFrame with string columns.
        metrics_: names of the metrics (the columns of ``y`` when it was a DataFrame).
        n_train_: array of shape (n_metrics,), rows each metric was fitted on.
        groups_: region labels seen in ``fit`` (``["all"]`` without region effects).
        offsets_: array of shape (n_groups, n_metrics), the region offsets.
        scales_: array of shape (n_groups, n_metrics), the region scales (1 unless ``"scale"``).
    """

    EFFECTS = ("none", "offset", "scale")
    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lags": [Interval(Integral, 0, None, closed="left")],
        "region_effects": [StrOptions(set(EFFECTS))],
    }

    def __init__(self, alpha: float = 1.0, lags: int = 0, region_effects: str = "none") -> None:
        self.alpha = alpha
        self.lags = lags
        self.region_effects = region_effects

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None) -> BehaviourCalibrator:
        """Fit one ridge regression per metric.

        The parameters are checked first, against ``_parameter_constraints``.

        Args:
            X: array-like of shape (n_samples, n_features), simulated aggregates.
            y: array-like of shape (n_samples,) or (n_samples, n_metrics), observed metrics.
                NaN marks an unobserved value: that row is left out of that metric's fit.
            groups: array-like of shape (n_samples,), the region of each row (lags never cross
                regions). ``None``: all rows are one time series.

        Returns:
            self
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        metrics = list(y.columns) if hasattr(y, "columns") else None
        X = validate_data(self, X, ensure_all_finite=True, ensure_min_samples=2)
        y_raw = check_array(y, ensure_2d=False, ensure_all_finite="allow-nan", dtype=float,
                            input_name="y")
        check_consistent_length(X, y_raw)
        self.single_output_ = y_raw.ndim == 1
        targets = y_raw.reshape(len(y_raw), -1)
        design = _lagged(X, self.lags, groups)
        self.mean_ = design.mean(axis=0)
        self.scale_ = design.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        z = (design - self.mean_) / self.scale_
        labels = np.zeros(len(z), dtype=int)
        self.groups_ = np.array(["all"], dtype=object)
        if self.region_effects != "none" and groups is not None:
            self.groups_, labels = np.unique(np.asarray(groups).astype(str), return_inverse=True)
        n_groups, n_metrics = len(self.groups_), targets.shape[1]
        coef = np.zeros((n_metrics, z.shape[1]))
        offsets = np.zeros((n_groups, n_metrics))
        scales = np.ones((n_groups, n_metrics))
        counts = np.zeros(n_metrics, dtype=int)
        for m in range(n_metrics):
            rows = np.isfinite(targets[:, m])
            if rows.sum() < 2:
                raise ValueError(f"metric {metrics[m] if metrics else m} has fewer than 2 "
                                 "observed rows")
            coef[m], offsets[:, m], scales[:, m] = self._solve(z[rows], targets[rows, m],
                                                               labels[rows], n_groups)
            counts[m] = int(rows.sum())
        self.coef_, self.offsets_, self.scales_, self.n_train_ = coef, offsets, scales, counts
        self.intercept_ = offsets.mean(axis=0)
        self.metrics_ = metrics if metrics is not None else list(range(n_metrics))
        return self

    def _solve(self, z: np.ndarray, y: np.ndarray, labels: np.ndarray,
               n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ridge solution of one metric on its observed rows.

        Args:
            z: array of shape (n_rows, n_design), the standardised design.
            y: array of shape (n_rows,), the metric.
            labels: array of shape (n_rows,), each row's index into ``groups_``.
            n_groups: number of groups.

        Returns:
            The coefficients (n_design,), and the offsets and scales of the groups (n_groups,);
            a group without rows gets the row-weighted mean offset and scale.
        """
        size = np.bincount(labels, minlength=n_groups).astype(float)
        seen = size > 0
        centre_z = np.zeros((n_groups, z.shape[1]))
        centre_y = np.zeros(n_groups)
        centre_z[seen] = (np.stack([np.bincount(labels, z[:, k], n_groups)
                                    for k in range(z.shape[1])], axis=1)[seen] / size[seen, None])
        centre_y[seen] = np.bincount(labels, y, n_groups)[seen] / size[seen]
        yc = y - centre_y[labels]
        scales = np.ones(n_groups)
        if self.region_effects == "scale":
            spread = np.sqrt(np.bincount(labels, yc**2, n_groups)[seen] / size[seen])
            scales[seen] = np.maximum(spread, 1e-6 + 1e-3 * spread.mean())
            yc = yc / scales[labels]
        zc = z - centre_z[labels]
        coef = np.linalg.solve(zc.T @ zc + self.alpha * np.eye(zc.shape[1]), zc.T @ yc)
        offsets = centre_y - scales * (centre_z @ coef)
        for values in (offsets, scales):
            values[~seen] = np.average(values[seen], weights=size[seen])
        return coef, offsets, scales

    def predict(self, X, groups=None) -> np.ndarray:
        """Predict the metrics.

        Args:
            X: array-like of shape (n_samples, n_features), in time order within each group.
            groups: array-like of shape (n_samples,), the region of each row.

        Returns:
            Array of shape (n_samples,) or (n_samples, n_metrics), as ``y`` was in ``fit``.
        """
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, ensure_all_finite=True)
        z = (_lagged(X, self.lags, groups) - self.mean_) / self.scale_
        index = self._group_index(groups, len(z))
        offsets = np.vstack([self.offsets_, self.offsets_.mean(axis=0)])
        scales = np.vstack([self.scales_, self.scales_.mean(axis=0)])
        predictions = offsets[index] + scales[index] * (z @ self.coef_.T)
        return predictions[:, 0] if self.single_output_ else predictions

    def _group_index(self, groups, n_rows: int) -> np.ndarray:
        """Row -> index into ``groups_``, or ``len(groups_)`` (the mean effects) if not seen."""
        if len(self.groups_) == 1:
            return np.zeros(n_rows, dtype=int)
        if groups is None:
            return np.full(n_rows, len(self.groups_))
        position = {label: k for k, label in enumerate(self.groups_)}
        return np.array([position.get(str(g), len(self.groups_)) for g in np.asarray(groups)])

    def to_dict(self) -> dict:
        """The fitted calibrator as plain JSON-able data."""
        check_is_fitted(self, "coef_")
        return {
            "format": _FORMAT,
            "params": self.get_params(),
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": [str(n) for n in getattr(self, "feature_names_in_", [])] or None,
            "metrics": [str(m) for m in self.metrics_],
            "single_output": bool(self.single_output_),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "groups": [str(g) for g in self.groups_],
            "offsets": self.offsets_.tolist(),
            "scales": self.scales_.tolist(),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "n_train": self.n_train_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> BehaviourCalibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` data."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"not a BehaviourCalibrator file (format {data.get('format')!r}, "
                             f"expected {_FORMAT!r})")
        model = cls(**data["params"])
        model.n_features_in_ = data["n_features_in"]
        if data["feature_names_in"]:
            model.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
        model.metrics_ = data["metrics"]
        model.single_output_ = data["single_output"]
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.intercept_ = np.asarray(data["intercept"], dtype=float)
        model.groups_ = np.asarray(data["groups"], dtype=object)
        model.offsets_ = np.asarray(data["offsets"], dtype=float)
        model.scales_ = np.asarray(data["scales"], dtype=float)
        model.mean_ = np.asarray(data["mean"], dtype=float)
        model.scale_ = np.asarray(data["scale"], dtype=float)
        model.n_train_ = np.asarray(data["n_train"], dtype=int)
        return model

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted calibrator as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> BehaviourCalibrator:
        """Read a calibrator written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: cannot read a calibrator ({error})") from None
        return cls.from_dict(data)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _lagged(X: np.ndarray, lags: int, groups) -> np.ndarray:
    """The design ``[X_t, X_{t-1}, ..., X_{t-lags}]`` with lags taken within each group."""
    X = np.asarray(X, dtype=float)
    if lags == 0:
        return X
    groups = np.zeros(len(X)) if groups is None else np.asarray(groups)
    if len(groups) != len(X):
        raise ValueError(f"groups has {len(groups)} entries for {len(X)} rows")
    # Rows of a group in their order, one group after another: each row's position in its
    # group says how far back a lag can reach (the group's first row stands in before it).
    _, label = np.unique(groups.astype(str), return_inverse=True)
    order = np.argsort(label, kind="stable")
    first = np.r_[0, np.flatnonzero(np.diff(label[order])) + 1]
    position = np.arange(len(X)) - np.repeat(first, np.diff(np.r_[first, len(X)]))
    ordered = X[order]
    blocks = [X]
    for lag in range(1, lags + 1):
        shifted = np.empty_like(X)
        shifted[order] = ordered[np.arange(len(X)) - np.minimum(lag, position)]
        blocks.append(shifted)
    return np.hstack(blocks)
