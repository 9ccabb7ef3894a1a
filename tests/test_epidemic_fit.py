"""The epidemic's fit: parameters recovered from cases they made; only the fitted ticks read."""

import numpy as np
import pytest

from simulator.epidemic.fitting import EpidemicInputs, fit_epidemic, simulate_cases
from simulator.epidemic.seir import INFECTIOUS_DAYS, EpidemicParameters

TICKS = 44
TRUE = EpidemicParameters(transmission=2.2 / INFECTIOUS_DAYS, reporting=0.2, seed=2e-5,
                          season=0.4, elasticity=1.5)


def _inputs():
    weeks = np.arange(TICKS)
    contacts = np.where((weeks >= 3) & (weeks < 12), 0.6, 0.9)  # a spring lockdown
    temperature = 55 + 25 * np.sin(2 * np.pi * (weeks - 6) / 52)
    return EpidemicInputs(7, contacts, temperature, None)


def test_the_parameters_that_made_the_cases_are_recovered():
    inputs = _inputs()
    cases = simulate_cases(TRUE, inputs)
    fit = fit_epidemic(inputs, cases, np.ones(TICKS, dtype=bool))
    assert fit.rmse_log < 0.05 and fit.ticks == TICKS
    assert fit.parameters.reproduction_number == pytest.approx(2.2, rel=0.1)
    assert fit.parameters.elasticity == pytest.approx(1.5, abs=0.3)
    assert fit.parameters.season == pytest.approx(0.4, abs=0.15)
    record = fit.record()
    assert set(record) >= {"reproduction_number", "reporting", "seed", "season", "elasticity",
                           "rmse_log_cases", "fitted_ticks", "converged"}


def test_ticks_outside_the_fit_window_are_not_read():
    inputs = _inputs()
    cases = simulate_cases(TRUE, inputs)
    window = np.arange(TICKS) < 30
    changed = cases.copy()
    changed[~window] = 1e4
    a = fit_epidemic(inputs, cases, window)
    b = fit_epidemic(inputs, changed, window)
    assert a.parameters == b.parameters and a.ticks == 30


def test_too_few_reported_ticks_are_refused():
    inputs = _inputs()
    cases = np.full(TICKS, np.nan)
    cases[:3] = 1.0
    with pytest.raises(ValueError, match="at least 4 ticks"):
        fit_epidemic(inputs, cases, np.ones(TICKS, dtype=bool))
