"""What a fit minimises: the calibrated error on the training weeks, with the priors as a penalty.

For parameter values ``theta`` the mean-field twin (:mod:`calibration.mean_field`) simulates
every region; the twin's calibrator, with the settings the protocol's blocked cross-validation
chose at the priors (:func:`calibration.cross_validation.choose_calibrator`), predicts every
block of training weeks from the other blocks, as that cross-validation does. The error is held
out: a fit judged in sample learns to feed the calibrator's region offsets, scales and lags
whatever reproduces 2020, and does worse on 2021 (measured: US test macro RMSE 14.02 against
10.66 at the priors). With ``n_m`` observed training rows of metric ``m`` and their held-out
mean squared error ``MSE_m``, the objective is the negative log posterior

    sum_m n_m / 2 * log MSE_m  +  1/2 * sum_i ((u_i - u0_i) / s_i)^2

the Gaussian likelihood of the calibrated residuals with each metric's variance profiled out
(so parks, which swing most, do not outweigh the rest), and a Gaussian prior centred on the
scenario's values ``u0`` in the optimiser's coordinates ``u`` with the scales ``s`` of
:mod:`calibration.parameter_space`. Only training weeks enter: the test window and regions
left out of the fit play no part. The observed effects of policy events are not part of the
objective (yet): the event protocol measures the fitted twin on them instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.calibrator import BehaviourCalibrator
from calibration.cross_validation import CV_BLOCKS, choose_calibrator, training_blocks
from calibration.evaluate import SIM_PREFIX, assemble
from calibration.inputs import complete
from calibration.mean_field import MeanFieldTwin
from calibration.parameter_space import ParameterSpace
from simulator.sources import MOBILITY_CATEGORIES, ObservedData


class FitObjective:
    """The objective of a fit over a set of regions' training weeks.

    Args:
        twin: the mean-field twin of the regions.
        space: the parameters.
        observed: the observed tables (mobility is the target).

    Attributes:
        calibrator: the calibrator settings (alpha, lags, region_effects), chosen at the priors.
        rows: training rows observed in at least one metric.
    """

    def __init__(self, twin: MeanFieldTwin, space: ParameterSpace,
                 observed: ObservedData) -> None:
        self.twin, self.space = twin, space
        simulated = twin.simulate(space.mechanism(space.prior))
        inputs, targets = assemble(observed, simulated)
        train = (inputs["window"] == "train").to_numpy() & targets.notna().any(axis=1).to_numpy()
        inputs, targets = inputs[train].reset_index(drop=True), targets[train]
        self.features = [c for c in simulated.columns if c.startswith(SIM_PREFIX)]
        dates = twin.regions[0].dates
        self._region = pd.Index([c.region for c in twin.regions]).get_indexer(inputs["region"])
        self._tick = dates.get_indexer(inputs["week"])
        self.ticks = int(self._tick.max()) + 1  # the ticks up to the last training week
        self.groups = inputs["region"].to_numpy()
        self.targets = targets[list(MOBILITY_CATEGORIES)].to_numpy(dtype=float)
        self.observed = ~np.isnan(self.targets)
        self.rows = len(inputs)
        self.block = training_blocks(inputs)
        completed, _ = complete(inputs.assign(window="train"))
        alpha, lags, effects, _ = choose_calibrator(completed, targets.reset_index(drop=True),
                                                    self.features)
        self.calibrator = {"alpha": alpha, "lags": lags, "region_effects": effects}

    def features_of(self, values: np.ndarray) -> np.ndarray:
        """The simulated aggregates of the training rows, shape (rows, behaviours)."""
        changes = self.twin.changes(self.space.mechanism(values), self.ticks)
        return changes[self._region, self._tick]

    def residuals(self, free: np.ndarray) -> np.ndarray:
        """Observed minus calibrated, held out by block, shape (rows, metrics); NaN if unseen.

        As :func:`calibration.cross_validation.held_out_predictions`: each block of training
        weeks is predicted by the calibrator fitted on the other blocks (rows in region and
        week order, lags read from the simulated inputs of earlier weeks).
        """
        X = self.features_of(self.space.from_free(free))
        predicted = np.empty_like(self.targets)
        for held_out in range(CV_BLOCKS):
            fit = self.block != held_out
            model = BehaviourCalibrator(**self.calibrator).fit(X[fit], self.targets[fit],
                                                               groups=self.groups[fit])
            inside = self.block == held_out
            predicted[inside] = model.predict(X, groups=self.groups)[inside]
        return self.targets - predicted

    def mse(self, free: np.ndarray) -> np.ndarray:
        """Each metric's mean squared calibrated error on the training rows."""
        return np.nanmean(self.residuals(free) ** 2, axis=0)

    def __call__(self, free: np.ndarray) -> float:
        """The negative log posterior (module docstring), up to a constant."""
        counts = self.observed.sum(axis=0)
        data = float(np.sum(counts / 2.0 * np.log(self.mse(free))))
        return data + self.penalty(free)

    def penalty(self, free: np.ndarray) -> float:
        """The prior's part: half the squared distance from the priors in prior sds."""
        return 0.5 * float(np.sum(((free - self.space.prior_free) / self.space.prior_sd) ** 2))

    def macro_rmse(self, free: np.ndarray) -> float:
        """Mean over the metrics of the training RMSE (held out by block, pp)."""
        return float(np.mean(np.sqrt(self.mse(free))))
