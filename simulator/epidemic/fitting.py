"""The epidemic's parameters fitted per region to the observed cases of the training ticks.

What is fitted: transmission, reporting share, seed, season and contact elasticity
(:class:`~simulator.epidemic.seir.EpidemicParameters`), by scipy's bounded least squares on the
error of ``log(1 + weekly cases per 100,000 per day)``, the scale on which a wave's rise and fall
weigh alike whatever its height. The contacts are those of the twin's behaviour on the observed
path (:mod:`simulator.epidemic.setup`), held fixed during the fit.

Seed and reporting share trade off (before the susceptible pool shrinks, only their ratio shows
in the cases), so weak priors enter as extra residuals: the reporting share near 0.2
(seroprevalence surveys of 2020 found several infections per reported case; sd 1 in log), the
season near 0 (sd 1) and the contact elasticity near 1 (sd 1). Starts at several reproduction
numbers (1.2, 2 and 3) guard against a local optimum; the best is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from simulator.epidemic.seir import (
    INFECTIOUS_DAYS,
    LATENT_DAYS,
    PER_100K,
    EpidemicParameters,
    EpidemicState,
    advance,
)

REPORTING_PRIOR = 0.2
STARTS = (1.2, 2.0, 3.0)
"""Reproduction numbers the fit starts from."""
LOWER = np.array([math.log(0.3 / INFECTIOUS_DAYS), math.log(0.01), math.log(1e-9), -2.0, 0.0])
UPPER = np.array([math.log(6.0 / INFECTIOUS_DAYS), math.log(1.0), math.log(0.01), 2.0, 8.0])


@dataclass(frozen=True)
class EpidemicInputs:
    """A region's series per tick that the epidemic reads.

    Attributes:
        days: days per tick.
        contacts: the contact multiplier per tick (1 = routine).
        temperature_f: temperature normal per tick (``None``: no season).
        vaccinated_pct: share with a first dose per tick (``None``: none).
    """

    days: int
    contacts: np.ndarray
    temperature_f: np.ndarray | None = None
    vaccinated_pct: np.ndarray | None = None


def simulate_cases(parameters: EpidemicParameters, inputs: EpidemicInputs) -> np.ndarray:
    """Reported cases per 100,000 per day of every tick, shape (T,)."""
    state = EpidemicState.start(parameters)
    cases = np.empty(len(inputs.contacts))
    for t, contacts in enumerate(inputs.contacts):
        state, cases[t] = advance(
            state, parameters, inputs.days, float(contacts),
            None if inputs.temperature_f is None else float(inputs.temperature_f[t]),
            None if inputs.vaccinated_pct is None else float(inputs.vaccinated_pct[t]))
    return cases


def log_error(simulated: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``log(1 + simulated) - log(1 + observed)`` (cases per 100,000 per day)."""
    return np.log1p(np.maximum(simulated, 0.0)) - np.log1p(observed)


@dataclass(frozen=True)
class EpidemicFit:
    """A region's fitted epidemic and how well it reproduces the cases it was fitted on.

    Attributes:
        parameters: the fitted values.
        rmse_log: root mean squared :func:`log_error` over the fitted ticks.
        ticks: number of ticks fitted on.
        converged: whether scipy reported convergence.
    """

    parameters: EpidemicParameters
    rmse_log: float
    ticks: int
    converged: bool

    def record(self) -> dict:
        """The fit as the run's manifest records it."""
        p = self.parameters
        return {"transmission": round(p.transmission, 6),
                "reproduction_number": round(p.reproduction_number, 4),
                "reporting": round(p.reporting, 6), "seed": float(f"{p.seed:.4g}"),
                "season": round(p.season, 6), "elasticity": round(p.elasticity, 6),
                "fitted_ticks": self.ticks,
                "rmse_log_cases": round(self.rmse_log, 4), "converged": self.converged}


def _parameters(x: np.ndarray) -> EpidemicParameters:
    return EpidemicParameters(math.exp(x[0]), math.exp(x[1]), math.exp(x[2]), float(x[3]),
                              float(x[4]))


def fit_epidemic(inputs: EpidemicInputs, observed: np.ndarray, fitted: np.ndarray
                 ) -> EpidemicFit:
    """Fit a region's epidemic to its observed cases on some ticks.

    Args:
        inputs: the region's contacts, temperature and vaccination per tick.
        observed: observed cases per 100,000 per day per tick (NaN: not reported).
        fitted: boolean mask of the ticks to fit on (the training ticks).

    Raises:
        ValueError: fewer than four fitted ticks have observed cases.
    """
    use = np.asarray(fitted, dtype=bool) & np.isfinite(observed)
    if use.sum() < 4:
        raise ValueError(f"an epidemic fit needs at least 4 ticks with observed cases, got "
                         f"{int(use.sum())}")
    target = observed[use]

    def residuals(x: np.ndarray) -> np.ndarray:
        simulated = simulate_cases(_parameters(x), inputs)[use]
        priors = [(x[1] - math.log(REPORTING_PRIOR)) / 1.0, x[3] / 1.0, (x[4] - 1.0) / 1.0]
        return np.concatenate([log_error(simulated, target), priors])

    first = max(float(target[0]), 0.01)
    best = None
    for reproduction in STARTS:
        seed = first / PER_100K / REPORTING_PRIOR * LATENT_DAYS
        x0 = np.clip([math.log(reproduction / INFECTIOUS_DAYS), math.log(REPORTING_PRIOR),
                      math.log(seed), 0.0, 1.0], LOWER + 1e-6, UPPER - 1e-6)
        result = least_squares(residuals, x0, bounds=(LOWER, UPPER), x_scale=1.0,
                               diff_step=1e-4, max_nfev=400)
        if best is None or result.cost < best.cost:
            best = result
    parameters = _parameters(best.x)
    error = log_error(simulate_cases(parameters, inputs)[use], target)
    return EpidemicFit(parameters, float(np.sqrt(np.mean(error ** 2))), int(use.sum()),
                       bool(best.success))
