"""The SEIR day by day: shares kept, contacts and season move transmission, vaccination removes."""

import math

import pytest

from simulator.epidemic.seir import (
    INFECTIOUS_DAYS,
    EpidemicParameters,
    EpidemicState,
    advance,
    season_factor,
)

GROWING = EpidemicParameters(transmission=2.5 / INFECTIOUS_DAYS, reporting=0.2, seed=1e-5)


def _run(parameters, ticks, **signals):
    state, cases = EpidemicState.start(parameters), []
    for _ in range(ticks):
        state, found = advance(state, parameters, 7, **signals)
        cases.append(found)
    return state, cases


def test_the_shares_add_up_to_one_and_stay_in_bounds():
    state, cases = _run(GROWING, 40, contacts=1.0)
    total = state.susceptible + state.exposed + state.infectious + state.removed
    assert total == pytest.approx(1.0, abs=1e-12)
    assert 0.0 <= state.susceptible < 0.5 and all(c >= 0 for c in cases)


def test_cases_grow_above_the_threshold_and_fall_when_contacts_halve():
    _, routine = _run(GROWING, 6, contacts=1.0)
    _, halved = _run(GROWING, 6, contacts=0.3)
    assert routine[-1] > 2 * routine[1]  # R0 2.5: growing
    assert halved[-1] < halved[1]        # R 0.75: falling


def test_elasticity_zero_makes_contacts_irrelevant_and_two_doubles_their_effect():
    flat = EpidemicParameters(GROWING.transmission, 0.2, 1e-5, elasticity=0.0)
    assert _run(flat, 5, contacts=0.5)[1] == pytest.approx(_run(flat, 5, contacts=1.0)[1])
    square = EpidemicParameters(GROWING.transmission, 0.2, 1e-5, elasticity=2.0)
    assert _run(square, 5, contacts=0.5)[1] == pytest.approx(_run(GROWING, 5, contacts=0.25)[1])


def test_warm_weeks_transmit_less_with_a_positive_season():
    seasonal = EpidemicParameters(GROWING.transmission, 0.2, 1e-5, season=0.5)
    assert season_factor(seasonal, 80.0) == pytest.approx(math.exp(-0.5))
    assert season_factor(seasonal, None) == 1.0 and season_factor(seasonal, math.nan) == 1.0
    hot = _run(seasonal, 5, contacts=1.0, temperature_f=80.0)[1]
    cold = _run(seasonal, 5, contacts=1.0, temperature_f=30.0)[1]
    assert hot[-1] < cold[-1]


def test_vaccination_moves_susceptibles_to_removed_once():
    start = EpidemicState(0.9, 0.0, 0.0, 0.1)
    once, _ = advance(start, GROWING, 7, 1.0, vaccinated_pct=50.0)
    assert once.susceptible == pytest.approx(0.9 * (1 - 0.6 * 0.5))
    assert once.vaccinated_pct == 50.0
    again, _ = advance(once, GROWING, 7, 1.0, vaccinated_pct=50.0)
    assert again.susceptible == pytest.approx(once.susceptible)  # no infection, no new doses
