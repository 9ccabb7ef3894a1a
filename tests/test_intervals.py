import numpy as np
import pytest

from calibration.intervals import NOMINAL, conformal_half_width


def test_the_half_width_is_the_conformal_rank_of_the_absolute_residuals():
    residuals = np.array([1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0, 9.0])
    # n = 9: rank ceil(10 * 0.8) = 8, the eighth smallest |residual|.
    assert conformal_half_width(residuals, 0.8) == 8.0
    assert conformal_half_width(np.array([1.0, np.nan, 2.0]), 0.5) == 2.0
    assert conformal_half_width(np.array([1.0, 2.0]), 0.9) == np.inf
    assert np.isnan(conformal_half_width(np.array([np.nan])))


def test_bands_cover_new_exchangeable_cases_at_least_at_the_nominal_level():
    rng = np.random.default_rng(0)
    covered = []
    for _ in range(400):
        held_out = rng.standard_t(3, size=50)
        new = rng.standard_t(3, size=50)
        half = conformal_half_width(held_out, NOMINAL)
        covered.append(np.mean(np.abs(new) <= half))
    assert np.mean(covered) == pytest.approx(NOMINAL + 0.2 / 51, abs=0.01)
