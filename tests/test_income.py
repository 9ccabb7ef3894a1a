"""The US household income model and its bands."""

import numpy as np
import pytest

from simulator.population.income import (
    HIGH_INCOME_RATIO,
    LOW_INCOME_RATIO,
    draw_income,
    income_band_probabilities,
    income_band_shares,
    income_model,
)


def test_band_shares_at_the_national_median():
    model = income_model()
    shares = income_band_shares(model["national_median"], model["national_median"],
                                model["log_income_sd"])
    assert shares.sum() == pytest.approx(1) and shares[1] > 0.4
    richer = income_band_shares(2 * model["national_median"], model["national_median"],
                                model["log_income_sd"])
    assert richer[2] > shares[2] and richer[0] < shares[0]


def test_band_probabilities_and_draws_stay_in_their_band():
    probabilities = income_band_probabilities()
    assert probabilities.shape == (4, 5, 4, 3, 3)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1)
    rng = np.random.default_rng(0)
    n = 3_000
    codes = {"age_band": rng.integers(0, 4, n), "race": rng.integers(0, 5, n),
             "education": rng.integers(0, 4, n), "employment": rng.integers(0, 3, n),
             "income_band": rng.integers(0, 3, n)}
    median = income_model()["national_median"]
    income = draw_income(np.array([median]), codes, np.zeros(n, dtype=int), rng)
    low, high = income < LOW_INCOME_RATIO * median, income >= HIGH_INCOME_RATIO * median
    assert low[codes["income_band"] == 0].all() and high[codes["income_band"] == 2].all()
