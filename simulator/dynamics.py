"""Individual dynamics: each agent's own answer, and its update by habit, peers and noise.

:class:`Dynamics` holds what is each agent's own (its cell, habit, peer weight and fixed logit
offset) and the noise of every tick; its update is the one of
:meth:`simulator.model.TwinModel.step`, as compiled loops over agents on every core
(:mod:`simulator.parallel`). Every agent's values depend only on its own inputs, so the result
does not depend on the number of threads; the arithmetic is float32, in the order
:meth:`Dynamics.update` writes it.
"""

from __future__ import annotations

import copy
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numba
import numpy as np

from simulator.parallel import for_rows, in_background
from simulator.random_streams import random_stream

if TYPE_CHECKING:
    from simulator.population import Population
    from simulator.scenario_sections import DynamicsSpec


def cell_logits(answers: np.ndarray) -> np.ndarray:
    """Logits of the cells' answers, float32 of shape like ``answers``; NaN where one failed.

    Answers are kept 1e-4 away from 0 and 1, so that an agent's offset can still move it.
    """
    p = np.clip(answers, 1e-4, 1 - 1e-4).astype(np.float32)
    return np.log(p / (1 - p))


class Dynamics:
    """Each agent's habit, peer weight and fixed logit offset, and the noise of every tick.

    Built once per twin (:meth:`build`). The noise of a tick is one bulk draw of every agent's
    standard normal draws from the run's ``noise`` stream; each is drawn on another core as soon
    as the previous update is done (at build for the first tick), so that it is ready when the
    engine has answered.

    Args:
        cell: each agent's cell, shape (n_agents,).
        habit: weight of each agent's current behaviour, float32 of shape (n_agents,).
        peer_weight: weight of each agent's peers against its own answer, float32 of shape
            (n_agents,).
        offset: each agent's fixed logit offset, float32 of shape (n_agents, k).
        noise_sd: standard deviation of the noise.
        noise: the noise stream.
    """

    def __init__(self, cell: np.ndarray, habit: np.ndarray, peer_weight: np.ndarray,
                 offset: np.ndarray, noise_sd: float, noise: np.random.Generator) -> None:
        self.cell, self.habit, self.peer_weight, self.offset = cell, habit, peer_weight, offset
        self.noise_sd = noise_sd
        self._noise = noise
        self._draws = np.empty(offset.shape, dtype=np.float32)
        self._pending = self._draw()

    @classmethod
    def build(cls, spec: DynamicsSpec, population: Population, cell: np.ndarray,
              behaviours: int, seed: int) -> Dynamics:
        """The dynamics of a population, from a scenario's ``dynamics`` section.

        Habit is ``spec.habit + 0.1 * conscientiousness`` (clipped to [0, 0.95]), peer weight
        ``spec.peer_weight * (0.5 + conformity)`` (clipped to [0, 0.9]), each offset a
        N(0, ``spec.heterogeneity``) draw from the run's ``heterogeneity`` stream.

        Args:
            spec: the scenario's ``dynamics`` section.
            population: the agents.
            cell: each agent's cell, shape (n_agents,).
            behaviours: number of behaviours k.
            seed: the run seed (of the ``heterogeneity`` and ``noise`` streams).
        """
        habit = np.clip(spec.habit + 0.1 * population["conscientiousness"], 0.0, 0.95)
        peer_weight = np.clip(spec.peer_weight * (0.5 + population["conformity"]), 0.0, 0.9)
        draws = random_stream(seed, "heterogeneity").standard_normal((len(population),
                                                                      behaviours))
        return cls(cell, habit.astype(np.float32), peer_weight.astype(np.float32),
                   (spec.heterogeneity * draws).astype(np.float32), spec.noise,
                   random_stream(seed, "noise"))

    def personalise(self, logits: np.ndarray) -> np.ndarray:
        """Each agent's own answer: ``sigmoid(logits[cell] + offset)``, float32 (n_agents, k).

        Args:
            logits: cell logits of shape (n_cells, k) (no NaN).
        """
        out = np.empty(self.offset.shape, dtype=np.float32)
        for_rows(_personalise, len(out), logits, self.cell, self.offset, out)
        return out

    def update(self, state: np.ndarray, logits: np.ndarray, peers: np.ndarray) -> np.ndarray:
        """This tick's behaviour of every agent, a new float32 array of shape like ``state``.

        ``target = sigmoid(logits[cell] + offset)``, or the agent's current behaviour where its
        cell's answer failed (NaN logit); then ``habit * state + (1 - habit) * ((1 - w) * target
        + w * peers) + noise_sd * noise`` with peer weight ``w`` and this tick's noise draws,
        clipped to [0, 1]. Then the next tick's noise is drawn in the background.

        Args:
            state: behaviour probabilities, shape (n_agents, k).
            logits: cell logits of shape (n_cells, k), NaN where an answer failed.
            peers: the neighbours' mean behaviour, shape (n_agents, k).
        """
        noise = self._pending.result()
        out = np.empty(state.shape, dtype=np.float32)
        for_rows(_update, len(state), state, logits, self.cell, self.offset, self.habit,
                 self.peer_weight, peers, noise, np.float32(self.noise_sd), out)
        self._pending = self._draw()
        return out

    def fork(self) -> Dynamics:
        """The same agents, with a noise stream that goes on from where this one is.

        The fork shares the agents' parameters and copies the stream and the next tick's
        draws, so the two draw the same noise from here on, each from its own stream.
        """
        draws = self._pending.result()
        clone = copy.copy(self)
        clone._noise = copy.deepcopy(self._noise)
        clone._draws = draws.copy()
        clone._pending = Future()
        clone._pending.set_result(clone._draws)
        return clone

    def _draw(self) -> Future:
        return in_background(self._noise.standard_normal, out=self._draws, dtype=np.float32)


@numba.njit(inline="always")
def _sigmoid(x):
    one = np.float32(1.0)
    return one / (one + np.exp(-x))


@numba.njit(nogil=True, cache=True)
def _personalise(start, stop, logits, assignment, offset, out):
    for i in range(start, stop):
        for j in range(offset.shape[1]):
            out[i, j] = _sigmoid(logits[assignment[i], j] + offset[i, j])


@numba.njit(nogil=True, cache=True)
def _update(start, stop, state, logits, assignment, offset, habit, peer_weight, peers, noise,
            noise_sd, out):
    one, zero = np.float32(1.0), np.float32(0.0)
    for i in range(start, stop):
        h, w = habit[i], peer_weight[i]
        for j in range(state.shape[1]):
            logit = logits[assignment[i], j]
            current = state[i, j]
            target = current if np.isnan(logit) else _sigmoid(logit + offset[i, j])
            value = h * current + (one - h) * ((one - w) * target + w * peers[i, j]) \
                + noise[i, j] * noise_sd
            out[i, j] = min(max(value, zero), one)
