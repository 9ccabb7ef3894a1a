"""Archetypes, the cost lever: the engine is asked once per archetype, never once per agent.

Agents are grouped by the binned attributes the prompt shows. When the bins produce more groups
than the cap K, the groups are merged by weighted k-means over their attribute encodings and each
cluster is shown as its most common persona. The personas are defined on a reference population
of the place that does not depend on the run, so every seed and population size asks the same
questions. Agents keep their own habit, peers and noise around their archetype's answer (see
:class:`simulator.model.TwinModel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from simulator.behaviours import Behaviour
from simulator.cognition.engine import Archetype, DecisionRequest
from simulator.policy import Signals
from simulator.population import Population

LEVELS = ("low", "medium", "high")
WORK = ("essential worker", "employed", "not working")

PERSONA_ATTRIBUTES: tuple[str, ...] = (
    "age_band", "sex", "race", "education", "work", "income_band", "urbanicity", "party",
    "risk_tolerance", "trust_government", "perceived_vulnerability",
)
"""The attributes a persona shows, in prompt order; archetypes are the groups of their bins."""

_ORDINAL = {"age_band", "education", "income_band", "risk_tolerance", "trust_government",
            "perceived_vulnerability", "party"}


def persona_bins(population: Population) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    """Binned persona attributes of every agent: name -> (codes of shape (n_agents,), labels).

    Scores in [0, 1] are cut at fixed thirds (not population quantiles), so the same bin means
    the same thing in every region and every run.
    """
    bins: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for name in ("age_band", "sex", "race", "education", "income_band", "urbanicity", "party"):
        bins[name] = (population[name].astype(np.int16), Population.CATEGORIES[name])
    employment = Population.CATEGORIES["employment"]
    employed = population["employment"] == employment.index("employed")
    work = np.where(employed & population["essential_worker"], 0, np.where(employed, 1, 2))
    bins["work"] = (work.astype(np.int16), WORK)
    for name in ("risk_tolerance", "trust_government", "perceived_vulnerability"):
        codes = np.digitize(population[name], [1 / 3, 2 / 3]).astype(np.int16)
        bins[name] = (codes, LEVELS)
    return {name: bins[name] for name in PERSONA_ATTRIBUTES}


def archetype_traits(population: Population) -> dict[str, np.ndarray]:
    """Numeric traits per agent that the ``rules`` engine reads (scores and 0/1 indicators)."""
    cats = Population.CATEGORIES
    return {
        "risk_tolerance": population["risk_tolerance"],
        "trust_government": population["trust_government"],
        "trust_science": population["trust_science"],
        "perceived_vulnerability": population["perceived_vulnerability"],
        "conformity": population["conformity"],
        "age_65_plus": population["age_band"] == cats["age_band"].index("65+"),
        "female": population["sex"] == cats["sex"].index("female"),
        "employed": population["employment"] == cats["employment"].index("employed"),
        "essential_worker": population["essential_worker"].astype(bool),
        "urban": population["urbanicity"] == cats["urbanicity"].index("urban"),
        "rural": population["urbanicity"] == cats["urbanicity"].index("rural"),
        "republican": population["party"] == cats["party"].index("republican"),
        "democrat": population["party"] == cats["party"].index("democrat"),
    }


@dataclass
class ArchetypeSet:
    """The archetypes of a population and which archetype each agent belongs to.

    Attributes:
        archetypes: the archetypes, largest first.
        assignment: archetype index of every agent, shape (n_agents,).
        n_groups: number of distinct attribute combinations before capping.
    """

    archetypes: list[Archetype]
    assignment: np.ndarray
    n_groups: int

    def __len__(self) -> int:
        return len(self.archetypes)

    @classmethod
    def build(cls, population: Population, max_archetypes: int, seed: int,
              reference: Population | None = None) -> ArchetypeSet:
        """Group agents by persona bins, capped at ``max_archetypes`` by weighted k-means.

        The personas are defined on ``reference`` (the population itself when ``None``): its
        persona groups are clustered, each cluster is shown as its most common persona, and every
        agent of ``population`` joins the archetype whose centroid is nearest to its own persona
        group. A reference that does not depend on the run (see
        :func:`simulator.model.reference_population`) gives every seed and every population size
        the same personas, hence the same prompts and shared cached answers. Archetypes with no
        member in ``population`` are left out. Sizes and trait means come from ``population``.

        Args:
            population: the synthetic population whose agents are assigned.
            max_archetypes: the cap K.
            seed: seed of the k-means initialisation (same seed, same archetypes).
            reference: the population whose persona groups define the archetypes.
        """
        reference = population if reference is None else reference
        ref_combos, ref_counts, _, labels = _persona_groups(reference)
        combos, counts, group_of_agent, _ = _persona_groups(population)
        names = list(PERSONA_ATTRIBUTES)
        ref_features = _encode(ref_combos, labels, names)
        if len(ref_combos) <= max_archetypes:
            cluster_of_ref = np.arange(len(ref_combos))
            centres = ref_features
        else:
            kmeans = KMeans(n_clusters=max_archetypes, n_init=4, random_state=seed)
            # One thread: parallel reductions would make archetypes differ between machines,
            # and OpenMP threads oversubscribe the cores when sweeps run several models at once.
            with threadpool_limits(1):
                centres = kmeans.fit(ref_features, sample_weight=ref_counts).cluster_centers_
            cluster_of_ref = _nearest(ref_features, centres)
        n_clusters = len(centres)
        ref_sizes = np.bincount(cluster_of_ref, weights=ref_counts, minlength=n_clusters)
        order = np.lexsort((np.arange(n_clusters), -ref_sizes))
        cluster_of_group = _nearest(_encode(combos, labels, names), centres)
        sizes = np.bincount(cluster_of_group, weights=counts, minlength=n_clusters)
        order = order[sizes[order] > 0]
        rank = np.full(n_clusters, -1, dtype=np.int32)
        rank[order] = np.arange(len(order))
        assignment = rank[cluster_of_group][group_of_agent].astype(np.int32)

        traits = archetype_traits(population)
        trait_means = {
            name: np.bincount(assignment, weights=values.astype(float), minlength=len(order))
            / np.bincount(assignment, minlength=len(order))
            for name, values in traits.items()
        }
        archetypes = []
        for index, cluster in enumerate(order):
            members = cluster_of_ref == cluster
            attributes = {}
            for column, name in enumerate(names):
                votes = np.bincount(ref_combos[members, column], weights=ref_counts[members],
                                    minlength=len(labels[column]))
                attributes[name] = labels[column][int(np.argmax(votes))]
            archetypes.append(Archetype(
                index=index,
                attributes=attributes,
                traits={name: float(means[index]) for name, means in trait_means.items()},
                size=int(sizes[cluster]),
            ))
        return cls(archetypes, assignment, len(combos))

    def requests(self, signals: Signals, behaviours: Sequence[Behaviour]) -> list[DecisionRequest]:
        """One request per archetype for this tick's signals."""
        return [DecisionRequest(a, signals, tuple(behaviours)) for a in self.archetypes]

    def summary(self) -> pd.DataFrame:
        """One row per archetype: size, share of the population and the persona attributes."""
        total = sum(a.size for a in self.archetypes)
        rows = [
            {"archetype": a.index, "agents": a.size, "share": a.size / total, **a.attributes}
            for a in self.archetypes
        ]
        return pd.DataFrame(rows)


