"""Social network: household, workplace/school and community ties with homophily, sparse.

Ties are generated with vectorised numpy so that a million agents take seconds, and kept as a
row-normalised sparse matrix. The peer-influence term of the model's update reads a large
population's ties by their structure (:mod:`simulator.peer_structure`: households as blocks,
workplaces as rings and communities as windows of their own orders), which gives the matrix's
peer mean with far fewer reads scattered over memory; a smaller one reads the matrix, which is
faster while it stays near the caches (:data:`STRUCTURED_FROM`). The same ties are available
as a networkx graph (:meth:`SocialNetwork.to_networkx`) for analysis: degree distributions,
clustering, assortativity.

- Households: every pair of agents sharing a ``household_id`` is tied.
- Workplaces and schools: employed agents (and not-employed agents under 30, as students) are
  ordered by a homophily key and cut into groups of about ``workplace_size``; each member is tied
  to its two nearest colleagues on each side of a ring inside the group. Where the population
  does not record employment (countries), every adult under 65 is taken to work or study (an
  assumption).
- Community: each agent is tied to ``community_degree`` others near it in an order that sorts by
  (state, urbanicity, party, age band, education) with probability ``homophily`` and at random
  otherwise, so that ``homophily`` = 0 gives random mixing and 1 strong assortative mixing.

Homophily keys the population does not record are left out of the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numba
import numpy as np
import scipy.sparse as sp

from simulator.parallel import for_rows
from simulator.peer_structure import PeerStructure, community_neighbours, household_blocks
from simulator.population import Population
from simulator.scenario_sections import NetworkSpec

KINDS = ("household", "workplace", "community")
STRUCTURED_FROM = 600_000
"""Populations of at least this many agents read the peer mean by the network's structure.

