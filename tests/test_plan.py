"""Plans: what a synthesis fits and targets before any draw."""

import pytest

from simulator.population.plan import make_plan
from simulator.population.targets import FITTED, PopulationError


def test_us_plan_fits_every_attribute_and_party():
    plan = make_plan("USA", None)
    assert plan.attributes == FITTED and plan.income and plan.party_shift is not None
    assert len(plan.places) == 51 and plan.states is not None
    assert {"party", "state", "household_size"} <= set(plan.targets["attribute"])


def test_country_plan_has_no_us_attributes():
    plan = make_plan("IND", None)
    assert plan.attributes == ("age_band", "sex", "education", "urbanicity")
    assert not plan.income and plan.party_shift is None and plan.states is None
    assert set(plan.targets["attribute"]) == {"age_band", "sex", "education", "urbanicity",
                                              "household_size"}
    assert plan.ages.sum() == pytest.approx(1)


def test_a_region_without_age_figures_is_one_clear_error():
    with pytest.raises(PopulationError, match=r"no population data for LIE \(Liechtenstein\).*"
                                              r"population.marginals"):
        make_plan("LIE", None)
