"""Synthetic populations of adults: demographics fitted to census marginals, then psychographics."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from simulator import psychographics
from simulator.marginals import (
    ACS_RACES,
    AGE_BAND_STARTS,
    ANES_RACES,
    FITTED,
    HIGH_INCOME_RATIO,
    HOUSEHOLD_SIZES,
    LOW_INCOME_RATIO,
    MAX_AGE,
    PlaceTargets,
    PopulationError,
    data_table,
    parse_marginals,
    ratio,
    read_marginals,
    region_targets,
)
from simulator.marginals import CATEGORIES as _ALL_CATEGORIES
from simulator.psychographics import TRAITS, PartyModel
from simulator.sources.regions import NATION, region_table, resolve_region, state_codes

__all__ = ["Population", "PopulationError"]

ESSENTIAL_SHARE_BY_EDUCATION = np.array([0.824, 0.789, 0.732, 0.402])
"""Probability that an employed adult's job cannot be done from home, by education level.

``essential_worker`` means employed in work that cannot be done from home (frontline work). An
assumption built from two published figures: Dingel & Neiman (2020, J. Public Economics 189)
find that 37% of US jobs can be done entirely at home, so 63% cannot; the education gradient
follows the BLS American Time Use Survey 2014 shares of employed people working at home on an
average day (11.5%, 13.8%, 17.5%, 39.1%, less than high school to bachelor's degree or higher),
scaled by 1.53 so that the employed adults of the synthetic US population average 37%.
"""

SEED_PSEUDO_COUNT = 0.2
"""Added to every cell of the ACS seed so that combinations absent from the 1,561-adult sample
remain possible (a light smoothing towards independence)."""

HOUSEHOLD_AGE_SPREAD = 5.0
"""Years of noise added to age when adults are sorted into households (partners of similar age)."""

# Seed sources' race categories for each of ours: the ACS sample has no Hispanic category
# (Hispanic adults take its "other" slice); ANES counts Asian Americans within "other".
_RACE_IN_ACS = [ACS_RACES.index(r) for r in ("white", "black", "other", "asian", "other")]
_RACE_IN_ANES = [ANES_RACES.index(r) for r in ("white", "black", "hispanic", "other", "other")]
_SEED_SHAPE = tuple(len(_ALL_CATEGORIES[name]) for name in FITTED)
_STREAMS = (
    "cells",
    "age",
    "income",
    "households",
    "essential",
    "big_five",
    "party",
    "trust_government",
    "trust_science",
    "risk_tolerance",
    "perceived_vulnerability",
    "conformity",
)
_COLUMN_ORDER = (
    "age",
    "age_band",
    "sex",
    "race",
    "education",
    "income",
    "income_band",
    "employment",
    "essential_worker",
    "household_id",
    "household_size",
    "urbanicity",
    "state",
    "disability",
    *TRAITS,
    "party_id",
    "party",
    "trust_government",
    "trust_science",
    "risk_tolerance",
    "perceived_vulnerability",
    "conformity",
)


class Population:
    """N synthetic adults of one region as numpy columns, one entry per agent.

    Categorical columns hold int8 codes into :attr:`CATEGORIES`; ``state`` is an index into
    :func:`simulator.regions.state_codes` (-1 for a custom place not tied to a US state);
    ``household_size`` counts all persons, children included; Big Five traits are z-scores
    against US adult norms; the trust, risk, vulnerability and conformity scores lie in [0, 1].
    Agents of one household are adjacent. Columns are read-only.

    Attributes:
        region: the canonical code of the region synthesised (the base region for a custom
            marginals file).
    """

    CATEGORIES: ClassVar[dict[str, tuple[str, ...]]] = {
        name: labels for name, labels in _ALL_CATEGORIES.items() if name != "disability"
    }

    def __init__(self, region: str, columns: dict[str, np.ndarray], targets: pd.DataFrame):
        """Wrap finished columns; use :meth:`synthesize` to build a population."""
        self.region = region
        self._columns = {name: columns[name] for name in _COLUMN_ORDER}
        for column in self._columns.values():
            column.flags.writeable = False
        self._targets = targets

    def __len__(self) -> int:
        """Number of agents."""
        return len(self._columns["age"])

    def __getitem__(self, name: str) -> np.ndarray:
        """One column (read-only, not a copy)."""
        try:
            return self._columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self._columns)}") from None

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in a fixed order."""
        return tuple(self._columns)

    @classmethod
    def synthesize(
        cls,
        region: str,
        size: int,
        rng: np.random.Generator,
        marginals: str | os.PathLike | None = None,
    ) -> Population:
        """Synthesise ``size`` adults of a region.

        Order of operations:

        1. Seed: a joint table of age band x sex x race x education x employment x income band
           x urbanicity x disability (8,640 cells) that carries how the attributes go together,
           fused from shipped aggregates: the ACS 2012 sample's cell counts (age, sex, race,
           degree, employment, disability; Hispanic and other both take the sample's "other"
           slice, as it has no Hispanic category), the ANES split of education below a degree by
           age and race, the ANES income model and the ANES residence split by race and
           education.
        2. Iterative proportional fitting of the seed to each place's marginals (age band x
           sex, race, education, employment, income band, urbanicity, disability). The nation
           is one fit per state, the states weighted by population, so state marginals differ.
        3. Agents drawn from the fitted cells by systematic sampling (every cell gets the floor
           or ceiling of its expected count), shuffled. Age from single-year shares within the
           band; household income from a truncated lognormal within the income band, centred
           on the place's median and the agent's demographics.
        4. Households: within each state and age band, adults sorted by income band,
           urbanicity and age (plus noise) are cut into consecutive households whose adult
           counts and sizes follow the household types of householders of that age band.
           Members share the first member's income unless the household straddles an income
           band boundary (at most a couple of households per state and age band).
        5. Psychographics drawn conditionally (:mod:`simulator.psychographics`), party ID
           shifted per place to match its two-party vote.
        6. Agents ordered by household, households in random order.

        Every random draw comes from one of a fixed set of child streams seeded from ``rng``.

        Args:
            region: ``USA`` (agents spread over the states by population, each state with its
                own marginals) or a state (``US_CA``, ``CA``, ``California``).
            size: number of agents.
            rng: the only source of randomness; the same generator state gives the same
                population.
            marginals: optional YAML file of custom marginals (a city, another country); what
                it omits keeps the figures of ``region``. The result is a single place.

        Raises:
            PopulationError: for a bad size or a bad marginals file.
            KeyError: for an unknown region.
        """
        code = resolve_region(region)
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise PopulationError(f"population size must be a positive integer, got {size!r}")
        plan = _plan(code, None if marginals is None else read_marginals(marginals))
        streams = dict(
            zip(
                _STREAMS,
                (np.random.default_rng(seed) for seed in rng.integers(2**62, size=len(_STREAMS))),
                strict=True,
            )
        )
        columns, place = _demographics(plan, int(size), streams)
        columns.update(_psychographics(plan, columns, place, streams))
        order = _order_by_household(columns, streams["households"])
        return cls(code, {name: column[order] for name, column in columns.items()}, plan.targets)

    def labels(self, name: str) -> np.ndarray:
        """Decoded labels of a categorical column (or region codes of ``state``)."""
        if name == "state":
            # Index -1 (a custom place outside any state) picks the trailing empty label.
            return np.asarray([*state_codes(), ""])[self._columns["state"]]
        if name not in self.CATEGORIES:
            raise KeyError(
                f"{name!r} is not categorical; categorical: {', '.join(self.CATEGORIES)}"
            )
        return np.asarray(self.CATEGORIES[name])[self._columns[name]]

    def to_frame(self) -> pd.DataFrame:
        """One row per agent; categorical columns (and ``state``) as pandas categoricals."""
        frame = {}
        for name, column in self._columns.items():
            if name in self.CATEGORIES:
                frame[name] = pd.Categorical.from_codes(column, categories=self.CATEGORIES[name])
            elif name == "state":
                frame[name] = pd.Categorical.from_codes(column, categories=state_codes())
            else:
                frame[name] = column
        return pd.DataFrame(frame)

    def summary(self) -> pd.DataFrame:
        """Synthetic shares against their targets for every fitted or calibrated attribute.

        Returns:
            Columns attribute, category, target, synthetic, abs_error (shares of agents).
            ``party`` targets are the shares the state-calibrated party model expects;
            ``household_size`` targets are adult-level shares implied by the household types.
        """
        synthetic = np.concatenate(
            [
                np.bincount(self._summary_codes(attribute), minlength=len(group)) / len(self)
                for attribute, group in self._targets.groupby("attribute", sort=False)
            ]
        )
        summary = self._targets.assign(synthetic=synthetic)
        summary["abs_error"] = (summary["synthetic"] - summary["target"]).abs()
        return summary

    @property
    def max_abs_error(self) -> float:
        """The largest absolute share error in :meth:`summary`."""
        return float(self.summary()["abs_error"].max())

    def _summary_codes(self, attribute: str) -> np.ndarray:
        """Codes of an attribute in the category order of the targets."""
        if attribute == "household_size":
            return np.minimum(self._columns["household_size"], len(HOUSEHOLD_SIZES)) - 1
        return self._columns[attribute].astype(np.intp)


@dataclass(frozen=True)
class _Plan:
    """Everything about a synthesis that does not depend on the random draws (cached).

    Attributes:
        places: the targets of each place (the states of the nation, or one place).
        states: state index of each place (-1 for a custom place outside any state).
        cell_weights: fitted share of the population in every place x seed cell, shape
            (places, cells), summing to 1.
        party_shift: calibrated shift of the party lean of each place.
        household_types: per age band, arrays of persons, adults and probability.
        targets: attribute, category, target shares for :meth:`Population.summary`.
    """

    places: tuple[PlaceTargets, ...]
    states: np.ndarray
    cell_weights: np.ndarray
    party_shift: np.ndarray
    household_types: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    targets: pd.DataFrame


@lru_cache(maxsize=16)
def _plan(code: str, custom: tuple[str, str] | None) -> _Plan:
    """Fit the cells, calibrate party ID and gather the targets of a region (and custom file).

    Args:
        code: canonical region code.
        custom: name and text of a custom marginals file, or None.
    """
    places, states, weights = _places(code, custom)
    cell_weights = _fit_cells(places, weights)
    party_shift, party_shares = _calibrate_party(places, cell_weights)
    age_shares = weights @ np.array([place.age_sex.sum(axis=1) for place in places])
    # Only a custom file (always a single place) can override household sizes.
    household_types = _household_types(places[0].household_size, age_shares)

    targets = {
        attribute: weights @ np.array([place.share(attribute) for place in places])
        for attribute in FITTED
    }
    targets["household_size"] = _adult_household_sizes(household_types, age_shares)
    targets["party"] = party_shares
    labels = {**_ALL_CATEGORIES, "household_size": HOUSEHOLD_SIZES}
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
    return _Plan(places, states, cell_weights, party_shift, household_types, frame)


def _places(
    code: str, custom: tuple[str, str] | None
) -> tuple[tuple[PlaceTargets, ...], np.ndarray, np.ndarray]:
    """The places of a synthesis, their state indices and population weights.

    The nation is its 51 states weighted by population; a state, or any custom file, is one
    place (a custom file based on the nation belongs to no state: index -1).
    """
    codes = state_codes()
    if custom is not None:
        state = -1 if code == NATION else codes.index(code)
        places = (parse_marginals(*custom, base=region_targets(code)),)
        return places, np.array([state], dtype=np.int8), np.ones(1)
    if code == NATION:
        population = region_table().loc[codes, "population"].to_numpy(float)
        places = tuple(region_targets(state) for state in codes)
        return places, np.arange(len(codes), dtype=np.int8), population / population.sum()
    return (region_targets(code),), np.array([codes.index(code)], dtype=np.int8), np.ones(1)


def _calibrate_party(
    places: tuple[PlaceTargets, ...], cell_weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Party lean shift of each place and the party shares the calibrated model expects.

    Returns:
        The shift per place, shape (places,), and the expected democrat, independent and
        republican shares of the whole population, shape (3,).
    """
    model = PartyModel.load()
    # Sum out the attributes the party model does not use (its attributes follow FITTED order).
    unused = tuple(1 + axis for axis, name in enumerate(FITTED) if name not in model.ATTRIBUTES)
    weights = cell_weights.reshape(-1, *_SEED_SHAPE).sum(axis=unused).reshape(len(places), -1)
    lean = model.lean(**_broadcast_codes(PartyModel.ATTRIBUTES)).ravel()
    lean = np.broadcast_to(lean, weights.shape)
    shift = model.calibrate(lean, weights, np.array([place.republican_share for place in places]))
    shares = np.einsum("pc,pck->k", weights, model.party_shares(lean + shift[:, None]))
    return shift, shares


def _broadcast_codes(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Open-grid codes of the named attributes, each on its own axis in the given order."""
    grids = np.ix_(*(np.arange(len(_ALL_CATEGORIES[name])) for name in names))
    return dict(zip(names, grids, strict=True))


def _fit_cells(places: tuple[PlaceTargets, ...], weights: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of the seed to every place's marginals.

    Returns:
        Cell weights of shape (places, cells) summing to 1 (place p sums to ``weights[p]``).
    """
    seed = _seed()
    table = weights[:, None] * (seed / seed.sum()).ravel()[None, :]
    table = table.reshape(len(places), *_SEED_SHAPE)
    margins = [((0, 1), np.array([place.age_sex for place in places]))]
    margins += [
        ((axis,), np.array([place.share(name) for place in places]))
        for axis, name in enumerate(FITTED)
        if name not in ("age_band", "sex")
    ]
    margins = [(axes, target * weights.reshape(-1, *[1] * len(axes))) for axes, target in margins]
    for _ in range(1000):
        worst = 0.0
        for axes, target in margins:
            others = tuple(1 + axis for axis in range(len(FITTED)) if axis not in axes)
            current = table.sum(axis=others, keepdims=True)
            wanted = target.reshape(current.shape)
            worst = max(worst, float(np.abs(current - wanted).max()))
            table *= ratio(wanted, current)
        if worst < 1e-9:
            break
    return table.reshape(len(places), -1)


@lru_cache(maxsize=1)
def _seed() -> np.ndarray:
    """Fuse the shipped aggregates into the seed table over :data:`FITTED` (unnormalised)."""
    categories = _ALL_CATEGORIES
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
    )[:, _RACE_IN_ANES]
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
    )[_RACE_IN_ANES]
    return np.einsum(
        "asrdmy,arde,aremi,reu->asremiuy",
        counts,
        education,
        _income_band_probabilities(),
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


@lru_cache(maxsize=1)
def _income_model() -> dict[str, np.ndarray | float]:
    """The household income model as lookup arrays by category code (see build_tables)."""
    terms = data_table("household_income_model.csv").set_index("term")["value"]

    def effects(attribute: str, labels: tuple[str, ...]) -> np.ndarray:
        return np.array([0.0] + [terms[f"{attribute}.{label}"] for label in labels[1:]])

    race = effects("race", ANES_RACES)[_RACE_IN_ANES]
    employment = np.array([0.0, terms["employment.unemployed"], 0.0])
    spread = terms["log_income_sd"]
    return {
        "intercept": terms["intercept"],
        "age_band": effects("age_band", _ALL_CATEGORIES["age_band"]),
        "race": race,
        "education": effects("education", _ALL_CATEGORIES["education"]),
        "employment": employment,
        "residual_sd": terms["residual_sd"],
        "log_income_sd": spread,
        "band_edges": np.array(
            [-np.inf, np.log(LOW_INCOME_RATIO) / spread, np.log(HIGH_INCOME_RATIO) / spread, np.inf]
        ),
        "national_median": float(
            data_table("state_marginals.csv")
            .set_index("code")
            .loc[NATION, "median_household_income"]
        ),
    }


def _income_mean(codes: dict[str, np.ndarray]) -> np.ndarray:
    """Latent log income (national SD units) implied by age band, race, education, employment."""
    model = _income_model()
    return model["intercept"] + sum(
        model[name][codes[name]] for name in ("age_band", "race", "education", "employment")
    )


def _income_band_probabilities() -> np.ndarray:
    """P(income band | age band, race, education, employment) at the US median, (4,5,4,3,3)."""
    model = _income_model()
    mean = _income_mean(_broadcast_codes(("age_band", "race", "education", "employment")))
    below = ndtr((model["band_edges"][1:3] - mean[..., None]) / model["residual_sd"])
    return np.stack([below[..., 0], below[..., 1] - below[..., 0], 1 - below[..., 1]], axis=-1)


def _demographics(
    plan: _Plan, size: int, streams: dict[str, np.random.Generator]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Draw the demographic columns; also returns each agent's place index."""
    cells = _systematic_sample(plan.cell_weights.ravel(), size, streams["cells"])
    streams["cells"].shuffle(cells)
    place, cell = np.divmod(cells, int(np.prod(_SEED_SHAPE)))
    codes = {
        name: code.astype(np.int8)
        for name, code in zip(FITTED, np.unravel_index(cell, _SEED_SHAPE), strict=True)
    }
    disability = codes.pop("disability").astype(bool)
    columns = {
        **codes,
        "age": _draw_age(codes["age_band"], streams["age"]),
        "income": _draw_income(plan, codes, place, streams["income"]),
        "state": plan.states[place],
        "disability": disability,
        "essential_worker": (codes["employment"] == 0)
        & (streams["essential"].random(size) < ESSENTIAL_SHARE_BY_EDUCATION[codes["education"]]),
    }
    columns.update(_households(plan, columns, streams["households"]))
    return columns, place


def _systematic_sample(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Cell index of ``size`` agents; each cell gets the floor or ceiling of its expected count."""
    cumulative = np.cumsum(weights)
    cumulative *= size / cumulative[-1]
    return np.searchsorted(cumulative, rng.random() + np.arange(size), side="right")


def _draw_age(age_band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Single-year ages within each agent's band, from the shipped age shares."""
    ages = data_table("population_ages.csv")
    cumulative = np.concatenate([[0.0], np.cumsum(ages["share"].to_numpy())])
    first = np.searchsorted(ages["age"].to_numpy(), [*AGE_BAND_STARTS, MAX_AGE + 1])
    low, high = cumulative[first[:-1]][age_band], cumulative[first[1:]][age_band]
    position = low + rng.random(len(age_band)) * (high - low)
    index = np.searchsorted(cumulative, position, side="right") - 1
    # Rounding can put a draw at the very top of its band; keep it inside.
    index = np.clip(index, first[:-1][age_band], first[1:][age_band] - 1)
    return ages["age"].to_numpy()[index].astype(np.int16)


def _draw_income(
    plan: _Plan, codes: dict[str, np.ndarray], place: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Household income: lognormal around the place's median, truncated to the income band."""
    model = _income_model()
    medians = np.array([p.median_household_income for p in plan.places])
    shift = np.log(medians / model["national_median"]) / model["log_income_sd"]
    mean = _income_mean(codes) + shift[place]
    scale = model["residual_sd"]
    band = codes["income_band"]
    lower, upper = model["band_edges"][band], model["band_edges"][band + 1]
    low, high = ndtr((lower - mean) / scale), ndtr((upper - mean) / scale)
    uniform = np.clip(low + rng.random(len(band)) * (high - low), 1e-12, 1 - 1e-12)
    latent = np.clip(mean + scale * ndtri(uniform), lower, upper)
    return (model["national_median"] * np.exp(model["log_income_sd"] * latent)).astype(np.float32)


def _household_types(
    size_shares: np.ndarray | None, age_shares: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """Household types (persons, adults, probability) per householder age band.

    Args:
        size_shares: adult-level shares of :data:`HOUSEHOLD_SIZES` to match by reweighting the
            shipped types, or None to keep them (every age band has types of every size bin,
            so any shares can be matched).
        age_shares: shares of adults by age band.
    """
    table = data_table("household_types.csv")
    types = []
    for band in _ALL_CATEGORIES["age_band"]:
        rows = table[table["householder_age_band"] == band]
        share = rows["share"].to_numpy()
        types.append((rows["persons"].to_numpy(), rows["adults"].to_numpy(), share / share.sum()))
    if size_shares is None:
        return tuple(types)
    base = [probability for _, _, probability in types]
    factors = np.ones(len(HOUSEHOLD_SIZES))
    for _ in range(500):
        implied = _adult_household_sizes(types, age_shares)
        if np.abs(implied - size_shares).max() < 1e-9:
            break
        factors *= ratio(size_shares, implied)
        reweighted = [
            probability * factors[_size_bin(persons)]
            for (persons, _, _), probability in zip(types, base, strict=True)
        ]
        types = [
            (persons, adults, weights / weights.sum())
            for (persons, adults, _), weights in zip(types, reweighted, strict=True)
        ]
    return tuple(types)


def _size_bin(persons: np.ndarray) -> np.ndarray:
    """Index into :data:`HOUSEHOLD_SIZES` of household sizes."""
    return np.minimum(persons, len(HOUSEHOLD_SIZES)) - 1


def _adult_household_sizes(
    types: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...] | list, age_shares: np.ndarray
) -> np.ndarray:
    """Share of adults living in households of each size bin, given the age band shares."""
    shares = np.zeros(len(HOUSEHOLD_SIZES))
    for (persons, adults, probability), age_share in zip(types, age_shares, strict=True):
        per_size = np.bincount(_size_bin(persons), probability * adults, len(HOUSEHOLD_SIZES))
        shares += age_share * per_size / per_size.sum()
    return shares


def _households(
    plan: _Plan, columns: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Group agents into households within state and age band (see Population.synthesize).

    Returns:
        ``household_id`` (int64, not yet in final order), ``household_size`` and ``income``
        (members sharing the first member's income).
    """
    age_band, state = columns["age_band"], columns["state"]
    income = columns["income"].copy()
    noisy_age = columns["age"] + rng.normal(0.0, HOUSEHOLD_AGE_SPREAD, len(age_band))
    order = np.lexsort((noisy_age, columns["urbanicity"], columns["income_band"], state, age_band))
    band_bounds = np.searchsorted(age_band[order], np.arange(len(plan.household_types) + 1))
    household = np.empty(len(age_band), dtype=np.int64)
    size = np.empty(len(age_band), dtype=np.int8)
    next_id = 0
    for band, (persons, adults, probability) in enumerate(plan.household_types):
        members = order[band_bounds[band] : band_bounds[band + 1]]
        if len(members) == 0:
            continue
        kinds = np.empty(0, dtype=np.intp)
        while adults[kinds].sum() < len(members):
            count = int(len(members) / (probability @ adults) * 1.05) + 10
            batch = _systematic_sample(probability, count, rng)
            rng.shuffle(batch)
            kinds = np.concatenate([kinds, batch])
        member_of = np.searchsorted(np.cumsum(adults[kinds]), np.arange(len(members)), "right")
        starts = np.concatenate(
            [[True], (np.diff(member_of) != 0) | (np.diff(state[members]) != 0)]
        )
        local = np.cumsum(starts) - 1
        household[members] = next_id + local
        size[members] = np.bincount(local)[local] + (persons - adults)[kinds[member_of]]
        heads = members[starts][local]
        same_band = columns["income_band"][members] == columns["income_band"][heads]
        income[members] = np.where(same_band, income[heads], income[members])
        next_id += local[-1] + 1
    return {"household_id": household, "household_size": size, "income": income}


def _psychographics(
    plan: _Plan,
    columns: dict[str, np.ndarray],
    place: np.ndarray,
    streams: dict[str, np.random.Generator],
) -> dict[str, np.ndarray]:
    """Draw traits, party and attitudes conditional on the demographic columns."""
    traits = psychographics.big_five(
        columns["age"], columns["sex"], columns["education"], streams["big_five"]
    )
    party_model = PartyModel.load()
    lean = party_model.lean(**{name: columns[name] for name in PartyModel.ATTRIBUTES})
    party_id = party_model.draw(lean + plan.party_shift[place], streams["party"])
    party = psychographics.party_of(party_id)
    trait = {name: traits[:, k].copy() for k, name in enumerate(TRAITS)}
    return {
        **trait,
        "party_id": party_id,
        "party": party,
        "trust_government": psychographics.trust_government(
            party, columns["age_band"], columns["education"], streams["trust_government"]
        ),
        "trust_science": psychographics.trust_science(
            columns["education"], party_id, trait["openness"], streams["trust_science"]
        ),
        "risk_tolerance": psychographics.risk_tolerance(
            traits, columns["age"], columns["sex"], streams["risk_tolerance"]
        ),
        "perceived_vulnerability": psychographics.perceived_vulnerability(
            columns["age"],
            columns["disability"],
            trait["neuroticism"],
            streams["perceived_vulnerability"],
        ),
        "conformity": psychographics.conformity(traits, streams["conformity"]),
    }


def _order_by_household(columns: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Renumber households in random order and return the agent order that groups them.

    Rewrites ``columns["household_id"]`` as int32 ids 0..H-1 in the returned order.
    """
    household = columns["household_id"]
    renumbered = rng.permutation(int(household.max()) + 1)[household]
    order = np.argsort(renumbered, kind="stable")
    columns["household_id"] = renumbered.astype(np.int32)
    return order
