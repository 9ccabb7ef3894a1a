"""Contacts from behaviour: 1 in the routine, each behaviour's share moved by its ratio."""

from pathlib import Path

import numpy as np
import pytest

from simulator.epidemic.contacts import ContactShares
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_the_routine_is_one_and_a_halved_behaviour_removes_half_its_share():
    shares = ContactShares(np.array([0.2, 0.3, 0.0]))
    routine = np.array([0.6, 0.5, 0.8])
    assert shares.fixed == pytest.approx(0.5)
    assert shares.multiplier(routine, routine) == pytest.approx(1.0)
    assert shares.multiplier(routine * [0.5, 1, 1], routine) == pytest.approx(0.9)
    assert shares.multiplier(routine * [1, 1, 0.1], routine) == pytest.approx(1.0)  # no share
    rows = shares.multiplier(np.vstack([routine, routine * 0.5]), routine)
    np.testing.assert_allclose(rows, [1.0, 0.75])


def test_the_google_preset_declares_its_shares_and_residential_carries_none():
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml")
    shares = ContactShares.of(scenario.behaviours)
    named = dict(zip(scenario.behaviour_names, shares.shares, strict=True))
    assert named["residential"] == 0.0 and named["workplaces"] > named["parks"] > 0
    assert shares.carried and shares.fixed == pytest.approx(0.45)