Below it the matrix product is faster, since the matrix and the values stay close to the caches;
above it the product's scattered reads dominate. Per call on 2 threads of this project's 2-core
machine (AMD EPYC, 32 MiB L3; covid_us_2020's network, six behaviours), structure / matrix time:
1.9-2.0 at 100,000-300,000 agents, 1.31 at 500,000, 0.93 at 600,000, 0.65 at 1,000,000. Both
give the same mean up to float32 rounding (tests/test_peer_structure.py).
"""
_COMMUNITY_WINDOW = 25


@dataclass
class SocialNetwork:
    """Undirected ties between agents.

    Attributes:
        n_agents: number of agents.
        edges: dict kind -> (i, j) arrays of tie endpoints, each tie once (i < j).
        matrix: row-normalised adjacency, CSR of shape (n_agents, n_agents), float32.
        structure: where each kind of tie is local, for the peer mean
            (:mod:`simulator.peer_structure`); ``None``: the peer mean reads the matrix.
    """

    n_agents: int
    edges: dict[str, tuple[np.ndarray, np.ndarray]]
    matrix: sp.csr_matrix
    structure: PeerStructure | None = None

    @classmethod
    def build(cls, population: Population, spec: NetworkSpec, rng: np.random.Generator,
              structured: bool | None = None) -> SocialNetwork:
        """Generate the ties of a population.

        Args:
            population: the synthetic population.
            spec: tie parameters (workplace size, community degree, homophily).
            rng: the network's random stream.
            structured: read the peer mean by the network's structure where it has one;
                ``None``: from :data:`STRUCTURED_FROM` agents.
        """
        n = len(population)
        workplace, workplace_order = _workplace_ties(population, spec, rng)
        community, community_order, offsets, window = _community_ties(population, spec, rng)
        edges = {"household": _household_ties(population["household_id"]),
                 "workplace": workplace, "community": community}
        matrix, multiplicity = _row_normalised(n, edges)
        if structured is None:
            structured = n >= STRUCTURED_FROM
        blocks = household_blocks(population["household_id"]) if structured else None
        structure = None
        # Small rings can meet a tie from both ends: those are read through the matrix.
        if blocks is not None and (not len(community_order) or n > 2 * window):
            overlaps = np.flatnonzero(multiplicity > 1)
            rows = (np.searchsorted(matrix.indptr, overlaps, side="right") - 1).astype(np.int32)
            structure = PeerStructure(
                *blocks, workplace_order, spec.workplace_size, community_order,
                *community_neighbours(offsets, window), rows, matrix.indices[overlaps],
                (multiplicity[overlaps] - 1).astype(np.float32),
                np.diff(matrix.indptr).astype(np.float32))
        return cls(n, edges, matrix, structure)

    @property
    def degree(self) -> np.ndarray:
        """Number of distinct neighbours of each agent, shape (n_agents,)."""
        return np.diff(self.matrix.indptr)

    def peer_mean(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Mean of the neighbours' values; isolated agents keep their own.

        Read by the network's structure where it has one (:mod:`simulator.peer_structure`),
        else as the sparse product ``matrix @ values``; rows are computed on every core, each
        by one thread in a fixed order, so the result does not depend on the number of threads.

        Args:
            values: float32 array of shape (n_agents, k).
            out: float32 array of the same shape to write into (a new one when ``None``).
        """
        out = np.empty_like(values) if out is None else out
        if self.structure is not None:
            return self.structure.peer_mean(values, out)
        for_rows(_peer_mean, len(values), self.matrix.indptr, self.matrix.indices,
                 self.matrix.data, values, out)
        return out

    def to_networkx(self) -> nx.Graph:
        """The ties as a networkx graph; each edge has ``kind``, the first kind that tied them."""
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_agents))
        for kind, (i, j) in self.edges.items():
            graph.add_edges_from(
                (int(a), int(b), {"kind": kind}) for a, b in zip(i, j, strict=True)
                if not graph.has_edge(int(a), int(b))
            )
        return graph

    def summary(self) -> dict:
        """Mean degree overall and per kind of tie."""
        per_kind = {kind: 2 * len(i) / max(self.n_agents, 1) for kind, (i, _) in self.edges.items()}
        return {"agents": self.n_agents, "mean_degree": float(self.degree.mean()),
                "mean_degree_by_kind": per_kind, "ties": int(self.matrix.nnz // 2)}


@numba.njit(nogil=True, cache=True)
def _peer_mean(start, stop, indptr, indices, weights, values, out):
    """Rows ``start:stop`` of ``W @ values`` for the CSR matrix W; ``values`` on empty rows."""
    columns = values.shape[1]
    for i in range(start, stop):
        first, last = indptr[i], indptr[i + 1]
        for j in range(columns):
            out[i, j] = values[i, j] if first == last else 0.0
        for k in range(first, last):
            weight, peer = weights[k], indices[k]
            for j in range(columns):
                out[i, j] += weight * values[peer, j]


def _pairs(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ties as (low, high) index pairs without self-ties or duplicates."""
    low, high = np.minimum(i, j), np.maximum(i, j)
    keep = low != high
    key = np.sort(low[keep].astype(np.int64) << 32 | high[keep].astype(np.int64))
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return (key >> 32).astype(np.int32), (key & 0xFFFFFFFF).astype(np.int32)


def _household_ties(household_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(household_id, kind="stable")
    sorted_ids = household_id[order]
    sources, targets = [], []
    offset = 1
    while offset < len(order):
        same = sorted_ids[offset:] == sorted_ids[:-offset]
        if not same.any():
            break
        sources.append(order[:-offset][same])
        targets.append(order[offset:][same])
        offset += 1
    if not sources:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    # Each pair of members is found once, at the distance between their places in the order,
    # and never with itself: ordering each pair's ends is all that is left to do.
    i, j = np.concatenate(sources), np.concatenate(targets)
    return np.minimum(i, j).astype(np.int32), np.maximum(i, j).astype(np.int32)


def _homophily_order(keys: list[np.ndarray], homophily: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Agents ordered by attributes with probability ``homophily``, else at a random place.

    The attribute order is lexicographic in ``keys`` (the first most significant), ties broken
    at random; the keys are folded into one mixed-radix number, so one pass sorts them all.
    """
    n = len(keys[0])
    lows = [int(key.min(initial=0)) for key in keys]
    combined = np.ravel_multi_index([key - low for key, low in zip(keys, lows, strict=True)],
                                    [int(key.max(initial=0)) - low + 1
                                     for key, low in zip(keys, lows, strict=True)])
    rank = np.empty(n)
    rank[np.lexsort([rng.random(n), combined])] = np.arange(n) / max(n - 1, 1)
    placed = np.where(rng.random(n) < homophily, rank, rng.random(n))
    return np.argsort(placed, kind="stable")


def _workplace_ties(population: Population, spec: NetworkSpec, rng: np.random.Generator
                    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Workplace ties, and the members in ring order (consecutive groups of workplace_size)."""
    cats = Population.CATEGORIES
    if "employment" in population.columns:
        employed = population["employment"] == cats["employment"].index("employed")
    else:
        employed = population["age_band"] < cats["age_band"].index("65+")
    student = ~employed & (population["age_band"] == cats["age_band"].index("18-29"))
    members = np.flatnonzero(employed | student)
    none = np.empty(0, np.int32)
    if len(members) < 2 or spec.workplace_size < 2:
        return (none, none), none
    keys = [population[name][members].astype(np.int64)
            for name in _recorded(population, ("state", "urbanicity", "education"))]
    keys.insert(0, student[members].astype(np.int64))
    ordered = members[_homophily_order(keys, spec.homophily, rng)]
    group = np.arange(len(ordered)) // spec.workplace_size
    position = np.arange(len(ordered)) % spec.workplace_size
    size = np.bincount(group)[group]
    sources, targets = [], []
    for step in (1, 2):
        if spec.workplace_size <= step:
            continue
        partner_position = (position + step) % size
        partner = ordered[group * spec.workplace_size + partner_position]
        sources.append(ordered)
        targets.append(partner)
    return _pairs(np.concatenate(sources), np.concatenate(targets)), ordered.astype(np.int32)


def _community_ties(population: Population, spec: NetworkSpec, rng: np.random.Generator
                    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray, int]:
    """Community ties; the community order, the offsets drawn at each place (bits), the window."""
    n = len(population)
    if n < 2 or spec.community_degree < 1:
        none = np.empty(0, np.int32)
        return (none, none), none, np.empty(0, np.uint32), 0
    keys = [population[name].astype(np.int64) for name in
            _recorded(population, ("state", "urbanicity", "party", "age_band", "education"))]
    ordered = _homophily_order(keys, spec.homophily, rng)
    window = min(_COMMUNITY_WINDOW, n - 1)
    sources, targets = [], []
    drawn = np.zeros(n, dtype=np.uint32)
    for _ in range(max(spec.community_degree // 2, 1)):
        offset = rng.integers(1, window + 1, size=n)
        sources.append(ordered)
        targets.append(ordered[(np.arange(n) + offset) % n])
        drawn |= np.uint32(1) << offset.astype(np.uint32)
    pairs = _pairs(np.concatenate(sources), np.concatenate(targets))
    return pairs, ordered.astype(np.int32), drawn, window


def _recorded(population: Population, names: tuple[str, ...]) -> list[str]:
    """The homophily keys among ``names`` that the population records, in order."""
    return [name for name in names if name in population.columns]


def _row_normalised(n: int, edges: dict[str, tuple[np.ndarray, np.ndarray]]
                    ) -> tuple[sp.csr_matrix, np.ndarray]:
    """The row-normalised adjacency, and for each of its entries the kinds that make the tie."""
    i = np.concatenate([e[0] for e in edges.values()] + [e[1] for e in edges.values()])
    j = np.concatenate([e[1] for e in edges.values()] + [e[0] for e in edges.values()])
    adjacency = sp.csr_matrix((np.ones(len(i), np.float32), (i, j)), shape=(n, n))
    adjacency.sum_duplicates()
    multiplicity = adjacency.data.astype(np.int32)
    adjacency.data[:] = 1.0
    degree = np.diff(adjacency.indptr).astype(np.float32)
    adjacency.data /= np.repeat(np.maximum(degree, 1.0), np.diff(adjacency.indptr))
    return adjacency, multiplicity
