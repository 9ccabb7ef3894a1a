"""Fitting a population's cells to its marginals, and drawing agents from the fitted cells.

The steps: the seed, iterative proportional fitting, the calibration of party ID, and the
integer draw of agents from the fitted cells.

The cells are the combinations of the attributes a place records (:data:`FITTED` order). For US
places the seed is a joint table fused from shipped US aggregates, which carries how the
attributes go together; no source gives such a joint table for other countries, so their seed is
uniform (their attributes are independent apart from the joint margins the data give: age by
sex, and education by age).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from simulator.population.income import RACE_IN_ANES, income_band_probabilities
from simulator.population.psychographics import PartyModel
from simulator.population.targets import (
    ACS_RACES,
    ANES_RACES,
    CATEGORIES,
    FITTED,
    PlaceTargets,
    broadcast_codes,
    data_table,
    ratio,
)

SEED_PSEUDO_COUNT = 0.2
"""Added to every cell of the ACS seed so that combinations absent from the 1,561-adult sample
remain possible (a light smoothing towards independence)."""

_RACE_IN_ACS = [ACS_RACES.index(r) for r in ("white", "black", "other", "asian", "other")]
"""ACS race category of each of ours: the sample has no Hispanic category (Hispanic adults take
its "other" slice)."""


def cell_shape(attributes: Sequence[str]) -> tuple[int, ...]:
    """Number of categories of each attribute: the shape of the cell table."""
    return tuple(len(CATEGORIES[name]) for name in attributes)


def systematic_sample(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Cell index of ``size`` agents; each cell gets the floor or ceiling of its expected count."""
    cumulative = np.cumsum(weights)
    cumulative *= size / cumulative[-1]
    return np.searchsorted(cumulative, rng.random() + np.arange(size), side="right")


def margins(places: Sequence[PlaceTargets], attributes: Sequence[str]
            ) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The margins every place is fitted to: (axes into ``attributes``, targets of each place).

    Age by sex is one joint margin; education too, jointly with age, where the source gives it
    by age; every other recorded attribute is one margin of its own.
    """
    joint_education = places[0].education_by_age is not None
    found = [((0, 1), np.array([place.age_sex for place in places]))]
    for axis, name in enumerate(attributes):
        if name in ("age_band", "sex"):
            continue
        if name == "education" and joint_education:
            target = [place.age_sex.sum(axis=1)[:, None] * place.education_by_age
                      for place in places]
            found.append(((0, axis), np.array(target)))
        else:
            found.append(((axis,), np.array([place.share(name) for place in places])))
    return found


def fit_cells(places: Sequence[PlaceTargets], weights: np.ndarray, attributes: Sequence[str],
              seed: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of the seed to every place's marginals.

    Args:
        places: the places, all recording ``attributes``.
        weights: population weight of each place, summing to 1.
        attributes: the fitted attributes, in :data:`FITTED` order.
        seed: the seed table, of shape :func:`cell_shape` of ``attributes``.

    Returns:
        Cell weights of shape (places, cells) summing to 1 (place p sums to ``weights[p]``).
    """
    table = weights[:, None] * (seed / seed.sum()).ravel()[None, :]
    table = table.reshape(len(places), *cell_shape(attributes))
    targets = [(axes, target * weights.reshape(-1, *[1] * len(axes)))
               for axes, target in margins(places, attributes)]
    for _ in range(1000):
        worst = 0.0
        for axes, target in targets:
            others = tuple(1 + axis for axis in range(len(attributes)) if axis not in axes)
            current = table.sum(axis=others, keepdims=True)
            wanted = target.reshape(current.shape)
            worst = max(worst, float(np.abs(current - wanted).max()))
            table *= ratio(wanted, current)
        if worst < 1e-9:
            break
    return table.reshape(len(places), -1)


def calibrate_party(places: Sequence[PlaceTargets], cell_weights: np.ndarray,
                    attributes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Party lean shift of each place and the party shares the calibrated model expects.

    Returns:
        The shift per place, shape (places,), and the expected democrat, independent and
        republican shares of the whole population, shape (3,).
    """
    model = PartyModel.load()
    # Sum out the attributes the party model does not use (its attributes follow FITTED order).
    unused = tuple(1 + axis for axis, name in enumerate(attributes)
                   if name not in model.ATTRIBUTES)
    weights = cell_weights.reshape(-1, *cell_shape(attributes)).sum(axis=unused)
    weights = weights.reshape(len(places), -1)
    lean = model.lean(**broadcast_codes(PartyModel.ATTRIBUTES)).ravel()
    lean = np.broadcast_to(lean, weights.shape)
    shift = model.calibrate(lean, weights, np.array([place.republican_share for place in places]))
    shares = np.einsum("pc,pck->k", weights, model.party_shares(lean + shift[:, None]))
    return shift, shares


@lru_cache(maxsize=1)
def us_seed() -> np.ndarray:
    """Fuse the shipped US aggregates into the seed table over :data:`FITTED` (unnormalised).

    The ACS 2012 sample's cell counts (age, sex, race, degree, employment, disability; Hispanic
    and other both take the sample's "other" slice), the ANES split of education below a degree
    by age and race, the ANES income model and the ANES residence split by race and education.
    """
    categories = CATEGORIES
    counts = _to_array(
        data_table("population_seed.csv"),
        {
            "age_band": categories["age_band"],
            "sex": categories["sex"],
            "race": ACS_RACES,
            "college_degree": ("no", "yes"),
            "employment": categories["employment"],
            "disability": categories["disability"],
        },
        "count",
        fill=SEED_PSEUDO_COUNT,
    )[:, :, _RACE_IN_ACS]
    below_degree = _to_array(
        data_table("education_split.csv"),
        {
            "age_band": categories["age_band"],
            "race": ANES_RACES,
            "education": categories["education"][:3],
        },
        "share",
    )[:, RACE_IN_ANES]
    # P(education | age band, race, degree): a degree means bachelor_or_higher.
    education = np.zeros((*below_degree.shape[:2], 2, len(categories["education"])))
    education[:, :, 0, :3] = below_degree
    education[:, :, 1, 3] = 1.0
    urbanicity = _to_array(
        data_table("urbanicity_split.csv"),
        {
            "race": ANES_RACES,
            "education": categories["education"],
            "urbanicity": categories["urbanicity"],
        },
        "share",
    )[RACE_IN_ANES]
    return np.einsum(
        "asrdmy,arde,aremi,reu->asremiuy",
        counts,
        education,
        income_band_probabilities(),
        urbanicity,
    )


def _to_array(
    table: pd.DataFrame, axes: dict[str, tuple[str, ...]], value: str, fill: float = 0.0
) -> np.ndarray:
    """A long table of figures as an array with one axis per labelled column (plus ``fill``)."""
    array = np.full([len(labels) for labels in axes.values()], fill)
    index = tuple(pd.Index(labels).get_indexer(table[column]) for column, labels in axes.items())
    array[index] += table[value].to_numpy(float)
    return array


def seed_for(attributes: Sequence[str], us: bool) -> np.ndarray:
    """The seed of a synthesis: the fused US table for US places, else uniform."""
    if us and tuple(attributes) == FITTED:
        return us_seed()
    return np.ones(cell_shape(attributes))
