"""The twin's fast evaluation: a smaller population, with the network's peer effect as its mean.

A fit tries thousands of parameter values; a full agent simulation of every region for each
would take hours. :class:`MeanFieldTwin` evaluates the ``rules`` engine's model once per cell it
answers (:mod:`simulator.cognition.cells`) and runs every agent's update of
:mod:`simulator.dynamics` (its habit, peer weight and offset, drawn from the same streams), with
two changes:

* the mean behaviour of an agent's neighbours is replaced by the population's mean of the last
  tick (the mean field of the network);
* the per-tick noise, of mean zero, is left out.

It runs on a smaller population (:data:`calibration.mechanism_fit.FIT_AGENTS` agents per region)
in float64, vectorised over ticks for the model and over agents for the update. Without peers
and noise it is the twin of the same population (``tests/test_mean_field.py``); how far its
calibrated error is from the full simulation's at the protocol's 2,000 agents is measured by
``benchmarks/bench_fit.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numba
import numpy as np
import pandas as pd

from calibration.evaluate import SIM_PREFIX
from simulator.cognition.rules import RuleWeights, rule_logits
from simulator.random_streams import random_stream


@dataclass(frozen=True)
class Mechanism:
    """The values a fit moves: the rules as arrays, the engine's globals and the dynamics.

    Attributes:
        weights: the behaviours' rules (:class:`~simulator.cognition.rules.RuleWeights`).
        fatigue_weeks, vaccine_protection: the ``rules`` engine's options.
        habit, peer_weight, heterogeneity: the scenario's ``dynamics`` (its ``noise`` has no
            effect on the mean field).
        compliance_scale: the ``rules`` engine's scale of the policy terms (a region's own with
            partial pooling).
    """

    weights: RuleWeights
    fatigue_weeks: float
    vaccine_protection: float
    habit: float
    peer_weight: float
    heterogeneity: float
    compliance_scale: float = 1.0

    @classmethod
    def of(cls, scenario) -> Mechanism:
        """The mechanism a scenario declares (its priors, or the parameters it was given)."""
        options, dynamics = scenario.engine.options, scenario.dynamics
        return cls(RuleWeights.of(scenario.behaviours, scenario.policy.indicators),
                   float(getattr(options, "fatigue_weeks", 52.0)),
                   float(getattr(options, "vaccine_protection", 0.6)),
                   dynamics.habit, dynamics.peer_weight, dynamics.heterogeneity,
                   float(getattr(options, "compliance_scale", 1.0)))


@dataclass(frozen=True)
class RegionCells:
    """What the mean field needs of one region: its cells, its members and its timeline.

    Attributes:
        region: the region's code.
        dates: first day of every tick.
        traits: trait name -> the cells' mean trait, shape (C,).
        sizes: members of every cell, shape (C,).
        assignment: every agent's cell, shape (N,).
        conscientiousness, conformity: every agent's score (habit and peer weight read them).
        draws: every agent's standard normal draws of its offsets, shape (N, B), from the run's
            ``heterogeneity`` stream as :meth:`simulator.dynamics.Dynamics.build` draws them.
        policy: indicator -> level as a share of its maximum per tick, shape (T,), tick -1
            (the routine) first.
        context: context value -> value per tick, shape (T,), the routine first.
    """

    region: str
    dates: pd.DatetimeIndex
    traits: dict[str, np.ndarray]
    sizes: np.ndarray
    assignment: np.ndarray
    conscientiousness: np.ndarray
    conformity: np.ndarray
    draws: np.ndarray
    policy: dict[str, np.ndarray]
    context: dict[str, np.ndarray]

    @classmethod
    def build(cls, scenario) -> RegionCells:
        """The cells and timeline of a scenario's region, as a full run would build them."""
        from simulator.cognition.cells import PopulationCells
        from simulator.policy import PolicyTimeline
        from simulator.population import Population

        population = Population.synthesize(scenario.region, scenario.population_size,
                                           random_stream(scenario.seed, "population"),
                                           scenario.marginals)
        cells = PopulationCells.build(population, scenario.engine.personas)
        timeline = PolicyTimeline.from_scenario(scenario)
        policy, context = timeline_arrays(timeline, timeline.routine(scenario.start))
        return cls(scenario.region, timeline.dates, dict(cells.cells.traits),
                   cells.cells.sizes.astype(float), cells.assignment,
                   np.asarray(population["conscientiousness"], dtype=float),
                   np.asarray(population["conformity"], dtype=float),
                   random_stream(scenario.seed, "heterogeneity").standard_normal(
                       (len(population), len(scenario.behaviours))), policy, context)

    def branch(self, timeline, routine) -> RegionCells:
        """The same population on another policy path (a counterfactual of the region).

        Args:
            timeline: the other path (e.g. a variant's :meth:`~Variant.apply` of the region's).
            routine: the region's routine (tick -1), the same on every path.
        """
        policy, context = timeline_arrays(timeline, routine)
        return replace(self, policy=policy, context=context)

    def shifted(self, timeline, reference, routine) -> RegionCells:
        """The region's own path changed by what separates ``timeline`` from ``reference``.

        Every signal is this path's plus the difference of the two (``timeline`` minus
        ``reference``, both with ``routine`` as tick -1), so a counterfactual rebuilt from the
        levels (a sweep's variant, whose stringency index is the formula's) moves the observed
        path by its change alone: where the two agree, the branch is the observed path.

        Args:
            timeline: the changed path (e.g. an event undone, :func:`calibration.event_runs.undo`).
            reference: the same path unchanged, rebuilt as ``timeline`` was.
            routine: the region's routine (tick -1).
        """
        changed, base = timeline_arrays(timeline, routine), timeline_arrays(reference, routine)
        return replace(self, **{
            part: {k: v + (new[k] - old[k]) for k, v in own.items()}
            for part, own, new, old in zip(("policy", "context"), (self.policy, self.context),
                                           changed, base, strict=True)})

    def _logits(self, mechanism: Mechanism, first: int = 0, stop: int | None = None
                ) -> np.ndarray:
        """The model's logits of ticks ``first..stop`` (routine first; each tick on its own)."""
        return rule_logits(mechanism.weights, self.traits, len(self.sizes),
                           {k: v[first:stop] for k, v in self.policy.items()},
                           {k: v[first:stop] for k, v in self.context.items()},
                           mechanism.fatigue_weeks, mechanism.vaccine_protection,
                           mechanism.compliance_scale)

    def _update(self, mechanism: Mechanism) -> tuple[np.ndarray, ...]:
        return agent_update(mechanism, self.conscientiousness, self.conformity, self.draws)

    def mean_changes(self, mechanism: Mechanism, ticks: int | None = None) -> np.ndarray:
        """The population's mean behaviour per tick as % change from the routine, (T, B).

        Args:
            mechanism: the parameter values.
            ticks: only the first ``ticks`` ticks (default: all).
        """
        return self.forked_changes(mechanism, ticks, ())[0]

    def forked_changes(self, mechanism: Mechanism, ticks: int | None,
                       forks: Sequence[tuple[RegionCells, int, int]]
                       ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The mean path, and branches that leave it: % change from the routine.

        Args:
            mechanism: the parameter values.
            ticks: the factual path's first ``ticks`` ticks (default: all).
            forks: ``(branch, start, stop)``: the branch's cells (:meth:`branch`) take over
                from tick ``start`` (every agent as the factual path left it at ``start - 1``)
                up to tick ``stop`` (excluded).

        Returns:
            ``(factual, branches)``: shape (T, B), and (stop - start, B) per fork.
        """
        stop = None if ticks is None else ticks + 1
        update = self._update(mechanism)
        saved = np.array([start for _, start, _ in forks], dtype=np.int64)
        means, states = mean_path(self._logits(mechanism, 0, stop), self.assignment, *update,
                                   saved)
        routine = means[0]
        branches = []
        logits = _fork_logits(mechanism, forks)
        for k, (_, start, _) in enumerate(forks):
            path = _continue_path(logits[k], states[k].copy(), means[start], self.assignment,
                                  *update)
            branches.append(100.0 * (path / routine - 1.0))
        return 100.0 * (means[1:] / routine - 1.0), branches


def _fork_logits(mechanism: Mechanism, forks: Sequence[tuple[RegionCells, int, int]]
                 ) -> list[np.ndarray]:
    """Every fork's logits over its ticks, from one call of the formula.

    The formula reads each tick on its own (weeks under restrictions is a context series), so
    the forks' windows are laid end to end and the result cut back into them.
    """
    if not forks:
        return []
    first = forks[0][0]
    windows = [(branch, start + 1, end + 1) for branch, start, end in forks]
    joined = {part: {name: np.concatenate([getattr(b, part)[name][s:e] for b, s, e in windows])
                     for name in getattr(first, part)} for part in ("policy", "context")}
    z = replace(first, **joined)._logits(mechanism)
    return np.split(z, np.cumsum([e - s for _, s, e in windows])[:-1])


def agent_update(dynamics, conscientiousness: np.ndarray, conformity: np.ndarray,
                 draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every agent's offsets, habit, target share and peer share (:func:`mean_path`'s).

    As :mod:`simulator.dynamics` sets them: habit ``habit + 0.1 conscientiousness`` (at most
    0.95), peer weight ``peer_weight (0.5 + conformity)`` (at most 0.9), offsets
    ``heterogeneity`` times the agent's draws.

    Args:
        dynamics: anything with ``habit``, ``peer_weight`` and ``heterogeneity``.
        conscientiousness: every agent's score (habit reads it).
        conformity: every agent's score (peer weight reads it).
        draws: every agent's standard normal draws, shape (N, B).
    """
    habit = np.clip(dynamics.habit + 0.1 * conscientiousness, 0.0, 0.95)
    peer = np.clip(dynamics.peer_weight * (0.5 + conformity), 0.0, 0.9)
    return (dynamics.heterogeneity * draws, habit, (1.0 - habit) * (1.0 - peer),
            (1.0 - habit) * peer)


def timeline_arrays(timeline, routine) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A timeline's policy (level as a share of its maximum) and context per tick, routine first.

    Args:
        timeline: a :class:`~simulator.policy.PolicyTimeline`.
        routine: its routine signals (tick -1).
    """
    indicators = timeline.indicators
    policy = {name: np.concatenate([[routine.policy.get(name, 0.0)],
                                    timeline.policy[name].to_numpy()])
              / indicators[name].max_level
              for name in timeline.policy.columns if name in indicators}
    context = {name: np.concatenate([[routine.context.get(name, 0.0)],
                                     timeline.context[name].to_numpy()])
               for name in timeline.context.columns}
    return policy, context


@numba.njit(cache=True, fastmath=False)
def mean_path(z, assignment, offset, habit, carry, share, saved):
    """The population's mean behaviour per tick, (T, B): every agent's update, peers as the mean.

    Tick 0 (the routine) sets each agent at its target ``sigmoid(z[cell] + offset)``; every
    later tick ``habit * state + carry * target + share * last tick's mean``. Every agent's
    state after each tick of ``saved`` is kept, shape (len(saved), N, B).
    """
    ticks, behaviours, agents = z.shape[0], z.shape[2], len(assignment)
    state = np.empty((agents, behaviours))
    means = np.zeros((ticks, behaviours))
    states = np.empty((len(saved), agents, behaviours))
    for t in range(ticks):
        for i in range(agents):
            cell = assignment[i]
            for j in range(behaviours):
                target = 1.0 / (1.0 + np.exp(-(z[t, cell, j] + offset[i, j])))
                if t == 0:
                    state[i, j] = target
                else:
                    state[i, j] = (habit[i] * state[i, j] + carry[i] * target
                                   + share[i] * means[t - 1, j])
                means[t, j] += state[i, j]
        for j in range(behaviours):
            means[t, j] /= agents
        for k in range(len(saved)):
            if saved[k] == t:
                states[k] = state
    return means, states


@numba.njit(cache=True, fastmath=False)
def _continue_path(z, state, last_mean, assignment, offset, habit, carry, share):
    """:func:`mean_path` from a kept state and the mean of its tick, over the ticks of ``z``."""
    ticks, behaviours, agents = z.shape[0], z.shape[2], len(assignment)
    means = np.zeros((ticks, behaviours))
    previous = last_mean.copy()
    for t in range(ticks):
        for i in range(agents):
            cell = assignment[i]
            for j in range(behaviours):
                target = 1.0 / (1.0 + np.exp(-(z[t, cell, j] + offset[i, j])))
                state[i, j] = habit[i] * state[i, j] + carry[i] * target + share[i] * previous[j]
                means[t, j] += state[i, j]
        for j in range(behaviours):
            means[t, j] /= agents
            previous[j] = means[t, j]
    return means


class MeanFieldTwin:
    """The mean-field evaluation of a scenario over many regions.

    Args:
        regions: every region's cells and timeline.
        behaviours: the behaviours' names, in the scenario's order.
    """

    def __init__(self, regions: Sequence[RegionCells], behaviours: Sequence[str]) -> None:
        self.regions = list(regions)
        self.behaviours = tuple(behaviours)

    @classmethod
    def build(cls, scenario, regions: Sequence[str], agents: int, seed: int,
              progress: bool = True) -> MeanFieldTwin:
        """Synthesise every region's population and read its timeline (once per fit).

        Args:
            scenario: the case-study scenario (its region is replaced by each region).
            regions: canonical region codes.
            agents: population size per region.
            seed: the run seed (the population's stream).
            progress: show a progress bar over regions.
        """
        from tqdm import tqdm

        built = [RegionCells.build(scenario.replace(region=region, population_size=agents,
                                                    seed=seed))
                 for region in tqdm(regions, desc="building regions", disable=not progress,
                                    delay=3)]
        return cls(built, scenario.behaviour_names)

    def changes(self, mechanism: Mechanism | Sequence[Mechanism], ticks: int | None = None
                ) -> np.ndarray:
        """Every region's :meth:`RegionCells.mean_changes`, shape (regions, T, B).

        Args:
            mechanism: the parameter values, or each region's (partial pooling).
            ticks: only the first ``ticks`` ticks (default: all).
        """
        return np.stack([cells.mean_changes(own, ticks)
                         for cells, own in zip(self.regions, self.each(mechanism), strict=True)])

    def each(self, mechanism: Mechanism | Sequence[Mechanism]) -> list[Mechanism]:
        """One mechanism per region: the same for all, or each region's own."""
        if isinstance(mechanism, Mechanism):
            return [mechanism] * len(self.regions)
        return list(mechanism)

    def simulate(self, mechanism: Mechanism | Sequence[Mechanism]) -> pd.DataFrame:
        """Region-week rows with a ``sim_<behaviour>`` column each, as the full twin's.

        The columns are those of :func:`calibration.evaluate.simulated_features`: the
        population's mean behaviour as % change from its routine.
        """
        return simulated_rows([(cells.region, cells.dates, cells.mean_changes(own))
                               for cells, own in zip(self.regions, self.each(mechanism),
                                                     strict=True)], self.behaviours)


def simulated_rows(paths, behaviours: Sequence[str]) -> pd.DataFrame:
    """Region-week rows (``region``, ``week``, ``sim_<behaviour>``) of regions' mean paths.

    Args:
        paths: per region, its code, the first day of every tick and its mean path (T, B).
        behaviours: the behaviours' names, in the paths' column order.
    """
    frames = []
    for region, dates, changes in paths:
        frame = pd.DataFrame(changes, columns=[SIM_PREFIX + name for name in behaviours])
        frame.insert(0, "week", dates)
        frame.insert(0, "region", region)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
