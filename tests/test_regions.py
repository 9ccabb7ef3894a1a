import pandas as pd
import pytest

from simulator.errors import SocialTwinError, UsageError
from simulator.sources.regions import (
    NATION,
    RegionError,
    all_regions,
    codes_of,
    get_region,
    region_table,
    regions_of,
    resolve_region,
    state_codes,
)


@pytest.mark.parametrize("alias", ["US_CA", "us-ca", "California", "california"])
def test_state_aliases_resolve(alias):
    assert resolve_region(alias) == "US_CA"


@pytest.mark.parametrize(("alias", "code"), [
    ("FRA", "FRA"), ("fr", "FRA"), ("France", "FRA"), ("IND", "IND"), ("India", "IND"),
    ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("South Korea", "KOR"), ("Korea, Republic of", "KOR"),
    ("United_Kingdom", "GBR"), ("UK", "GBR"), ("NA", "NAM"), ("Kosovo", "RKS"), ("XK", "RKS"),
    ("Ivory Coast", "CIV"), ("TX", "US_TX"), ("us", NATION), ("United States of America", NATION),
])
def test_countries_by_iso3_iso2_or_english_name(alias, code):
    assert resolve_region(alias) == code


@pytest.mark.parametrize(("alias", "codes"), [("CA", "US_CA .*CAN"), ("Georgia", "US_GA .*GEO")])
def test_a_name_of_two_places_is_refused_with_both_codes(alias, codes):
    with pytest.raises(RegionError, match=rf"ambiguous: {codes}.*write the code"):
        resolve_region(alias)


def test_nation_and_states():
    assert resolve_region("US") == NATION == "USA"
    assert len(state_codes()) == 51 and "US_DC" in state_codes()
    nation = get_region("USA")
    assert nation.is_nation and not get_region("TX").is_nation
    states = [r for r in all_regions() if r.country == NATION and not r.is_nation]
    assert nation.population == sum(r.population for r in states)


def test_every_country_of_the_registry():
    table = region_table()
    nations = table[table["country"] == table.index]
    assert len(nations) > 240
    assert nations["abbrev"].str.fullmatch(r"[A-Z]{2}").all()
    france = get_region("FRA")
    assert (france.name, france.abbrev, france.m49, france.continent) == \
        ("France", "FR", 250, "Europe")
    assert 60e6 < france.population < 70e6
    assert get_region("RKS").m49 is None and get_region("RKS").population > 1e6


def test_unknown_region_says_how_to_list_them():
    with pytest.raises(RegionError, match="unknown region 'Narnia'.*socialtwin regions"):
        resolve_region("Narnia")
    assert isinstance(RegionError("x"), SocialTwinError)
    assert str(RegionError("plain message")) == "plain message"


def test_codes_of_upstream_labels():
    labels = pd.Series(["CA", "Georgia", "New York State", "OWID_KOS", "OWID_WRL", None])
    assert codes_of(labels, country=NATION).tolist()[:3] == ["US_CA", "US_GA", "US_NY"]
    nations = codes_of(labels, nations=True)
    assert nations[[0, 1, 3]].tolist() == ["CAN", "GEO", "RKS"]
    assert nations[[2, 4, 5]].isna().all()


def test_regions_of_selections():
    assert regions_of(None) == regions_of("all") == ["USA", *state_codes()]
    assert regions_of("nation") == ["USA"]
    assert regions_of("FRA, India,US-NY,FRA") == ["FRA", "IND", "US_NY"]
    assert regions_of("world,FRA", world=["DEU", "FRA"]) == ["DEU", "FRA"]
    assert regions_of("UK_ENG") == ["UK_ENG"]
    with pytest.raises(UsageError, match="world"):
        regions_of("world")
    with pytest.raises(UsageError, match="unknown region 'Atlantis'.*socialtwin regions"):
        regions_of("Atlantis")
    with pytest.raises(UsageError, match="ambiguous"):
        regions_of("CA")
