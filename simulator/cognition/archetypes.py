"""Archetypes: the real subgroups of a population, and how each gets its answer every tick.

An archetype is a cell: the agents that share every binned persona attribute
(:func:`~simulator.cognition.personas.persona_bins`), with the mean traits of its members. No
cell is ever shown as somebody else: the ``rules`` engine answers every cell from its own traits,
and language-model engines answer the personas of a
:class:`~simulator.cognition.personas.FactorialDesign`, whose answers combine into each cell's
from prompts that show the cell's own levels. The number of language-model calls a tick depends
on the design (``1 + sum(levels - 1)`` personas), never on the number of agents or cells.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.behaviours import Behaviour
from simulator.cognition.engine import Archetype, DecisionRequest, Decisions, Engine
from simulator.cognition.personas import FactorialDesign, persona_bins
from simulator.cognition.prompts import PromptBuilder
from simulator.policy import Signals
from simulator.population import Population


def archetype_traits(population: Population) -> dict[str, np.ndarray]:
    """Numeric traits per agent that the ``rules`` engine reads (scores and 0/1 indicators).

    Traits of attributes the population does not record are left out (the rules engine then
    uses its neutral value).
    """
    cats = Population.CATEGORIES
    columns = set(population.columns)
    traits = {name: population[name] for name in ("risk_tolerance", "trust_government",
                                                  "trust_science", "perceived_vulnerability",
                                                  "conformity") if name in columns}
    indicators = {
        "age_65_plus": ("age_band", "65+"), "female": ("sex", "female"),
        "employed": ("employment", "employed"), "urban": ("urbanicity", "urban"),
        "rural": ("urbanicity", "rural"), "republican": ("party", "republican"),
        "democrat": ("party", "democrat"),
    }
    for trait, (column, label) in indicators.items():
        if column in columns:
            traits[trait] = population[column] == cats[column].index(label)
    if "essential_worker" in columns:
        traits["essential_worker"] = population["essential_worker"].astype(bool)
    return traits


@dataclass
class ArchetypeSet:
    """The cells of a population and the persona design that answers them.

    Attributes:
        archetypes: one per cell, largest first (attributes are the cell's labels).
        assignment: cell index of every agent, shape (n_agents,).
        design: the personas language-model engines are asked through.
        weights: design weights of the cells, shape (n_cells, n_personas).
        persona_match: share of agents whose persona shows their own level, per attribute,
            when asked through the design (language-model engines).
    """

    archetypes: list[Archetype]
    assignment: np.ndarray
    design: FactorialDesign
    weights: np.ndarray
    persona_match: dict[str, float]

    def __len__(self) -> int:
        return len(self.archetypes)

    @classmethod
    def build(cls, population: Population, max_personas: int,
              reference: Population | None = None) -> ArchetypeSet:
        """Cells of ``population`` and the persona design of its region.

        Args:
            population: the synthetic population.
            max_personas: the most personas a language model is asked per tick.
            reference: the population whose most common levels make the base persona (see
                :func:`simulator.model.reference_population`); ``population`` when ``None``.
        """
        bins = persona_bins(population)
        names = list(bins)
        codes = np.stack([bins[n][0] for n in names], axis=1) if names else np.zeros(
            (len(population), 0), dtype=np.int16)
        cells, assignment, counts = np.unique(codes, axis=0, return_inverse=True,
                                              return_counts=True)
        assignment = assignment.reshape(-1)
        order = np.lexsort((np.arange(len(cells)), -counts))
        rank = np.empty(len(cells), dtype=np.int64)
        rank[order] = np.arange(len(cells))
        cells, counts, assignment = cells[order], counts[order], rank[assignment]
        sums = {name: np.bincount(assignment, weights=values.astype(float),
                                  minlength=len(cells))
                for name, values in archetype_traits(population).items()}
        archetypes = [
            Archetype(index=c,
                      attributes={n: bins[n][1][cells[c, k]] for k, n in enumerate(names)},
                      traits={name: float(total[c] / counts[c]) for name, total in sums.items()},
                      size=int(counts[c]))
            for c in range(len(cells))
        ]
        design = FactorialDesign.build(reference if reference is not None else population,
                                       max_personas)
        shown = [names.index(a) for a in design.attributes]
        weights = design.weights(cells[:, shown])
        return cls(archetypes, assignment.astype(np.int32), design, weights,
                   design.persona_match(bins))

    @functools.cached_property
    def personas(self) -> list[Archetype]:
        """The design's personas as archetypes: size and mean traits of the agents each informs."""
        sizes = np.array([a.size for a in self.archetypes], dtype=float)
        informed = (self.weights != 0) * sizes[:, None]
        names = list(self.archetypes[0].traits) if self.archetypes else []
        traits = np.array([[a.traits[n] for n in names] for a in self.archetypes]).reshape(
            len(self.archetypes), len(names))
        totals = informed.sum(axis=0)
        means = (informed.T @ traits) / np.maximum(totals, 1.0)[:, None]
        return [Archetype(p, dict(attributes), dict(zip(names, means[p].tolist(), strict=True)),
                          int(totals[p]))
                for p, attributes in enumerate(self.design.personas)]

    def answers(self, engine: Engine, signals: Signals, behaviours: Sequence[Behaviour],
                prompts: PromptBuilder | None) -> tuple[np.ndarray, list[Archetype], Decisions]:
        """Every cell's answers this tick.

        Returns:
            ``(cell_probabilities, asked, decisions)``: probabilities of shape
            (n_cells, n_behaviours), NaN where an answer failed; the archetypes the engine was
            asked (design personas, or the cells themselves); and its decisions.
        """
        asked = self.personas if engine.factorised else self.archetypes
        requests = [DecisionRequest(a, signals, tuple(behaviours), prompts) for a in asked]
        decisions = engine.decide(requests)
        if engine.factorised:
            return self.design.combine(self.weights, decisions.probabilities), asked, decisions
        return decisions.probabilities, asked, decisions

    def match(self, factorised: bool) -> dict[str, float]:
        """Per attribute, the share of agents asked as themselves.

        Through the design (language models) that is :attr:`persona_match`; an engine that
        answers every cell (``rules``) answers each agent's own combination of attributes.
        """
        return dict(self.persona_match) if factorised else dict.fromkeys(self.persona_match, 1.0)

    def summary(self, factorised: bool) -> pd.DataFrame:
        """One row per persona asked (or per cell): agents, share and the attributes shown."""
        rows = self.personas if factorised else self.archetypes
        total = sum(a.size for a in self.archetypes) or 1
        return pd.DataFrame([{"archetype": a.index, "agents": a.size, "share": a.size / total,
                              **a.attributes} for a in rows])
