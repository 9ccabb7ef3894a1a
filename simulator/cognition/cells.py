"""Cells: the real subgroups of a population, and how each gets its answer every tick.

A cell is the set of agents that share every binned persona attribute
(:func:`~simulator.cognition.personas.persona_bins`), with the mean traits of its members. No
cell is ever shown as somebody else: the ``rules`` engine answers every cell from its own traits,
and language-model engines answer the personas of a
:class:`~simulator.cognition.personas.FactorialDesign`, whose answers combine into each cell's
from prompts that show the cell's own levels. The number of language-model calls a tick depends
on the design (``1 + sum(levels - 1)`` personas), never on the number of agents or cells.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd

from simulator.behaviours import Behaviour
from simulator.cognition.engine import DecisionRequest, Decisions, Engine, Respondent
from simulator.cognition.personas import FactorialDesign, persona_bins
from simulator.cognition.prompts import PromptBuilder
from simulator.policy import Signals
from simulator.population import Population

_SCORES = ("risk_tolerance", "trust_government", "trust_science", "perceived_vulnerability",
           "conformity")
_MEMBERSHIPS = {
    "age_65_plus": ("age_band", "65+"), "female": ("sex", "female"),
    "employed": ("employment", "employed"), "urban": ("urbanicity", "urban"),
    "rural": ("urbanicity", "rural"), "republican": ("party", "republican"),
    "democrat": ("party", "democrat"),
}
TRAITS: tuple[str, ...] = (*_SCORES, *_MEMBERSHIPS, "essential_worker")
"""The traits a cell has (scores in [0, 1] and 0/1 memberships), as ``rules`` reads them."""


def cell_traits(population: Population) -> dict[str, np.ndarray]:
    """Numeric traits per agent that the ``rules`` engine reads (:data:`TRAITS`).

    Traits of attributes the population does not record are left out (the rules engine then
    uses its neutral value).
    """
    cats = Population.CATEGORIES
    columns = set(population.columns)
    traits = {name: population[name] for name in _SCORES if name in columns}
    for trait, (column, label) in _MEMBERSHIPS.items():
        if column in columns:
            traits[trait] = population[column] == cats[column].index(label)
    if "essential_worker" in columns:
        traits["essential_worker"] = population["essential_worker"].astype(bool)
    return traits


class Cells(Sequence[Respondent]):
    """The cells of a population as :class:`Respondent` objects, each made when it is read.

    Ten million agents fall into hundreds of thousands of cells; their labels and traits are
    kept as arrays, and a respondent's dictionaries exist only while somebody looks at it.

    Args:
        labels: persona attribute -> its labels, in the column order of ``codes``.
        codes: attribute codes of every cell, shape (n_cells, n_attributes).
        traits: trait name -> mean trait of every cell's members, shape (n_cells,).
        sizes: members of every cell, shape (n_cells,).
    """

    def __init__(self, labels: Mapping[str, tuple[str, ...]], codes: np.ndarray,
                 traits: Mapping[str, np.ndarray], sizes: np.ndarray) -> None:
        self.labels, self.codes, self.traits, self.sizes = dict(labels), codes, traits, sizes

    def __len__(self) -> int:
        return len(self.sizes)

    @overload
    def __getitem__(self, index: int) -> Respondent: ...

    @overload
    def __getitem__(self, index: slice) -> list[Respondent]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[c] for c in range(len(self))[index]]
        c = range(len(self))[index]
        return Respondent(
            index=c,
            attributes={n: labels[self.codes[c, k]] for k, (n, labels) in
                        enumerate(self.labels.items())},
            traits={name: float(column[c]) for name, column in self.traits.items()},
            size=int(self.sizes[c]))


@dataclass
class PopulationCells:
    """The cells of a population and the persona design that answers them.

    Attributes:
        cells: one respondent per cell, largest first (attributes are the cell's labels).
        assignment: cell index of every agent, shape (n_agents,).
        design: the personas language-model engines are asked through.
        weights: design weights of the cells, shape (n_cells, n_personas) (made on first use:
            an engine that answers every cell never needs them).
        persona_match: share of agents whose persona shows their own level, per attribute,
            when asked through the design (language-model engines).
    """

    cells: Cells
    assignment: np.ndarray
    design: FactorialDesign

    def __len__(self) -> int:
        return len(self.cells)

    @classmethod
    def build(cls, population: Population, max_personas: int,
              reference: Population | None = None) -> PopulationCells:
        """Cells of ``population`` and the persona design of its region.

        Args:
            population: the synthetic population.
            max_personas: the most personas a language model is asked per tick.
            reference: the population whose most common levels make the base persona (see
                :func:`simulator.model.reference_population`); ``population`` when ``None``.
        """
        bins = persona_bins(population)
        labels = {name: level_labels for name, (_, level_labels) in bins.items()}
        cells, assignment, counts = _cells([codes for codes, _ in bins.values()],
                                           [len(level_labels) for level_labels in labels.values()],
                                           len(population))
        order = np.lexsort((np.arange(len(cells)), -counts))
        rank = np.empty(len(cells), dtype=np.int64)
        rank[order] = np.arange(len(cells))
        cells, counts, assignment = cells[order], counts[order], rank[assignment]
        traits = {name: np.bincount(assignment, weights=values.astype(float),
                                    minlength=len(cells)) / counts
                  for name, values in cell_traits(population).items()}
        design = FactorialDesign.build(reference if reference is not None else population,
                                       max_personas)
        return cls(Cells(labels, cells, traits, counts), assignment.astype(np.int32), design)

    @functools.cached_property
    def weights(self) -> np.ndarray:
        """Design weights of the cells, shape (n_cells, n_personas)."""
        names = list(self.cells.labels)
        shown = [names.index(a) for a in self.design.attributes]
        return self.design.weights(self.cells.codes[:, shown])

    @functools.cached_property
    def persona_match(self) -> dict[str, float]:
        """Per attribute, the share of agents whose persona shows their own level."""
        cells = self.cells
        bins = {name: (cells.codes[:, k], labels)
                for k, (name, labels) in enumerate(cells.labels.items())}
        return self.design.persona_match(bins, sizes=cells.sizes)

    @functools.cached_property
    def personas(self) -> list[Respondent]:
        """The design's personas as respondents: size and mean traits of the agents each informs."""
        cells = self.cells
        informed = (self.weights != 0) * cells.sizes.astype(float)[:, None]
        names = list(cells.traits)
        traits = np.zeros((len(cells), len(names)))
        for k, name in enumerate(names):
            traits[:, k] = cells.traits[name]
        totals = informed.sum(axis=0)
        means = (informed.T @ traits) / np.maximum(totals, 1.0)[:, None]
        return [Respondent(p, dict(attributes), dict(zip(names, means[p].tolist(), strict=True)),
                          int(totals[p]))
                for p, attributes in enumerate(self.design.personas)]

    def answers(self, engine: Engine, signals: Signals, behaviours: Sequence[Behaviour],
                prompts: PromptBuilder | None) -> tuple[np.ndarray, list[Respondent], Decisions]:
        """Every cell's answers this tick.

        Returns:
            ``(cell_probabilities, asked, decisions)``: probabilities of shape
            (n_cells, n_behaviours), NaN where an answer failed; the respondents the engine was
            asked (design personas, or the cells themselves); and its decisions.
        """
        if not engine.factorised:
            decisions = engine.decide_cells(self.cells, signals, behaviours, prompts)
            return decisions.probabilities, self.cells, decisions
        asked = self.personas
        decisions = engine.decide([DecisionRequest(a, signals, tuple(behaviours), prompts)
                                   for a in asked])
        combination = getattr(engine, "combination", None)  # language engines have one
        return (self.design.combine(self.weights, decisions.probabilities, combination), asked,
                decisions)

    def match(self, factorised: bool) -> dict[str, float]:
        """Per attribute, the share of agents asked as themselves.

        Through the design (language models) that is :attr:`persona_match`; an engine that
        answers every cell (``rules``) answers each agent's own combination of attributes.
        """
        return dict(self.persona_match) if factorised else dict.fromkeys(self.persona_match, 1.0)

    def summary(self, factorised: bool) -> pd.DataFrame:
        """One row per persona asked (or per cell): agents, share and the attributes shown."""
        cells = self.cells
        total = int(cells.sizes.sum()) or 1
        if factorised:
            return pd.DataFrame([{"respondent": a.index, "agents": a.size, "share": a.size / total,
                                  **a.attributes} for a in self.personas])
        return pd.DataFrame({"respondent": np.arange(len(cells)), "agents": cells.sizes,
                             "share": cells.sizes / total,
                             **{name: np.asarray(labels)[cells.codes[:, k]]
                                for k, (name, labels) in enumerate(cells.labels.items())}})


def _cells(codes: Sequence[np.ndarray], levels: Sequence[int],
           n_agents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of the attribute codes in lexicographic order, as ``np.unique`` finds them.

    Each agent's codes make one mixed-radix number (the first attribute most significant, so
    numbers order as rows do), and the cells are found by counting the numbers, in time linear
    in the number of agents, instead of sorting rows of codes.

    Returns:
        ``(cells, assignment, counts)``: codes of shape (n_cells, n_attributes), each agent's
        cell of shape (n_agents,) and each cell's members.
    """
    key = (np.ravel_multi_index(tuple(codes), tuple(levels)) if len(levels)
           else np.zeros(n_agents, dtype=np.int64))
    if np.prod(levels, dtype=float) <= max(4 * n_agents, 1 << 20):
        counts = np.bincount(key)
        present = np.flatnonzero(counts)
        cell_of = np.zeros(len(counts), dtype=np.int64)
        cell_of[present] = np.arange(len(present))
        assignment, counts = cell_of[key], counts[present]
    else:
        present, assignment, counts = np.unique(key, return_inverse=True, return_counts=True)
    cells = np.stack(np.unravel_index(present, tuple(levels)), axis=1) if len(levels) else \
        np.zeros((len(present), 0), dtype=np.int64)
    return cells.astype(np.int64), assignment, counts
