"""A marginals file adds to or overrides a region's figures; every mistake is one clear error."""

import numpy as np
import pytest

from simulator.population.marginals_file import parse_marginals
from simulator.population.targets import PopulationError, country_targets, region_targets


def test_a_file_adds_attributes_to_a_country():
    text = ("name: Lyon\nshares:\n  race: {white: 0.7, black: 0.1, hispanic: 0.0, asian: 0.1, "
            "other: 0.1}\n  education: {less_than_high_school: 0.2, high_school: 0.3, "
            "some_college: 0.2, bachelor_or_higher: 0.3}\n")
    place = parse_marginals("lyon.yaml", text, base=country_targets("FRA"))
    assert place.name == "Lyon"
    assert place.recorded == ("age_band", "sex", "race", "education", "urbanicity")
    assert place.education_by_age is None, "the file's education replaces education by age"
    assert place.share("education")[3] == pytest.approx(0.3)
    assert place.households == country_targets("FRA").households


@pytest.mark.parametrize("field", ["median_household_income: 40000",
                                   "republican_vote_share: 0.4"])
def test_us_only_fields_are_refused_for_a_country(field):
    with pytest.raises(PopulationError, match=r"x.yaml: field .* applies to US places only"):
        parse_marginals("x.yaml", f"name: X\n{field}\n", base=country_targets("FRA"))


def test_a_country_without_age_figures_needs_them_from_the_file():
    with pytest.raises(PopulationError, match=r"Kosovo has no shipped age-by-sex figures.*"
                                              r"shares.age_band, shares.sex"):
        parse_marginals("k.yaml", "name: K\n", base=country_targets("RKS"))
    text = ("name: K\nshares:\n  age_band: {'18-29': 0.3, '30-44': 0.3, '45-64': 0.25, "
            "'65+': 0.15}\n  sex: {female: 0.5, male: 0.5}\n")
    place = parse_marginals("k.yaml", text, base=country_targets("RKS"))
    np.testing.assert_allclose(place.age_sex.sum(axis=1), [0.3, 0.3, 0.25, 0.15])
    np.testing.assert_allclose(place.age_sex.sum(axis=0), [0.5, 0.5])


def test_us_files_keep_their_fields():
    place = parse_marginals("c.yaml", "name: C\nmedian_household_income: 90000\n",
                            base=region_targets("US_IL"))
    assert place.median_household_income == 90_000
    assert place.share("income_band")[2] > region_targets("US_IL").share("income_band")[2]


def test_yaml_aliases_that_expand_a_file_past_the_budget_are_refused():
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    levels += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 6)]
    bomb = "\n".join(levels) + "\nname: bomb\n"
    with pytest.raises(PopulationError, match="bomb.yaml: <file>: YAML aliases expand"):
        parse_marginals("bomb.yaml", bomb, region_targets("US_VT"))


def test_a_repeated_share_is_refused_not_read_as_its_last_value():
    text = ("name: Town\nshares:\n  urbanicity: {urban: 0.8, suburban: 0.1, rural: 0.1}\n"
            "  urbanicity: {urban: 0.0, suburban: 0.0, rural: 1.0}\n")
    with pytest.raises(PopulationError, match=r"^town.yaml: shares.urbanicity: repeated key at "
                                              r"line 4 \(first at line 3\)"):
        parse_marginals("town.yaml", text, base=region_targets("US_VT"))


def test_a_marginals_file_too_large_is_refused_unread(tmp_path):
    from simulator.population.marginals_file import read_marginals

    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + "# padding\n" * 120_000)
    with pytest.raises(PopulationError, match=r"big.yaml: cannot read marginals file \(the file "
                                              r"is too large .*allowed: at most 1,000,000 bytes"):
        read_marginals(path)
