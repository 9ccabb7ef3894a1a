"""The indicator catalogue and the upstream columns that record it."""

from simulator.sources.indicators import (
    DEFAULT_SHOWN,
    OXCGRT_INDICATORS,
    POLICY_INDICATORS,
    POLICY_INDICES,
    stringency_index,
)


def test_upstream_codes_name_every_indicator_of_the_catalogue():
    assert POLICY_INDICATORS["C1"] == "c1_school_closing"
    assert POLICY_INDICATORS["H8"] == "h8_protection_of_elderly_people"
    assert set(POLICY_INDICATORS.values()) == set(OXCGRT_INDICATORS)
    assert set(DEFAULT_SHOWN) <= set(OXCGRT_INDICATORS)
    assert POLICY_INDICES["stringency_index"][0] == "StringencyIndex"


def test_stringency_of_full_and_no_measures():
    full = {name: indicator.max_level for name, indicator in OXCGRT_INDICATORS.items()}
    assert stringency_index(full) == 100.0 and stringency_index({}) == 0.0
