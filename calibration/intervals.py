"""Prediction intervals by split-conformal prediction on held-out residuals.

A prediction is given a symmetric band ``prediction +- q``, where ``q`` is the conformal quantile
of the absolute residuals of predictions made for data the predicting model never saw: the
``ceil((n + 1) * level)``-th smallest of ``n`` residuals (Vovk, Gammerman and Shafer 2005; Lei,
G'Sell, Rinaldo, Tibshirani and Wasserman 2018, *JASA* 113(523)). When the new case is
exchangeable with the held-out ones, the band covers it with probability at least ``level``; how
far that holds across time (2020 to 2021) and across regions is measured, not assumed: the
coverage on held-out weeks and held-out events is reported beside the nominal level.

The held-out residuals come from the protocols' own cross-fitting: the blocked cross-validation
inside the training window for calibrated trajectories, the folds over regions for event effects.
Each already carries the spread of calibrators refitted without the held-out data and the
simulation noise of the seed that made the aggregates. (MAPIE implements the same quantile around
scikit-learn estimators that it refits itself; here the refits are the protocols' own, so the
quantile is taken directly.)
"""

from __future__ import annotations

import math

import numpy as np

NOMINAL = 0.8
"""Nominal coverage of the bands the reports and plots show."""


def conformal_half_width(residuals: np.ndarray, level: float = NOMINAL) -> float:
    """The half-width of a ``level`` band from held-out residuals (NaN ignored).

    Returns:
        The ``ceil((n + 1) * level)``-th smallest absolute residual; ``inf`` when there are too
        few residuals for that rank, NaN when there are none.
    """
    values = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan")
    rank = math.ceil((len(values) + 1) * level)
    return float(values[rank - 1]) if rank <= len(values) else float("inf")
