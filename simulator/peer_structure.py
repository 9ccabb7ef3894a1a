"""The peer mean read by the network's structure: each kind of tie where its members sit close.

An agent's peer mean is the mean of its neighbours' behaviour over the union of its household,
workplace and community ties. Read through the sparse matrix, every neighbour is a read at a
random place in memory, and at a million agents that gather is most of a tick. Each kind of tie
is local in an order of its own, though (:mod:`simulator.network` makes them so):

- a household is a block of consecutive agents (the population is ordered by household);
- a workplace is a ring of consecutive members of the workplace order, each member tied to the
  colleagues one and two places along it (in a group of four or fewer: to every other member);
- a community tie joins two places of the community order at most ``window`` apart: place ``q``
  to ``q + o`` for each offset ``o`` drawn at ``q`` (each place lists its neighbours as int8
  offsets, ahead and behind).

So the values are gathered once into the workplace and community orders (one random read per
agent and kind), summed there over neighbours that sit close together, and added back (one random
write per agent and kind); households are summed in place. A tie two kinds share is counted once
by each, so the extra counts (the multiplicities the sparse matrix sums) are taken off, and the sum
divided by the number of distinct neighbours is the same mean the matrix gives, up to float32
rounding in another order of summation. Each agent's sums are made by one thread in a fixed order,
so the result does not depend on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from simulator.parallel import for_rows


@dataclass
class PeerStructure:
    """Where each kind of tie is local (see the module docstring).

    Attributes:
        household_first, household_last: the first and one-past-last agent of each agent's
            household block, int32 of shape (n_agents,).
        workplace_order: the members of workplaces in ring order, int32 (empty: none).
        workplace_size: agents per workplace group (the last group may be smaller).
        community_order: agents in community order, int32 of shape (n_agents,) (empty: none).
        community_first, community_offsets: the neighbours of place ``q`` of the community
            order are the places ``q + community_offsets[community_first[q]:community_first[q +
            1]]`` (int8 offsets, modulo the number of places).
        overlap_rows, overlap_cols, overlap_extra: ties that more than one kind makes, as
            (agent, neighbour, kinds - 1), sorted by agent.
        degree: distinct neighbours of each agent, float32 of shape (n_agents,).
    """

    household_first: np.ndarray
    household_last: np.ndarray
    workplace_order: np.ndarray
    workplace_size: int
    community_order: np.ndarray
    community_first: np.ndarray
    community_offsets: np.ndarray
    overlap_rows: np.ndarray
    overlap_cols: np.ndarray
    overlap_extra: np.ndarray
    degree: np.ndarray
    _spare: dict = field(default_factory=dict, repr=False)

    def peer_mean(self, values: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Mean of the neighbours' values into ``out``; isolated agents keep their own.

        Args:
            values: float32 array of shape (n_agents, k).
            out: float32 array of the same shape.
        """
        # Work arrays are kept between ticks; a call takes them out of the spare set, so that
        # two threads stepping with one network never share them (the second makes its own).
        work = self._spare.pop(values.shape[1], None) or {}

        def buffer(name: str, shape: tuple[int, ...]) -> np.ndarray:
            if name not in work or work[name].shape != shape:
                work[name] = np.empty(shape, dtype=np.float32)
            return work[name]

        sums = buffer("sums", values.shape)
        if len(self.community_order):
            gathered = buffer("community", values.shape)
            result = buffer("community_sums", values.shape)
            order = self.community_order
            for_rows(_gather, len(order), order, values, gathered)
            for_rows(_community_sums, len(order), self.community_first,
                     self.community_offsets, gathered, result)
            for_rows(_scatter, len(order), order, result, sums, False)
        else:
            sums[:] = 0.0
        if len(self.workplace_order):
            order = self.workplace_order
            gathered = buffer("workplace", (len(order), values.shape[1]))
            result = buffer("workplace_sums", gathered.shape)
            for_rows(_gather, len(order), order, values, gathered)
            for_rows(_workplace_sums, len(order), self.workplace_size, gathered, result)
            for_rows(_scatter, len(order), order, result, sums, True)
        _take_off_overlaps(self.overlap_rows, self.overlap_cols, self.overlap_extra, values, sums)
        for_rows(_household_mean, len(values), self.household_first, self.household_last,
                 self.degree, values, sums, out)
        self._spare[values.shape[1]] = work
        return out


