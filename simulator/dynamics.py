"""Individual dynamics: each agent's own answer, and its update by habit, peers and noise.

The update of :meth:`simulator.model.TwinModel.step` as compiled loops over agents on every core
(:mod:`simulator.parallel`). Every agent's values depend only on its own inputs, so the result
does not depend on the number of threads; the arithmetic is float32, in the order the model's
docstring writes it.
"""

from __future__ import annotations

import numba
import numpy as np

from simulator.parallel import for_rows


def cell_logits(answers: np.ndarray) -> np.ndarray:
    """Logits of the cells' answers, float32 of shape like ``answers``; NaN where one failed.

    Answers are kept 1e-4 away from 0 and 1, so that an agent's offset can still move it.
    """
    p = np.clip(answers, 1e-4, 1 - 1e-4).astype(np.float32)
    return np.log(p / (1 - p))


@numba.njit(inline="always")
def _sigmoid(x):
    one = np.float32(1.0)
    return one / (one + np.exp(-x))


def personalise(logits: np.ndarray, assignment: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Each agent's own answer: ``sigmoid(logits[cell] + offset)``, float32 (n_agents, k).

    Args:
        logits: cell logits of shape (n_cells, k) (no NaN).
        assignment: each agent's cell, shape (n_agents,).
        offset: each agent's fixed logit offset, shape (n_agents, k).
    """
    out = np.empty(offset.shape, dtype=np.float32)
    for_rows(_personalise, len(offset), logits, assignment, offset, out)
    return out


@numba.njit(nogil=True, cache=True)
def _personalise(start, stop, logits, assignment, offset, out):
    for i in range(start, stop):
        for j in range(offset.shape[1]):
            out[i, j] = _sigmoid(logits[assignment[i], j] + offset[i, j])


def update(state: np.ndarray, logits: np.ndarray, assignment: np.ndarray, offset: np.ndarray,
           habit: np.ndarray, peer_weight: np.ndarray, peers: np.ndarray, noise: np.ndarray,
           noise_sd: float) -> np.ndarray:
    """This tick's behaviour of every agent, a new float32 array of shape like ``state``.

    ``target = sigmoid(logits[cell] + offset)``, or the agent's current behaviour where its
    cell's answer failed (NaN logit); then ``habit * state + (1 - habit) * ((1 - w) * target
    + w * peers) + noise_sd * noise`` with peer weight ``w``, clipped to [0, 1].

    Args:
        state: behaviour probabilities, shape (n_agents, k).
        logits: cell logits of shape (n_cells, k), NaN where an answer failed.
        assignment: each agent's cell, shape (n_agents,).
        offset: each agent's fixed logit offset, shape (n_agents, k).
        habit: weight of each agent's current behaviour, shape (n_agents,).
        peer_weight: weight of each agent's peers against its own answer, shape (n_agents,).
        peers: the neighbours' mean behaviour, shape (n_agents, k).
        noise: standard normal draws, shape (n_agents, k).
        noise_sd: standard deviation of the noise.
    """
    out = np.empty(state.shape, dtype=np.float32)
    for_rows(_update, len(state), state, logits, assignment, offset, habit, peer_weight, peers,
             noise, np.float32(noise_sd), out)
    return out


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
