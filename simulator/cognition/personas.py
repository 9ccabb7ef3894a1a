"""Personas: what a prompt shows of an agent, and the factorial design that keeps every agent's own.

A persona is shown through binned attributes (:data:`PERSONA_ATTRIBUTES`, in priority order; the
six key attributes first). Asking one prompt per combination of them would cost thousands of
calls a tick; showing each group of agents as the most common persona of a mixed cluster (a mode)
asks every minority and every young agent through somebody else. The :class:`FactorialDesign`
does neither: a *base* persona (the most common level of each attribute in the region's
reference population) and one *variant* per other level of each factor, identical to the base
but for that one attribute. An agent's answer to a behaviour combines, in logit space, the base
answer and the contrast of each variant that shows one of the agent's own levels:

    logit p(agent) = logit p(base) + sum_k [logit p(variant_k, agent's level) - logit p(base)]

so each attribute's effect is read from a prompt that shows the agent's own level (the approach
of conjoint and vignette experiments: additive effects, estimated from minimal pairs; the
situation is in every prompt, so each effect can differ between situations). Its cost is
``1 + sum(levels - 1)`` personas a tick whatever the population size. Attributes a region does
not record (no column in its population) are neither shown nor factors.

How the answers are combined can be weighted (a :class:`Combination`, from the language
engines' options ``contrast_weights`` and ``logit_scale``; ``socialtwin fit`` estimates them):

    logit p(agent) = s * (logit p(base) + sum_k w_a(k) [logit p(variant_k) - logit p(base)])

with ``w_a`` the weight of the contrasts of attribute ``a`` and ``s`` the logit scale (one over
a temperature). Every weight 1 and ``s = 1`` is the combination above, to the bit. The model
and its answers are never changed: only what they are combined with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulator.population import Population

KEY_ATTRIBUTES: tuple[str, ...] = ("age_band", "sex", "race", "party", "urbanicity", "work")
"""Attributes every agent must see as its own (where the region records them)."""

PERSONA_ATTRIBUTES: tuple[str, ...] = (*KEY_ATTRIBUTES, "perceived_vulnerability",
                                       "risk_tolerance", "trust_government", "education",
                                       "income_band")
"""Attributes a persona can show, in the order factors are added to a design."""

LEVELS = ("low", "medium", "high")
WORK = ("essential worker", "employed", "not working")
_SCORES = ("perceived_vulnerability", "risk_tolerance", "trust_government")


@dataclass(frozen=True)
class Combination:
    """How a design's persona answers combine into a cell's (the module docstring's formula).

    Attributes:
        contrast_weights: attribute -> weight ``w_a`` of its contrasts; an attribute left out
            has weight 1.
        logit_scale: ``s``, the factor on the combined logit: one over a temperature (above 1
            pushes the answers away from 1/2, below 1 towards it).
    """

    contrast_weights: Mapping[str, float] = field(default_factory=dict)
    logit_scale: float = 1.0

    @property
    def neutral(self) -> bool:
        """Whether this is the design's own combination (every weight 1, scale 1)."""
        return self.logit_scale == 1.0 and all(w == 1.0 for w in self.contrast_weights.values())

    def weight(self, attribute: str) -> float:
        """The weight of an attribute's contrasts."""
        return float(self.contrast_weights.get(attribute, 1.0))


def persona_bins(population: Population) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    """Binned persona attributes of every agent: name -> (codes of shape (n_agents,), labels).

    Only attributes the population records appear. Scores in [0, 1] are cut at fixed thirds
    (not population quantiles), so a bin means the same thing in every region and run.
    """
    columns = set(population.columns)
    bins: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for name in PERSONA_ATTRIBUTES:
        if name in _SCORES and name in columns:
            codes = np.digitize(population[name], [1 / 3, 2 / 3])
            bins[name] = (codes.astype(np.int16), LEVELS)
        elif name == "work" and {"employment", "essential_worker"} <= columns:
            employed = population["employment"] == Population.CATEGORIES["employment"].index(
                "employed")
            work = np.where(employed & population["essential_worker"], 0, np.where(employed, 1, 2))
            bins[name] = (work.astype(np.int16), WORK)
        elif name in columns and name in Population.CATEGORIES:
            bins[name] = (population[name].astype(np.int16), Population.CATEGORIES[name])
    return bins


@dataclass(frozen=True)
class FactorialDesign:
    """A base persona and one-attribute variants, combined in logit space.

    Attributes:
        attributes: the attributes shown, in :data:`PERSONA_ATTRIBUTES` order.
        labels: the labels of each shown attribute.
        base: the base persona's level (code) of each shown attribute.
        factors: the shown attributes that vary (the others are shown at the base level).
        personas: the personas asked, base first: attribute -> label.
        variant: (attribute, code) -> index in ``personas`` of the variant showing that level.
    """

    attributes: tuple[str, ...]
    labels: Mapping[str, tuple[str, ...]]
    base: Mapping[str, int]
    factors: tuple[str, ...]
    personas: tuple[Mapping[str, str], ...]
    variant: Mapping[tuple[str, int], int]

    @classmethod
    def build(cls, reference: Population, max_personas: int) -> FactorialDesign:
        """The design for a region: base levels from its reference population.

        Factors are added in :data:`PERSONA_ATTRIBUTES` order while the personas fit in
        ``max_personas``; an attribute that does not fit is not shown at all.

        Args:
            reference: the region's reference population (fixed size and seed, so every run of
                the region asks the same personas).
            max_personas: the most personas asked per tick.
        """
        bins = persona_bins(reference)
        base = {name: int(np.bincount(codes, minlength=len(labels)).argmax())
                for name, (codes, labels) in bins.items()}
        factors, count = [], 1
        for name, (_, labels) in bins.items():
            if count + len(labels) - 1 <= max_personas:
                factors.append(name)
                count += len(labels) - 1
        shown = tuple(factors)
        labels = {name: bins[name][1] for name in shown}
        base_persona = {name: labels[name][base[name]] for name in shown}
        personas, variant = [base_persona], {}
        for name in shown:
            for code, label in enumerate(labels[name]):
                if code != base[name]:
                    variant[(name, code)] = len(personas)
                    personas.append({**base_persona, name: label})
        return cls(shown, labels, {n: base[n] for n in shown}, shown, tuple(personas), variant)

    def weights(self, cells: np.ndarray) -> np.ndarray:
        """Design weights of cells over personas, shape (n_cells, n_personas).

        Args:
            cells: attribute codes of shape (n_cells, len(attributes)).

        A row gives each variant showing one of the cell's levels weight 1 and the base
        ``1 - (number of such variants)``: the logit of a cell is ``weights @ persona logits``.
        """
        weights = np.zeros((len(cells), len(self.personas)))
        weights[:, 0] = 1.0
        for column, name in enumerate(self.attributes):
            for code in range(len(self.labels[name])):
                index = self.variant.get((name, code))
                if index is not None:
                    rows = cells[:, column] == code
                    weights[rows, index] += 1.0
                    weights[rows, 0] -= 1.0
        return weights

    def weighted(self, weights: np.ndarray, combination: Combination) -> np.ndarray:
        """Design weights with the contrast weights of a combination (its scale left out).

        Each variant's column is multiplied by the weight of its attribute's contrasts, and the
        base's column is ``1 - (the row's other weights)``, so that
        ``weighted @ persona logits`` is the bracket of the module docstring's formula.
        """
        factor = np.ones(len(self.personas))
        for (name, _), index in self.variant.items():
            factor[index] = combination.weight(name)
        weighted = weights * factor
        weighted[:, 0] = 1.0 - weighted[:, 1:].sum(axis=1)
        return weighted

    def combine(self, weights: np.ndarray, probabilities: np.ndarray,
                combination: Combination | None = None) -> np.ndarray:
        """Cell probabilities from persona probabilities, shape (n_cells, n_behaviours).

        Args:
            weights: the cells' design weights (:meth:`weights`).
            probabilities: the personas' answers, shape (n_personas, n_behaviours).
            combination: contrast weights and logit scale (``None`` or neutral: the design's
                own combination, computed as it always was).

        A cell whose contributing personas (a weight other than 0) include a failed (NaN)
        answer is NaN.
        """
        p = np.clip(probabilities, 1e-6, 1 - 1e-6)
        logits = np.log(p / (1 - p))
        weighted = combination is not None and not combination.neutral
        if weighted:
            weights = self.weighted(weights, combination)
        used = weights != 0
        failed = np.isnan(probabilities)
        cell_failed = (used.astype(float) @ failed.astype(float)) > 0
        combined = weights @ np.where(failed, 0.0, logits)
        if weighted:
            combined = combination.logit_scale * combined
        return np.where(cell_failed, np.nan, 1.0 / (1.0 + np.exp(-combined)))

    def persona_match(self, bins: Mapping[str, tuple[np.ndarray, Sequence[str]]],
                      sizes: np.ndarray | None = None) -> dict[str, float]:
        """Share of agents, per attribute, whose persona for that attribute shows their level.

        An attribute's effect on an agent is read from the variant of the agent's level, or
        from the base persona when the agent has the base level (the carrier persona); the
        share counts agents whose carrier shows their own label. An attribute recorded for the
        agents but not shown matches no one.

        Args:
            bins: attribute -> (codes, labels), one code per agent, or per cell with ``sizes``.
            sizes: agents in each cell (``None``: the codes are one per agent).
        """
        match = {}
        for name, (codes, labels) in bins.items():
            if name not in self.attributes:
                match[name] = 0.0
                continue
            carrier = np.array([self.variant.get((name, code), 0) for code in range(len(labels))])
            shown = np.array([self.personas[carrier[code]][name] == labels[code]
                              for code in range(len(labels))])
            if not len(codes):
                match[name] = 1.0
            elif sizes is None:
                match[name] = float(shown[codes].mean())
            else:  # exact integer counts: the same share as over the agents
                match[name] = float(sizes[shown[codes]].sum() / sizes.sum())
        return match