def household_blocks(household_id: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each agent's household block ``[first, last)``; ``None`` unless the ids are sorted.

    Sorted ids make every household one block (the synthesised population is ordered so).
    """
    n = len(household_id)
    if n == 0:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    if (household_id[1:] < household_id[:-1]).any():
        return None
    starts = np.flatnonzero(np.r_[True, household_id[1:] != household_id[:-1]])
    block = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    ends = np.r_[starts[1:], n]
    return starts[block].astype(np.int32), ends[block].astype(np.int32)


@numba.njit(nogil=True, cache=True)
def _gather(start, stop, order, values, gathered):
    """Rows ``start:stop`` of ``values[order]``."""
    for q in range(start, stop):
        agent = order[q]
        for j in range(values.shape[1]):
            gathered[q, j] = values[agent, j]


@numba.njit(nogil=True, cache=True)
def _community_sums(start, stop, first, offsets, gathered, result):
    """Sums over the community neighbours of the places ``start:stop``, in community order.

    The neighbours of place ``q`` are the places ``q + offsets[first[q]:first[q + 1]]`` (modulo
    the number of places).
    """
    n = len(gathered)
    for q in range(start, stop):
        for j in range(gathered.shape[1]):
            total = np.float32(0.0)
            for k in range(first[q], first[q + 1]):
                r = q + offsets[k]
                if r >= n:
                    r -= n
                elif r < 0:
                    r += n
                total += gathered[r, j]
            result[q, j] = total


@numba.njit(cache=True)
def _neighbour_offsets(outgoing, incoming, window):
    """Each place's neighbours as offsets (ahead ``+o``, behind ``-o``), listed by place."""
    n = len(outgoing)
    first = np.zeros(n + 1, dtype=np.int64)
    for q in range(n):
        count = 0
        for o in range(1, window + 1):
            count += ((outgoing[q] >> o) & 1) + ((incoming[q] >> o) & 1)
        first[q + 1] = first[q] + count
    offsets = np.empty(first[n], dtype=np.int8)
    for q in range(n):
        k = first[q]
        for o in range(1, window + 1):
            if (outgoing[q] >> o) & 1:
                offsets[k] = o
                k += 1
            if (incoming[q] >> o) & 1:
                offsets[k] = -o
                k += 1
    return first, offsets


@numba.njit(nogil=True, cache=True)
def _workplace_sums(start, stop, size, gathered, result):
    """Sums over the workplace neighbours of the places ``start:stop``, in workplace order."""
    members = len(gathered)
    columns = gathered.shape[1]
    for q in range(start, stop):
        for j in range(columns):
            result[q, j] = 0.0
        first = (q // size) * size
        group = min(size, members - first)
        if group <= 4:  # one and two places along reach every other member
            for r in range(first, first + group):
                if r != q:
                    for j in range(columns):
                        result[q, j] += gathered[r, j]
        else:
            last = first + group
            for step in (1, -1, 2, -2):
                r = q + step
                if r >= last:
                    r -= group
                elif r < first:
                    r += group
                for j in range(columns):
                    result[q, j] += gathered[r, j]


@numba.njit(nogil=True, cache=True)
def _scatter(start, stop, order, result, sums, add):
    """``sums[order] = result`` (or ``+=``) for the places ``start:stop``."""
    for q in range(start, stop):
        agent = order[q]
        for j in range(result.shape[1]):
            sums[agent, j] = sums[agent, j] + result[q, j] if add else result[q, j]


@numba.njit(nogil=True, cache=True)
def _take_off_overlaps(rows, cols, extra, values, sums):
    """Take off the extra counts of ties that more than one kind makes."""
    for k in range(len(rows)):
        for j in range(values.shape[1]):
            sums[rows[k], j] -= extra[k] * values[cols[k], j]


@numba.njit(nogil=True, cache=True)
def _household_mean(start, stop, first, last, degree, values, sums, out):
    """Add the household members and divide by the distinct neighbours (or keep one's own)."""
    for i in range(start, stop):
        for r in range(first[i], last[i]):
            if r != i:
                for j in range(values.shape[1]):
                    sums[i, j] += values[r, j]
        if degree[i] > 0:
            for j in range(values.shape[1]):
                out[i, j] = sums[i, j] / degree[i]
        else:
            for j in range(values.shape[1]):
                out[i, j] = values[i, j]


def community_neighbours(outgoing: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour lists of the community order from the offsets drawn at each place.

    Args:
        outgoing: per place, bit ``o`` set when it is tied to the place ``o`` further on.
        window: the largest offset (at most 31: the offsets are bits of a uint32; and less than
            half the places, so that no two offsets of one place reach the same neighbour).

    Returns:
        ``(first, offsets)`` as :attr:`PeerStructure.community_first` and ``community_offsets``.
    """
    if window > 31:
        raise ValueError(f"community window {window} exceeds 31 (offsets are bits of a uint32)")
    incoming = np.zeros_like(outgoing)
    for o in range(1, window + 1):
        incoming |= np.roll(outgoing, o) & np.uint32(1 << o)
    return _neighbour_offsets(outgoing, incoming, window)
