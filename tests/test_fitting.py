"""Fitting cells to margins: joint margins, the uniform seed of countries, the US seed."""

import numpy as np
import pytest

from simulator.population.fitting import cell_shape, fit_cells, margins, seed_for, us_seed
from simulator.population.targets import FITTED, country_targets


def test_a_country_is_fitted_to_age_by_sex_and_education_by_age():
    france = country_targets("FRA")
    attributes = france.recorded
    fitted = fit_cells([france], np.ones(1), attributes, seed_for(attributes, us=False))
    table = fitted.reshape(cell_shape(attributes))
    np.testing.assert_allclose(table.sum(axis=(2, 3)), france.age_sex, atol=1e-8)
    by_age = table.sum(axis=(1, 3))
    np.testing.assert_allclose(by_age / by_age.sum(axis=1, keepdims=True),
                               france.education_by_age, atol=1e-8)
    np.testing.assert_allclose(table.sum(axis=(0, 1, 2)), france.share("urbanicity"), atol=1e-8)
    axes = [axes for axes, _ in margins([france], attributes)]
    assert axes == [(0, 1), (0, 2), (3,)]


def test_seeds():
    assert us_seed().shape == cell_shape(FITTED)
    assert seed_for(FITTED, us=True) is us_seed()
    uniform = seed_for(("age_band", "sex", "urbanicity"), us=False)
    assert uniform.shape == (4, 2, 3) and (uniform == 1).all()
    assert seed_for(FITTED, us=False).shape == cell_shape(FITTED)
    assert us_seed().sum() == pytest.approx(us_seed().sum())
