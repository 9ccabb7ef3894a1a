"""Subgroup means: agents' behaviour per population subgroup, cells' answers per key subgroup.

Each table is computed in one pass a tick: agents are summed into the cells of a combined code
(every recorded subgroup attribute at once, at most a few hundred codes) and every group's means
are read from that small table; cells' answers are summed per key subgroup by one sparse
product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numba
import numpy as np
import scipy.sparse as sp

from simulator.parallel import for_rows
from simulator.population import Population

SUBGROUPS: tuple[str, ...] = ("age_band", "party", "urbanicity", "sex", "education")
"""Population attributes whose subgroup means the data collector records every tick (those the
population records)."""

_CHUNK = 1 << 16
"""Agents per partial sum: fixed, so that the sums do not depend on the number of threads."""

Row = tuple[str, str, np.ndarray, int]
"""(group, subgroup, mean of each column, agents)."""


class SubgroupMeans:
    """Means of per-agent columns over the population and over each subgroup of :data:`SUBGROUPS`.

    Args:
        population: the agents; only the subgroups it records are reported.
    """

    def __init__(self, population: Population) -> None:
        self.groups = tuple(name for name in SUBGROUPS if name in population.columns)
        self.labels = [Population.CATEGORIES[name] for name in self.groups]
        self.shape = tuple(len(labels) for labels in self.labels)
        self.code = (np.ravel_multi_index([population[name] for name in self.groups],
                                          self.shape).astype(np.int32) if self.groups
                     else np.zeros(len(population), dtype=np.int32))
        self.counts = np.bincount(self.code, minlength=int(np.prod(self.shape))).reshape(self.shape)

    def rows(self, values: np.ndarray) -> list[Row]:
        """The population's and every non-empty subgroup's mean of each column of ``values``.

        Args:
            values: float32 array of shape (n_agents, k).

        Returns:
            ``("all", "all", means, n_agents)`` first, then the subgroups group by group in
            :data:`SUBGROUPS` order and level by level; means are float64 of shape (k,).
        """
        sums = _code_sums(values, self.code, self.counts.size).reshape(*self.shape, -1)
        every = tuple(range(len(self.shape)))
        rows = [("all", "all", sums.sum(axis=every) / self.counts.sum(), int(self.counts.sum()))]
        for axis, (group, labels) in enumerate(zip(self.groups, self.labels, strict=True)):
            others = every[:axis] + every[axis + 1:]
            group_sums, counts = sums.sum(axis=others), self.counts.sum(axis=others)
            rows += [(group, label, group_sums[k] / counts[k], int(counts[k]))
                     for k, label in enumerate(labels) if counts[k]]
        return rows


def _code_sums(values: np.ndarray, code: np.ndarray, n_codes: int) -> np.ndarray:
    """Column sums of ``values`` per code, float64 of shape (n_codes, k).

    Chunks of a fixed number of agents are summed on every core and then added up in chunk
    order, so the result is the same whatever the number of threads.
    """
    chunks = -(-len(values) // _CHUNK)
    partial = np.zeros((chunks, n_codes, values.shape[1]))
    for_rows(_chunk_sums, chunks, values, code, partial, grain=1)
    return partial.sum(axis=0)


@numba.njit(nogil=True, cache=True)
def _chunk_sums(start, stop, values, code, partial):
    """Sums of chunks ``start:stop`` of the agents into ``partial[chunk, code]``."""
    for c in range(start, stop):
        for i in range(c * _CHUNK, min(len(values), (c + 1) * _CHUNK)):
            for j in range(values.shape[1]):
                partial[c, code[i], j] += values[i, j]


class CellSubgroups:
    """Agent-weighted means of cell answers over the population and each key persona subgroup.

    Args:
        labels: key attribute -> its labels.
        codes: key attribute -> its code in every cell, shape (n_cells,).
        sizes: agents in every cell, shape (n_cells,).
    """

    def __init__(self, labels: Mapping[str, Sequence[str]], codes: Mapping[str, np.ndarray],
                 sizes: np.ndarray) -> None:
        n_cells = len(sizes)
        keys, rows, columns = [("all", "all")], [np.zeros(n_cells, dtype=np.int64)], \
            [np.arange(n_cells)]
        for name, level_labels in labels.items():
            for k, label in enumerate(level_labels):
                members = np.flatnonzero(codes[name] == k)
                rows.append(np.full(len(members), len(keys)))
                columns.append(members)
                keys.append((name, label))
        weights = sizes.astype(float)
        cell_sizes = np.concatenate([weights[c] for c in columns])
        indicator = sp.csr_matrix((cell_sizes, (np.concatenate(rows), np.concatenate(columns))),
                                  shape=(len(keys), n_cells))
        present = np.asarray(indicator.sum(axis=1)).ravel() > 0
        self.keys = [key for key, kept in zip(keys, present, strict=True) if kept]
        self.weighted = indicator[present]

    def means(self, answers: np.ndarray) -> np.ndarray:
        """Mean answer of each subgroup (rows of :attr:`keys`), shape (n_subgroups, k).

        Failed (NaN) answers are left out of a mean; NaN where every answer in it failed.
        """
        ok = ~np.isnan(answers)
        totals = self.weighted @ np.where(ok, answers, 0.0)
        weights = self.weighted @ ok.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weights > 0, totals / weights, np.nan)
