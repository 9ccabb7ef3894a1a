"""Synthetic populations of adults: demographics drawn from fitted cells, then psychographics.

A population has a column for every attribute its place records and only those: the US nation
and states record everything; a country records what the shipped data give (age, sex,
education where Barro-Lee has it, urbanicity where the World Bank has it, households where UN
DESA has them) plus what a marginals file adds. ``race``, ``party``, ``income`` and the other
attributes no source records for a place are absent from :attr:`Population.columns`, never
filled with another place's figures.
"""

from __future__ import annotations

import os
from typing import ClassVar

import numpy as np
import pandas as pd

from simulator.population import psychographics
from simulator.population.fitting import cell_shape, systematic_sample
from simulator.population.households import group_households, size_bin
from simulator.population.income import draw_income
from simulator.population.marginals_file import read_marginals
from simulator.population.plan import Plan, make_plan
from simulator.population.psychographics import TRAITS, PartyModel
from simulator.population.targets import (
    AGE_BAND_STARTS,
    CATEGORIES,
    MAX_AGE,
    PopulationError,
)
from simulator.random_streams import POPULATION_STREAMS
from simulator.sources.regions import resolve_region, state_codes

ESSENTIAL_SHARE_BY_EDUCATION = np.array([0.824, 0.789, 0.732, 0.402])
"""Probability that an employed adult's job cannot be done from home, by education level.

``essential_worker`` means employed in work that cannot be done from home (frontline work). An
assumption built from two published figures: Dingel & Neiman (2020, J. Public Economics 189)
find that 37% of US jobs can be done entirely at home, so 63% cannot; the education gradient
follows the BLS American Time Use Survey 2014 shares of employed people working at home on an
average day (11.5%, 13.8%, 17.5%, 39.1%, less than high school to bachelor's degree or higher),
scaled by 1.53 so that the employed adults of the synthetic US population average 37%. Applied
where a population records employment and education.
"""

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
    :func:`simulator.sources.regions.state_codes` (-1 for a custom place not tied to a US
    state); ``household_size`` counts all persons, children included; Big Five traits are
    z-scores against US adult norms; the trust, risk, vulnerability and conformity scores lie in
    [0, 1]. Agents of one household are adjacent. Columns are read-only. Only the attributes the
    place records are columns (see the module docstring); code that reads an attribute checks
    ``name in population.columns``.

    Attributes:
        region: the canonical code of the region synthesised (the base region for a custom
            marginals file).
    """

    CATEGORIES: ClassVar[dict[str, tuple[str, ...]]] = {
        name: labels for name, labels in CATEGORIES.items() if name != "disability"
    }

    def __init__(self, region: str, columns: dict[str, np.ndarray], targets: pd.DataFrame):
        """Wrap finished columns; use :meth:`synthesize` to build a population."""
        self.region = region
        self._columns = {name: columns[name] for name in _COLUMN_ORDER if name in columns}
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
            raise KeyError(f"no column {name!r} (not recorded for {self.region}); columns: "
                           f"{', '.join(self._columns)}") from None

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the recorded columns, in a fixed order."""
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

        1. Seed: for US places, a joint table of age band x sex x race x education x
           employment x income band x urbanicity x disability (8,640 cells) that carries how
           the attributes go together, fused from shipped US aggregates
           (:func:`simulator.population.fitting.us_seed`); for other places, a uniform table
           over the attributes they record.
        2. Iterative proportional fitting of the seed to each place's marginals (age band x
           sex, education, jointly with age where the source gives it by age, and every other
           recorded attribute). The US nation is one fit per state, the states weighted by
           population, so state marginals differ.
        3. Agents drawn from the fitted cells by systematic sampling (every cell gets the floor
           or ceiling of its expected count), shuffled. Age from single-year shares within the
           band; household income (US) from a truncated lognormal within the income band,
           centred on the place's median and the agent's demographics.
        4. Households (:func:`simulator.population.households.group_households`): within each
           age band (and US state), adults are cut into consecutive households whose adult
           counts and sizes follow the place's household types.
        5. Psychographics drawn conditionally (:mod:`simulator.population.psychographics`);
           party ID (US) shifted per place to match its two-party vote.
        6. Agents ordered by household, households in random order.

        Every random draw comes from one of the child streams of ``rng`` declared in
        :data:`simulator.random_streams.POPULATION_STREAMS`, one per attribute drawn.

        Args:
            region: a region code or name: ``USA`` (agents spread over the states by
                population, each state with its own marginals), a state (``US_CA``,
                ``California``) or a country (``FRA``, ``France``).
            size: number of agents.
            rng: the only source of randomness; the same generator state gives the same
                population.
            marginals: optional YAML file of custom marginals (a city, a country's missing
                attributes); what it omits keeps the figures of ``region``. The result is a
                single place.

        Raises:
            PopulationError: for a bad size, a bad marginals file, or a region without
                age-by-sex figures (and no marginals file giving them).
            RegionError: for an unknown region.
        """
        code = resolve_region(region)
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise PopulationError(f"population size must be a positive integer, got {size!r}")
        plan = make_plan(code, None if marginals is None else read_marginals(marginals))
        streams = POPULATION_STREAMS.spawn(rng)
        columns, place = _demographics(plan, int(size), streams)
        columns.update(_psychographics(plan, columns, place, streams))
        order = _order_by_household(columns, streams["households"])
        return cls(code, {name: column[order] for name, column in columns.items()}, plan.targets)

    def labels(self, name: str) -> np.ndarray:
        """Decoded labels of a categorical column (or region codes of ``state``)."""
        if name == "state":
            # Index -1 (a custom place outside any state) picks the trailing empty label.
            return np.asarray([*state_codes(), ""])[self["state"]]
        if name not in self.CATEGORIES:
            raise KeyError(
                f"{name!r} is not categorical; categorical: {', '.join(self.CATEGORIES)}"
            )
        return np.asarray(self.CATEGORIES[name])[self[name]]

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
        """Synthetic shares against their targets for every recorded attribute with a target.

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
            return size_bin(self._columns["household_size"])
        return self._columns[attribute].astype(np.intp)


