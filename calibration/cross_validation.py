"""Blocked cross-validation inside the training window: the calibrator's settings and residuals.

The training weeks are cut into :data:`CV_BLOCKS` contiguous blocks; a calibrator is fitted
without one block and predicts it, for every block in turn. Lags read the simulated inputs of
earlier weeks, never observed values, so a held-out block leaks nothing. The held-out predictions
choose the penalty, lags and region effects (:func:`choose_calibrator`), and their residuals give
the calibrated trajectories their prediction bands (:mod:`calibration.intervals`). The test window
plays no part in either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibration.baselines import CalibratedTwin
from calibration.rmse import rmse_table

CV_BLOCKS = 5
ALPHAS = (0.1, 1.0, 10.0, 100.0)
LAGS = (0, 1, 2)
REGION_EFFECTS = ("none", "offset", "scale")


def training_blocks(inputs: pd.DataFrame) -> np.ndarray:
    """The block (0 .. CV_BLOCKS - 1) of every training row; -1 outside the training window."""
    train = (inputs["window"] == "train").to_numpy()
    weeks = np.sort(inputs.loc[train, "week"].unique())
    block_of_week = dict(zip(weeks, np.arange(len(weeks)) * CV_BLOCKS // len(weeks),
                             strict=True))
    block = inputs["week"].map(block_of_week).to_numpy(dtype=float)
    return np.where(train, block, -1).astype(int)


def held_out_predictions(inputs: pd.DataFrame, targets: pd.DataFrame, features: Sequence[str],
                         alpha: float, lags: int, region_effects: str) -> pd.DataFrame:
    """Every training row predicted by a calibrator fitted without its block.

    Returns:
        Predictions of the training rows (indexed as ``inputs``), one column per metric.
    """
    block = training_blocks(inputs)
    train = block >= 0
    found = []
    for held_out in range(CV_BLOCKS):
        fit_rows = train & (block != held_out)
        model = CalibratedTwin(features, alpha=alpha, lags=lags, region_effects=region_effects)
        model.fit(inputs[fit_rows], targets[fit_rows])
        predicted = model.predict(inputs[train])
        found.append(predicted[block[train] == held_out])
    return pd.concat(found).loc[inputs.index[train]]


def choose_calibrator(inputs: pd.DataFrame, targets: pd.DataFrame, features: Sequence[str]
                      ) -> tuple[float, int, str, pd.DataFrame]:
    """Penalty, lags and region effects of a calibrator, by blocked cross-validation.

    Each candidate is scored by the mean over the blocks of its held-out macro RMSE.

    Returns:
        ``(alpha, lags, region_effects, scores)`` with the mean held-out macro RMSE of every
        candidate.
    """
    block = training_blocks(inputs)
    train = block >= 0
    scores = []
    for effects in REGION_EFFECTS:
        for alpha in ALPHAS:
            for lags in LAGS:
                predicted = held_out_predictions(inputs, targets, features, alpha, lags, effects)
                errors = [rmse_table({"m": predicted[block[train] == k]},
                                     targets[train][block[train] == k]).loc["m", "macro"]
                          for k in range(CV_BLOCKS)]
                scores.append({"alpha": alpha, "lags": lags, "region_effects": effects,
                               "cv_macro_rmse": float(np.mean(errors))})
    scores = pd.DataFrame(scores)
    best = scores.loc[scores["cv_macro_rmse"].idxmin()]
    return float(best["alpha"]), int(best["lags"]), str(best["region_effects"]), scores
