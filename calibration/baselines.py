"""Baselines the calibrated twin is measured against, trained on the same window and inputs.

Every method works on the same tidy region-week frame (policy indicators, indices, context and
the simulated aggregates as columns) and predicts the observed metrics; only the columns each
method reads differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from calibration.calibrator import BehaviourCalibrator


class Method:
    """A way of predicting observed metrics from region-week inputs.

    Attributes:
        name: short name used in tables.
        description: what it is, for reports.
        features: the input columns it reads.
    """

    name = "method"
    description = ""
    features: Sequence[str] = ()

    def fit(self, inputs: pd.DataFrame, observed: pd.DataFrame) -> Method:
        """Fit on training rows. ``observed`` has one column per metric (NaN = unobserved)."""
        raise NotImplementedError

    def predict(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Predictions for the rows of ``inputs``, one column per metric."""
        raise NotImplementedError


class Persistence(Method):
    """Each region's last observed training value of each metric, carried forward."""

    name = "persistence"
    description = "last training week's value per region"

    def fit(self, inputs: pd.DataFrame, observed: pd.DataFrame) -> Persistence:
        """Remember each region's last observed training value."""
        frame = observed.assign(region=inputs["region"].to_numpy(),
                                week=inputs["week"].to_numpy()).sort_values("week")
        self.last_ = frame.groupby("region")[list(observed.columns)].last()
        self.metrics_ = list(observed.columns)
        return self

    def predict(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """The remembered value of each row's region."""
        values = self.last_.reindex(inputs["region"].to_numpy())[self.metrics_]
        return values.set_axis(inputs.index)


class SignalRegression(Method):
    """One regression per metric on a set of signal columns (policy, context).

    Args:
        name: short name.
        description: what it is.
        features: input columns.
        factory: returns a fresh scikit-learn regressor.
    """

    def __init__(self, name: str, description: str, features: Sequence[str],
                 factory: Callable[[], object]) -> None:
        self.name = name
        self.description = description
        self.features = list(features)
        self.factory = factory

    def fit(self, inputs: pd.DataFrame, observed: pd.DataFrame) -> SignalRegression:
        """Fit one regressor per metric on the rows where it is observed."""
        X = inputs[self.features].to_numpy(dtype=float)
        self.models_ = {}
        # One thread: on small data OpenMP threads cost far more than they save, oversubscribe
        # the cores when sweeps run in parallel, and make results depend on the machine.
        with threadpool_limits(1):
            for metric in observed.columns:
                rows = observed[metric].notna().to_numpy()
                y = observed[metric].to_numpy()[rows]
                self.models_[metric] = self.factory().fit(X[rows], y)
        return self

    def predict(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Each metric's regressor applied to the rows."""
        X = inputs[self.features].to_numpy(dtype=float)
        with threadpool_limits(1):
            return pd.DataFrame({m: model.predict(X) for m, model in self.models_.items()},
                                index=inputs.index)


class CalibratedTwin(Method):
    """The twin: the simulated aggregates through a :class:`BehaviourCalibrator`.

    The same estimator on signal columns instead of simulated aggregates is the ablation that
    shows what the agents add.

    Args:
        features: the input columns (the simulated aggregates, for the twin).
        alpha: ridge penalty.
        lags: lags of the inputs.
        region_effects: ``none``, ``offset`` or ``scale`` (see :class:`BehaviourCalibrator`).
        name: short name (e.g. ``twin[rules]``).
        description: what it is (defaults to a description of the twin).
    """

    def __init__(self, features: Sequence[str], alpha: float = 1.0, lags: int = 0,
                 region_effects: str = "none", name: str = "twin",
                 description: str | None = None) -> None:
        self.name = name
        effects = {"none": "one intercept", "offset": "region offsets",
                   "scale": "region offsets and scales"}[region_effects]
        self.description = description or (
            f"calibrated twin: ridge (alpha={alpha:g}, lags={lags}, {effects}) on the "
            "simulated behaviour aggregates, pooled across regions")
        self.features = list(features)
        self.calibrator = BehaviourCalibrator(alpha=alpha, lags=lags,
                                              region_effects=region_effects)

    def fit(self, inputs: pd.DataFrame, observed: pd.DataFrame) -> CalibratedTwin:
        """Fit the calibrator on rows ordered by region and week (for the lags)."""
        ordered = inputs.sort_values(["region", "week"])
        self.calibrator.fit(ordered[self.features], observed.loc[ordered.index],
                            groups=ordered["region"].to_numpy())
        return self

    def predict(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Calibrated predictions, returned in the order of ``inputs``."""
        ordered = inputs.sort_values(["region", "week"])
        values = self.calibrator.predict(ordered[self.features],
                                         groups=ordered["region"].to_numpy())
        frame = pd.DataFrame(np.atleast_2d(values).reshape(len(ordered), -1),
                             columns=self.calibrator.metrics_, index=ordered.index)
        return frame.loc[inputs.index]


def gradient_boosting(name: str, features: Sequence[str], description: str,
                      categorical: Sequence[str] = ()) -> SignalRegression:
    """Histogram gradient boosting per metric (scikit-learn defaults, fixed seed).

    ``categorical`` names integer-coded columns among ``features`` treated as categories.
    """
    mask = [f in categorical for f in features]
    return SignalRegression(name, description, features,
                            lambda: HistGradientBoostingRegressor(
                                random_state=0, categorical_features=mask if any(mask) else None))


def ridge(name: str, features: Sequence[str], description: str,
          alpha: float = 1.0) -> SignalRegression:
    """Standardised ridge regression per metric."""
    return SignalRegression(name, description, features,
                            lambda: make_pipeline(StandardScaler(), Ridge(alpha=alpha)))