def _demographics(
    plan: Plan, size: int, streams: dict[str, np.random.Generator]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Draw the demographic columns; also returns each agent's place index."""
    cells = systematic_sample(plan.cell_weights.ravel(), size, streams["cells"])
    streams["cells"].shuffle(cells)
    shape = cell_shape(plan.attributes)
    place, cell = np.divmod(cells, int(np.prod(shape)))
    codes = {
        name: code.astype(np.int8)
        for name, code in zip(plan.attributes, np.unravel_index(cell, shape), strict=True)
    }
    columns = dict(codes)
    if "disability" in columns:
        columns["disability"] = codes.pop("disability").astype(bool)
    columns["age"] = _draw_age(codes["age_band"], plan.ages, streams["age"])
    if plan.income:
        medians = np.array([p.median_household_income for p in plan.places])
        columns["income"] = draw_income(medians, codes, place, streams["income"])
    if plan.states is not None:
        columns["state"] = plan.states[place]
    if {"employment", "education"} <= set(codes):
        employed = codes["employment"] == CATEGORIES["employment"].index("employed")
        chance = ESSENTIAL_SHARE_BY_EDUCATION[codes["education"]]
        columns["essential_worker"] = employed & (streams["essential"].random(size) < chance)
    if plan.household_types is not None:
        columns.update(group_households(plan.household_types, columns, streams["households"]))
    else:
        # No source gives the place's households: every adult lives alone.
        columns["household_id"] = np.arange(size, dtype=np.int64)
    return columns, place


def _draw_age(age_band: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Single-year ages within each agent's band, from the plan's shares of ages 18..MAX_AGE."""
    years = np.arange(AGE_BAND_STARTS[0], MAX_AGE + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(shares)])
    first = np.searchsorted(years, [*AGE_BAND_STARTS, MAX_AGE + 1])
    low, high = cumulative[first[:-1]][age_band], cumulative[first[1:]][age_band]
    position = low + rng.random(len(age_band)) * (high - low)
    index = np.searchsorted(cumulative, position, side="right") - 1
    # Rounding can put a draw at the very top of its band; keep it inside.
    index = np.clip(index, first[:-1][age_band], first[1:][age_band] - 1)
    return years[index].astype(np.int16)


def _psychographics(
    plan: Plan,
    columns: dict[str, np.ndarray],
    place: np.ndarray,
    streams: dict[str, np.random.Generator],
) -> dict[str, np.ndarray]:
    """Draw traits, and party and attitudes where their inputs are recorded."""
    education = columns.get("education")
    traits = psychographics.big_five(
        columns["age"], columns["sex"], education, streams["big_five"]
    )
    trait = {name: traits[:, k].copy() for k, name in enumerate(TRAITS)}
    drawn = dict(trait)
    party_id = None
    if plan.party_shift is not None:
        party_model = PartyModel.load()
        lean = party_model.lean(**{name: columns[name] for name in PartyModel.ATTRIBUTES})
        party_id = party_model.draw(lean + plan.party_shift[place], streams["party"])
        party = psychographics.party_of(party_id)
        drawn.update(party_id=party_id, party=party, trust_government=(
            psychographics.trust_government(
                party, columns["age_band"], education, streams["trust_government"])))
    drawn["trust_science"] = psychographics.trust_science(
        education, party_id, trait["openness"], streams["trust_science"]
    )
    drawn["risk_tolerance"] = psychographics.risk_tolerance(
        traits, columns["age"], columns["sex"], streams["risk_tolerance"]
    )
    drawn["perceived_vulnerability"] = psychographics.perceived_vulnerability(
        columns["age"], columns.get("disability"), trait["neuroticism"],
        streams["perceived_vulnerability"],
    )
    drawn["conformity"] = psychographics.conformity(traits, streams["conformity"])
    return drawn


def _order_by_household(columns: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Renumber households in random order and return the agent order that groups them.

    Rewrites ``columns["household_id"]`` as int32 ids 0..H-1 in the returned order.
    """
    household = columns["household_id"]
    renumbered = rng.permutation(int(household.max()) + 1)[household]
    order = np.argsort(renumbered, kind="stable")
    columns["household_id"] = renumbered.astype(np.int32)
    return order

