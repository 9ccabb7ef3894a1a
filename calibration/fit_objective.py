"""What a fit minimises: the calibrated error on the training weeks and on the training events.

For parameter values ``theta`` the mean-field twin (:mod:`calibration.mean_field`) simulates
every region; the twin's calibrator, with the settings the protocol's blocked cross-validation
chose at the priors (:func:`calibration.cross_validation.choose_calibrator`), predicts every
block of training weeks from the other blocks, as that cross-validation does. The error is held
out: a fit judged in sample learns to feed the calibrator's region offsets, scales and lags
whatever reproduces 2020, and does worse on 2021 (measured: US test macro RMSE 14.02 against
10.66 at the priors).

The second part is the policy events inside the training weeks (:mod:`calibration.training_events`):
each event's observed effect (a difference-in-differences against the fit's other regions) against
the twin's (the mean field forked into the path with the event undone, through the calibrator
fitted on every training row, without the region's own effects).

The two parts are weighed as two sets of observations of one Gaussian likelihood, each metric of
each part with its own variance, profiled out. With ``n_pm`` observed values of metric ``m`` in
part ``p`` and their mean squared error ``MSE_pm``, the objective is the negative log posterior

    sum_p sum_m n_pm / 2 * log MSE_pm  +  1/2 * sum_i ((u_i - u0_i) / s_i)^2

so no weight is set by hand: a part counts by its number of observations and by how well the
twin can fit it (parks, which swing most, do not outweigh the rest; the US's 52 regions have
2,236 training region-weeks and 199 training events). The prior is Gaussian, centred on the
scenario's values ``u0`` in the optimiser's coordinates ``u`` with the scales ``s`` of
:mod:`calibration.parameter_space`. Only training weeks enter: the test window and the regions
left out of the fit play no part.
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
from calibration.training_events import TrainingEvents
from simulator.sources import MOBILITY_CATEGORIES, ObservedData


class FitObjective:
    """The objective of a fit over a set of regions' training weeks (and events).

    Args:
        twin: the mean-field twin of the regions.
        space: the parameters.
        observed: the observed tables (mobility is the target).
        events: the training events (``None``: the weeks alone).

    Attributes:
        calibrator: the calibrator settings (alpha, lags, region_effects), chosen at the priors.
        rows: training rows observed in at least one metric.
        observed: which residuals are observed, shape (rows + events, metrics).
        group: the (part, metric) group of every residual, ``part * metrics + metric``.
    """

    def __init__(self, twin: MeanFieldTwin, space: ParameterSpace, observed: ObservedData,
                 events: TrainingEvents | None = None) -> None:
        self.twin, self.space, self.events = twin, space, events
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
        self.rows = len(inputs)
        self.block = training_blocks(inputs)
        completed, _ = complete(inputs.assign(window="train"))
        alpha, lags, effects, _ = choose_calibrator(completed, targets.reset_index(drop=True),
                                                    self.features)
        self.calibrator = {"alpha": alpha, "lags": lags, "region_effects": effects}
        effects_observed = np.empty((0, self.targets.shape[1])) if events is None \
            else events.observed
        self.observed = ~np.isnan(np.vstack([self.targets, effects_observed]))
        metrics = self.targets.shape[1]
        part = np.r_[np.zeros(self.rows, dtype=int), np.ones(len(effects_observed), dtype=int)]
        self.group = part[:, None] * metrics + np.arange(metrics)[None, :]

    def residuals(self, free: np.ndarray) -> np.ndarray:
        """Observed minus calibrated: the training rows, then the events; NaN if unseen.

        The rows as :func:`calibration.cross_validation.held_out_predictions` has them: each
        block of training weeks is predicted by the calibrator fitted on the other blocks (rows
        in region and week order, lags read from the simulated inputs of earlier weeks). The
        events' (:mod:`calibration.training_events`): observed effect minus the twin's.

        Returns:
            Array of shape (rows + events, metrics).
        """
        mechanism = self.space.mechanisms(self.space.from_free(free))
        if self.events is None:
            factual, paths = self.twin.changes(mechanism, self.ticks), []
        else:
            factual, paths = self.events.simulate(self.twin, mechanism, self.ticks)
        X = factual[self._region, self._tick]
        predicted = np.empty_like(self.targets)
        for held_out in range(CV_BLOCKS):
            fit = self.block != held_out
            model = BehaviourCalibrator(**self.calibrator).fit(X[fit], self.targets[fit],
                                                               groups=self.groups[fit])
            inside = self.block == held_out
            predicted[inside] = model.predict(X, groups=self.groups)[inside]
        found = [self.targets - predicted]
        if self.events is not None:
            model = BehaviourCalibrator(**self.calibrator).fit(X, self.targets, groups=self.groups)
            found.append(self.events.observed - self.events.effects(model, paths))
        return np.vstack(found)

    def mse(self, free: np.ndarray) -> np.ndarray:
        """Each group's mean squared calibrated error (weeks' metrics, then events')."""
        residuals = self.residuals(free)
        return np.array([np.mean(residuals[self.observed & (self.group == g)] ** 2)
                         for g in self._groups()])

    def _groups(self) -> np.ndarray:
        """The groups with at least one observed residual."""
        return np.unique(self.group[self.observed])

    def __call__(self, free: np.ndarray) -> float:
        """The negative log posterior (module docstring), up to a constant."""
        counts = np.array([np.sum(self.observed & (self.group == g)) for g in self._groups()])
        data = float(np.sum(counts / 2.0 * np.log(self.mse(free))))
        return data + self.penalty(free)

    def penalty(self, free: np.ndarray) -> float:
        """The prior's part: half the squared distance from the priors in prior sds."""
        return 0.5 * float(np.sum(((free - self.space.prior_free) / self.space.prior_sd) ** 2))

    def figures(self, free: np.ndarray) -> dict:
        """The two parts' errors: the weeks' macro RMSE, and the events' MAE and correlation.

        ``train_macro_rmse``: mean over the metrics of the training weeks' RMSE (held out by
        block, pp); ``events_mae`` (pp) and ``events_pearson`` over every event and category
        (``None`` without events).
        """
        residuals = self.residuals(free)
        weeks = residuals[:self.rows]
        found = {"train_macro_rmse": float(np.mean(np.sqrt(np.nanmean(weeks ** 2, axis=0)))),
                 "events_mae": None, "events_pearson": None}
        if self.events is not None and len(self.events):
            observed = self.events.observed
            seen = ~np.isnan(observed)
            twin = (observed - residuals[self.rows:])[seen]
            found["events_mae"] = float(np.mean(np.abs(residuals[self.rows:][seen])))
            found["events_pearson"] = float(np.corrcoef(twin, observed[seen])[0, 1])
        return found
