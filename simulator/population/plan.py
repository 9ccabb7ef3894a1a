"""The plan of a synthesis: everything about a population that does not depend on random draws.

For a region (and optionally a marginals file): its places and their weights, the attributes
they record, the fitted cells, the party calibration, the household types, the single-year age
shape and the targets that :meth:`simulator.population.Population.summary` compares against.
Plans are cached, so every seed and size of a region shares one fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from simulator.population.fitting import calibrate_party, fit_cells, seed_for
from simulator.population.households import (
    HouseholdTypes,
    adult_household_sizes,
    household_types,
)
from simulator.population.marginals_file import parse_marginals
from simulator.population.psychographics import PartyModel
from simulator.population.targets import (
    AGE_BAND_STARTS,
    CATEGORIES,
    HOUSEHOLD_SIZES,
    MAX_AGE,
    PlaceTargets,
    PopulationError,
    data_table,
    region_targets,
)
from simulator.sources.regions import NATION, get_region, region_table, state_codes

INCOME_ATTRIBUTES = ("age_band", "race", "education", "employment", "income_band")
"""What the US household income model reads."""


@dataclass(frozen=True)
class Plan:
    """Everything about a synthesis that does not depend on the random draws.

    Attributes:
        places: the targets of each place (the states of the US nation, or one place).
        attributes: the fitted attributes the places record, in ``FITTED`` order.
        states: US state index of each place (-1 for a custom place outside any state), or
            None outside the US.
        cell_weights: fitted share of the population in every place x cell, shape
            (places, cells), summing to 1.
        party_shift: calibrated shift of the party lean of each place, or None where party ID
            is not recorded.
        household_types: per age band, arrays of persons, adults and probability; None when no
            source gives the place's households (every adult then lives alone).
        ages: shares of the single-year ages 18 .. MAX_AGE.
        income: whether the US household income model applies.
        targets: attribute, category, target shares for the summary.
    """

    places: tuple[PlaceTargets, ...]
    attributes: tuple[str, ...]
    states: np.ndarray | None
    cell_weights: np.ndarray
    party_shift: np.ndarray | None
    household_types: HouseholdTypes | None
    ages: np.ndarray
    income: bool
    targets: pd.DataFrame


@lru_cache(maxsize=16)
def make_plan(code: str, custom: tuple[str, str] | None) -> Plan:
    """Fit the cells, calibrate party ID and gather the targets of a region (and custom file).

    Args:
        code: canonical region code.
        custom: name and text of a custom marginals file, or None.

    Raises:
        PopulationError: the region has no age-by-sex figures and no marginals file gives them,
            or the marginals file is bad.
    """
    places, states, weights = _places(code, custom)
    first = places[0]
    if first.age_sex is None:
        region = get_region(code)
        raise PopulationError(
            f"no population data for {region.code} ({region.name}): UN WPP 2019 has no age-by-sex "
            "figures for it; give population.marginals with shares.age_band and shares.sex "
            "(format: scenarios/populations/README.md)"
        )
    us = get_region(code).country == NATION
    attributes = first.recorded
    cell_weights = fit_cells(places, weights, attributes, seed_for(attributes, us))
    targets = {
        attribute: weights @ np.array([place.share(attribute) for place in places])
        for attribute in attributes
    }
    labels = {**CATEGORIES, "household_size": HOUSEHOLD_SIZES}
    age_shares = targets["age_band"]
    types = None
    if us or first.households is not None:
        # Only a custom file (always a single place) can override household sizes.
        types = household_types(first.household_size, age_shares, first.households)
        targets["household_size"] = adult_household_sizes(types, age_shares)
    party_shift = None
    if all(place.republican_share is not None for place in places) and \
            set(PartyModel.ATTRIBUTES) <= set(attributes):
        party_shift, targets["party"] = calibrate_party(places, cell_weights, attributes)
    if len(places) > 1:
        targets["state"] = weights
        labels["state"] = tuple(state_codes())
    frame = pd.DataFrame(
        [
            (attribute, label, share)
            for attribute, shares in targets.items()
            for label, share in zip(labels[attribute], shares, strict=True)
        ],
        columns=["attribute", "category", "target"],
    )
    income = all(place.median_household_income is not None for place in places) and \
        set(INCOME_ATTRIBUTES) <= set(attributes)
    return Plan(places, attributes, states, cell_weights, party_shift, types,
                _ages(first, us), income, frame)


def _places(
    code: str, custom: tuple[str, str] | None
) -> tuple[tuple[PlaceTargets, ...], np.ndarray | None, np.ndarray]:
    """The places of a synthesis, their US state indices and population weights.

    The US nation is its 51 states weighted by population; a state, a country, or any custom
    file, is one place (a custom file based on the US nation belongs to no state: index -1).
    """
    country = get_region(code).country
    codes = state_codes()
    state = None
    if country == NATION:
        state = np.array([-1 if code == NATION else codes.index(code)], dtype=np.int8)
    if custom is not None:
        return (parse_marginals(*custom, base=region_targets(code)),), state, np.ones(1)
    if code == NATION:
        population = region_table().loc[codes, "population"].to_numpy(float)
        places = tuple(region_targets(state) for state in codes)
        return places, np.arange(len(codes), dtype=np.int8), population / population.sum()
    return (region_targets(code),), state, np.ones(1)


def _ages(place: PlaceTargets, us: bool) -> np.ndarray:
    """Single-year age shares: the place's, else the US adult sample's (US), else uniform."""
    if place.ages is not None:
        return place.ages
    years = np.arange(AGE_BAND_STARTS[0], MAX_AGE + 1)
    if not us:
        return np.full(len(years), 1.0 / len(years))
    table = data_table("population_ages.csv").set_index("age")["share"]
    return table.reindex(years).to_numpy(float)
