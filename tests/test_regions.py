import pytest

from simulator.sources.regions import NATION, all_regions, get_region, resolve_region, state_codes


@pytest.mark.parametrize("alias", ["US_CA", "us-ca", "CA", "California", "california"])
def test_aliases_resolve(alias):
    assert resolve_region(alias) == "US_CA"


def test_nation_and_states():
    assert resolve_region("US") == NATION == "USA"
    assert len(state_codes()) == 51 and "US_DC" in state_codes()
    nation = get_region("USA")
    assert nation.is_nation and not get_region("TX").is_nation
    assert nation.population == sum(r.population for r in all_regions() if not r.is_nation)


def test_unknown_region_lists_what_is_allowed():
    with pytest.raises(KeyError, match="allowed"):
        resolve_region("Narnia")
