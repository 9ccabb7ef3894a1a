"""Households: the household types of a place and the grouping of adults into households.

A household type is (persons, adults): the agents are the adults, the other persons children.
US places take the types of ACS PUMS households by the age band of the householder. A country
takes a model of its mean household size (UN DESA) and share of adults (UN WPP): persons are
1 + Poisson(mean - 1), the size distribution that Jarosz (2021, Population Research and Policy
Review 40, 149-162) found to fit census household sizes across countries, and each person other
than the householder is an adult with the probability that makes adults per person equal the
country's share of adults; the types do not depend on the householder's age (an assumption).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, poisson

from simulator.population.fitting import systematic_sample
from simulator.population.targets import CATEGORIES, HOUSEHOLD_SIZES, data_table, ratio

HOUSEHOLD_AGE_SPREAD = 5.0
"""Years of noise added to age when adults are sorted into households (partners of similar age)."""
MAX_PERSONS = 20
"""Largest household of the country model (the Poisson tail beyond it is left out)."""

HouseholdTypes = tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
"""Per householder age band: persons, adults and probability of each household type."""


def shipped_types() -> HouseholdTypes:
    """The US household types by householder age band (``household_types.csv``)."""
    table = data_table("household_types.csv")
    types = []
    for band in CATEGORIES["age_band"]:
        rows = table[table["householder_age_band"] == band]
        share = rows["share"].to_numpy()
        types.append((rows["persons"].to_numpy(), rows["adults"].to_numpy(), share / share.sum()))
    return tuple(types)


def modelled_types(mean_size: float, adults_per_person: float) -> HouseholdTypes:
    """Household types of the country model (see the module docstring), for every age band."""
    persons = np.arange(1, MAX_PERSONS + 1)
    size = poisson.pmf(persons - 1, max(mean_size - 1.0, 0.0))
    mean = (persons * size).sum() / size.sum()
    other_adult = np.clip((adults_per_person * mean - 1.0) / max(mean - 1.0, 1e-9), 0.0, 1.0)
    grid_persons, grid_adults = np.meshgrid(persons, persons, indexing="ij")
    possible = grid_adults <= grid_persons
    probability = size[:, None] * binom.pmf(grid_adults - 1, grid_persons - 1, other_adult)
    probability = np.where(possible, probability, 0.0)
    keep = probability > 0
    kind = (grid_persons[keep], grid_adults[keep], probability[keep] / probability[keep].sum())
    return tuple(kind for _ in CATEGORIES["age_band"])


def household_types(size_shares: np.ndarray | None, age_shares: np.ndarray,
                    model: tuple[float, float] | None = None) -> HouseholdTypes:
    """Household types (persons, adults, probability) per householder age band.

    Args:
        size_shares: adult-level shares of :data:`HOUSEHOLD_SIZES` to match by reweighting the
            types, or None to keep them (every age band has types of every size bin, so any
            shares can be matched).
        age_shares: shares of adults by age band.
        model: ``(mean household size, adults per person)`` of a country, or None for the US
            types.
    """
    types = list(shipped_types() if model is None else modelled_types(*model))
    if size_shares is None:
        return tuple(types)
    base = [probability for _, _, probability in types]
    factors = np.ones(len(HOUSEHOLD_SIZES))
    for _ in range(500):
        implied = adult_household_sizes(types, age_shares)
        if np.abs(implied - size_shares).max() < 1e-9:
            break
        factors *= ratio(size_shares, implied)
        reweighted = [
            probability * factors[size_bin(persons)]
            for (persons, _, _), probability in zip(types, base, strict=True)
        ]
        types = [
            (persons, adults, weights / weights.sum())
            for (persons, adults, _), weights in zip(types, reweighted, strict=True)
        ]
    return tuple(types)


def size_bin(persons: np.ndarray) -> np.ndarray:
    """Index into :data:`HOUSEHOLD_SIZES` of household sizes."""
    return np.minimum(persons, len(HOUSEHOLD_SIZES)) - 1


def adult_household_sizes(types: HouseholdTypes | list, age_shares: np.ndarray) -> np.ndarray:
    """Share of adults living in households of each size bin, given the age band shares."""
    shares = np.zeros(len(HOUSEHOLD_SIZES))
    for (persons, adults, probability), age_share in zip(types, age_shares, strict=True):
        per_size = np.bincount(size_bin(persons), probability * adults, len(HOUSEHOLD_SIZES))
        shares += age_share * per_size / per_size.sum()
    return shares


def group_households(
    types: HouseholdTypes, columns: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Group agents into households within state and age band.

    Within each age band (and US state), adults sorted by income band, urbanicity and age (plus
    noise), where the population records them, are cut into consecutive households whose adult
    counts and sizes follow the household types. Members share the first member's income unless
    the household straddles an income band boundary (at most a couple of households per state
    and age band).

    Returns:
        ``household_id`` (int64, not yet in final order), ``household_size`` and, where the
        population records income, ``income`` (members sharing the first member's income).
    """
    age_band = columns["age_band"]
    state = columns.get("state")
    noisy_age = columns["age"] + rng.normal(0.0, HOUSEHOLD_AGE_SPREAD, len(age_band))
    keys = [columns[name] for name in ("urbanicity", "income_band", "state") if name in columns]
    order = np.lexsort((noisy_age, *keys, age_band))
    band_bounds = np.searchsorted(age_band[order], np.arange(len(types) + 1))
    household = np.empty(len(age_band), dtype=np.int64)
    size = np.empty(len(age_band), dtype=np.int8)
    income = columns["income"].copy() if "income" in columns else None
    next_id = 0
    for band, (persons, adults, probability) in enumerate(types):
        members = order[band_bounds[band] : band_bounds[band + 1]]
        if len(members) == 0:
            continue
        kinds = np.empty(0, dtype=np.intp)
        while adults[kinds].sum() < len(members):
            count = int(len(members) / (probability @ adults) * 1.05) + 10
            batch = systematic_sample(probability, count, rng)
            rng.shuffle(batch)
            kinds = np.concatenate([kinds, batch])
        member_of = np.searchsorted(np.cumsum(adults[kinds]), np.arange(len(members)), "right")
        new = np.diff(member_of) != 0
        if state is not None:
            new |= np.diff(state[members]) != 0
        starts = np.concatenate([[True], new])
        local = np.cumsum(starts) - 1
        household[members] = next_id + local
        size[members] = np.bincount(local)[local] + (persons - adults)[kinds[member_of]]
        if income is not None:
            heads = members[starts][local]
            same_band = columns["income_band"][members] == columns["income_band"][heads]
            income[members] = np.where(same_band, income[heads], income[members])
        next_id += local[-1] + 1
    grouped = {"household_id": household, "household_size": size}
    if income is not None:
        grouped["income"] = income
    return grouped