def _encode(combos: np.ndarray, labels: list[tuple[str, ...]], names: list[str]) -> np.ndarray:
    """Feature matrix for k-means: ordinal bins scaled to [0, 1], nominal bins one-hot."""
    parts = []
    for column, (name, options) in enumerate(zip(names, labels, strict=True)):
        values = combos[:, column]
        if name in _ORDINAL:
            parts.append((values / max(len(options) - 1, 1))[:, None])
        else:
            parts.append(np.eye(len(options))[values] / np.sqrt(2))
    return np.hstack(parts)


def _persona_groups(population: Population):
    """Distinct persona-bin combinations of a population.

    Returns:
        ``(combos, counts, group_of_agent, labels)``: combos of shape (n_groups, n_attributes)
        with the bin code of every attribute, agents per group, the group of every agent and the
        bin labels of every attribute (in :data:`PERSONA_ATTRIBUTES` order).
    """
    bins = persona_bins(population)
    widths = [max(len(labels) - 1, 1).bit_length() for _, labels in bins.values()]
    shifts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    packed = np.zeros(len(population), dtype=np.int64)
    for (codes, _), shift in zip(bins.values(), shifts, strict=True):
        packed |= codes.astype(np.int64) << int(shift)
    keys, group_of_agent, counts = np.unique(packed, return_inverse=True, return_counts=True)
    masks = (1 << np.asarray(widths, dtype=np.int64)) - 1
    combos = (keys[:, None] >> shifts[None, :]) & masks[None, :]
    return combos, counts, group_of_agent, [labels for _, labels in bins.values()]


def _nearest(features: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (squared Euclidean distance; ties to the lowest index)."""
    distances = np.stack([((features - centre) ** 2).sum(axis=1) for centre in centres], axis=1)
    return distances.argmin(axis=1)
