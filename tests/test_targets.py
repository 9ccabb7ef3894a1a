"""Targets of a place: US census figures, country figures, and only what a source records."""

import numpy as np
import pytest

from simulator.population.targets import (
    CATEGORIES,
    FITTED,
    country_targets,
    national_education,
    region_targets,
    shipped_attributes,
)


def test_us_places_record_every_fitted_attribute():
    california = region_targets("US_CA")
    assert california.recorded == FITTED
    assert california.median_household_income > 50_000 and 0 < california.republican_share < 0.5
    assert california.education_by_age is None and california.households is None


def test_a_country_records_what_its_sources_give():
    france = country_targets("FRA")
    assert france.recorded == ("age_band", "sex", "education", "urbanicity")
    assert france.median_household_income is None and france.republican_share is None
    assert france.age_sex.shape == (4, 2) and france.age_sex.sum() == pytest.approx(1)
    assert france.share("sex")[0] > 0.5, "more adult women than men"
    urban, suburban, rural = france.share("urbanicity")
    assert urban == pytest.approx(0.80975) and suburban == 0 and rural == pytest.approx(0.19025)
    marginal = france.age_sex.sum(axis=1) @ france.education_by_age
    assert france.share("education") == pytest.approx(marginal)
    assert france.ages.shape == (90 - 18 + 1,) and france.ages.sum() == pytest.approx(1)
    mean_size, adults = france.households
    assert mean_size == pytest.approx(2.22) and 0.7 < adults < 0.85


def test_what_a_country_lacks_is_left_out():
    nigeria = country_targets("NGA")
    assert "education" not in nigeria.recorded, "Barro-Lee has no figures for Nigeria"
    kosovo = country_targets("RKS")
    assert kosovo.age_sex is None and kosovo.households is None
    assert shipped_attributes("RKS") == ()
    assert shipped_attributes("NGA") == ("age_band", "sex", "urbanicity", "household_size")
    assert set(shipped_attributes("USA")) == {*FITTED, "household_size", "income", "party"}


def test_national_education_is_the_us_row():
    shares = national_education()
    assert shares.shape == (len(CATEGORIES["education"]),) and shares.sum() == pytest.approx(1)
    assert np.argmax(shares) in (1, 3)
