"""Fitting a language engine's combination: what its answers are combined with, never the model.

A language engine's persona answers (:mod:`simulator.cognition.personas`) reach the agents
through a combination, ``s * (logit p(base) + sum_k w_a(k) [logit p(variant_k) - logit
p(base)])``, and the dynamics. ``socialtwin fit --engine local`` (or ``litellm:<model>``)
estimates the logit scale ``s`` (``engine.logit_scale``), the weight ``w_a`` of each attribute
the persona design shows (``engine.contrast_weights.<attribute>``) and the dynamics' ``habit``,
``peer_weight`` and ``heterogeneity``; the model and its answers stay as they are.

The engine is asked once, as a run asks it (:class:`~simulator.model.TwinModel`, through the
response cache): a twin of each region steps through the training weeks, and its personas'
answers are kept as logits, shape (ticks + 1, personas, behaviours), the routine first. Any
parameter values are then evaluated without the model: the cells' logits are the weighted design
times the persona logits, kept 1e-4 from 0 and 1 as a run keeps them; every agent's update runs
with the peers as the population's mean (:class:`LanguageTwin`, through
:func:`calibration.mean_field.mean_path`; habit, peer weight and offset drawn as the run draws
them); the population's means as % change from the routine go to the objective of the
``rules`` fit (:class:`calibration.fit_objective.
FitObjective`: the calibrated error held out by block on the training weeks, with a Gaussian
prior), minimised with L-BFGS-B and spread by the Laplace approximation as
:mod:`calibration.mechanism_fit` does. A persona answer that failed leaves its cells at their
logit of the tick before (a run keeps their agents' behaviour instead), at 0 in the routine.

Priors, set before any fit: the scenario's values (1: the design's own combination), with a
prior sd of 1 log unit for the scale (a temperature from 0.37 to 2.7 within one sd) and 1 for a
contrast weight (from none of the contrast to twice it); the dynamics' as for ``rules``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from calibration.evaluate import window_of
from calibration.fit_objective import FitObjective
from calibration.mean_field import agent_update, mean_path, simulated_rows
from calibration.mechanism_fit import (
    FIT_AGENTS,
    MAX_ITERATIONS,
    estimate,
    fit_record,
    fitted_values,
)
from calibration.parameter_space import KINDS, Kind, ParameterSpace
from calibration.protocol import REGIONS, SEED
from simulator.cognition.personas import PERSONA_ATTRIBUTES, Combination, FactorialDesign
from simulator.errors import UsageError
from simulator.fitted_parameters import FittedParameters
from simulator.random_streams import random_stream

LOGIT_SCALE = Kind("log", 1.0, 0.05, 20.0)
"""``engine.logit_scale``: moved in log, prior sd 1 there, from 0.05 to 20."""
CONTRAST_WEIGHT = Kind("identity", 1.0, -5.0, 5.0)
"""``engine.contrast_weights.<attribute>``: prior sd 1, from -5 (reversed) to 5."""
DYNAMICS = ("habit", "peer_weight", "heterogeneity")
"""The dynamics' fields a fit moves by default (``noise`` has no effect on the means)."""
LIMIT = float(np.log((1 - 1e-4) / 1e-4))
"""Largest cell logit: a run keeps the cells' answers 1e-4 from 0 and 1."""
NO_STATES = np.empty(0, dtype=np.int64)
"""The ticks whose agents' states :func:`mean_path` keeps: none."""


@dataclass(frozen=True)
class Blend:
    """The values a language fit moves: the combination and the dynamics."""

    combination: Combination
    habit: float
    peer_weight: float
    heterogeneity: float

    @classmethod
    def of(cls, scenario) -> Blend:
        """The scenario's own values (its priors, or the parameters it was given)."""
        dynamics = scenario.dynamics
        return cls(scenario.engine.options.to_combination(), dynamics.habit,
                   dynamics.peer_weight, dynamics.heterogeneity)


@dataclass(frozen=True)
class PersonaAnswers:
    """One region's persona answers over the training weeks, and the agents they reach.

    Attributes:
        region: the region's code.
        dates: first day of every tick asked (the training weeks and any before them).
        logits: the personas' answers as logits, shape (T + 1, P, B), the routine first (0
            where an answer failed).
        failed: answers that failed, shape (T + 1, P, B).
        design: the persona design the region is asked through.
        weights: the cells' design weights, shape (C, P).
        assignment: every agent's cell, shape (N,).
        conscientiousness, conformity: every agent's score (habit and peer weight read them).
        draws: every agent's standard normal draws of its offsets, shape (N, B).
    """

    region: str
    dates: pd.DatetimeIndex
    logits: np.ndarray
    failed: np.ndarray
    design: FactorialDesign
    weights: np.ndarray
    assignment: np.ndarray
    conscientiousness: np.ndarray
    conformity: np.ndarray
    draws: np.ndarray

    @classmethod
    def gather(cls, scenario, engine, ticks: int | None = None) -> PersonaAnswers:
        """Ask the engine as a run of the scenario does, through the training weeks.

        The twin is the run's over the scenario's whole period (the period decides what the
        prompts show, e.g. an input with no data in it is left out), stepped only as far as
        ``ticks``: the questions are the run's, so its cache answers those asked before.

        Args:
            scenario: the region's scenario (its population size is the agents').
            engine: the language engine (its cache serves what was asked before).
            ticks: ticks to step (default: up to the last week of the training window).
        """
        from simulator.model import TwinModel

        model = TwinModel(scenario, engine=engine, agent_views=False)
        dates = model.timeline.dates
        if ticks is None:
            train = np.flatnonzero(window_of(pd.Series(dates)) == "train")
            ticks = int(train.max()) + 1 if len(train) else 0
        while model.tick < ticks:
            model.step()
        answers = model.persona_answers()
        personas, behaviours = len(model.cells.design.personas), len(scenario.behaviours)
        p = answers[list(scenario.behaviour_names)].to_numpy(dtype=float)
        p = p.reshape(ticks + 1, personas, behaviours)
        failed = np.isnan(p)
        p = np.clip(np.where(failed, 0.5, p), 1e-6, 1 - 1e-6)
        population = model.population
        return cls(scenario.region, dates[:ticks], np.log(p / (1 - p)), failed,
                   model.cells.design, model.cells.weights, model.cells.assignment,
                   np.asarray(population["conscientiousness"], dtype=float),
                   np.asarray(population["conformity"], dtype=float),
                   random_stream(scenario.seed, "heterogeneity").standard_normal(
                       (len(population), behaviours)))

    def cell_logits(self, combination: Combination) -> np.ndarray:
        """Every cell's logit per tick, shape (T + 1, C, B), as a run combines and clips them."""
        weights = self.design.weighted(self.weights, combination)
        z = combination.logit_scale * np.einsum("cp,tpb->tcb", weights, self.logits)
        z = np.clip(z, -LIMIT, LIMIT)
        if self.failed.any():
            lost = np.einsum("cp,tpb->tcb", (weights != 0).astype(float), self.failed) > 0
            z[0][lost[0]] = 0.0
            for t in range(1, len(z)):
                z[t] = np.where(lost[t], z[t - 1], z[t])
        return z

    def mean_changes(self, blend: Blend, ticks: int | None = None) -> np.ndarray:
        """The population's mean behaviour per tick as % change from the routine, (T, B)."""
        z = self.cell_logits(blend.combination)
        if ticks is not None:
            z = z[:ticks + 1]
        update = agent_update(blend, self.conscientiousness, self.conformity, self.draws)
        means, _ = mean_path(z, self.assignment, *update, NO_STATES)
        return 100.0 * (means[1:] / means[0] - 1.0)


class LanguageTwin:
    """The fast evaluation of a language engine's twin over many regions.

    What a fit's objective simulates (:class:`calibration.mean_field.MeanFieldTwin`'s interface).

    Args:
        regions: every region's persona answers and agents.
        behaviours: the behaviours' names, in the scenario's order.
    """

    def __init__(self, regions: Sequence[PersonaAnswers], behaviours: Sequence[str]) -> None:
        self.regions = list(regions)
        self.behaviours = tuple(behaviours)

    def changes(self, blend: Blend, ticks: int | None = None) -> np.ndarray:
        """Every region's :meth:`PersonaAnswers.mean_changes`, shape (regions, T, B)."""
        return np.stack([region.mean_changes(blend, ticks) for region in self.regions])

    def simulate(self, blend: Blend) -> pd.DataFrame:
        """Region-week rows with a ``sim_<behaviour>`` column each, as the full twin's."""
        return simulated_rows([(region.region, region.dates, region.mean_changes(blend))
                               for region in self.regions], self.behaviours)


class CombinationSpace(ParameterSpace):
    """The parameters of a language engine's combination and dynamics (a flat vector and back).

    Args:
        prior: the scenario's values (:meth:`Blend.of`).
        attributes: the attributes whose contrasts are weighed (those the designs show).
        dynamics: the dynamics' fields fitted too (the others keep the scenario's values).
    """

    def __init__(self, prior: Blend, attributes: Sequence[str],
                 dynamics: Sequence[str] = DYNAMICS) -> None:
        self.prior_blend = prior
        self.attributes = tuple(attributes)
        self.dynamics = tuple(dynamics)
        self.regions = ()  # no parameter of a region's own (pooled only)
        names = ["engine.logit_scale",
                 *(f"engine.contrast_weights.{a}" for a in self.attributes),
                 *(f"dynamics.{d}" for d in self.dynamics)]
        kinds = [LOGIT_SCALE, *(CONTRAST_WEIGHT for _ in self.attributes),
                 *(KINDS[d] for d in self.dynamics)]
        values = [prior.combination.logit_scale,
                  *(prior.combination.weight(a) for a in self.attributes),
                  *(getattr(prior, d) for d in self.dynamics)]
        self.names, self.kinds = tuple(names), tuple(kinds)
        self.prior = np.array(values, dtype=float)
        self.prior_free = self.to_free(self.prior)
        self.prior_sd = np.array([k.prior_sd for k in self.kinds])

    def mechanism(self, values: np.ndarray) -> Blend:
        """The combination and dynamics with these parameter values."""
        n = len(self.attributes)
        weights = {**self.prior_blend.combination.contrast_weights,
                   **dict(zip(self.attributes, map(float, values[1:1 + n]), strict=True))}
        dynamics = dict(zip(self.dynamics, map(float, values[1 + n:]), strict=True))
        return replace(self.prior_blend, combination=Combination(weights, float(values[0])),
                       **dynamics)

    def mechanisms(self, values: np.ndarray) -> Blend:
        """The values of every region: the same (no partial pooling)."""
        return self.mechanism(values)


def check_language_engine(scenario) -> None:
    """Refuse, before any work, a scenario whose engine is not a language model.

    Raises:
        UsageError: the engine is ``rules``.
    """
    if scenario.engine.name == "rules":
        raise UsageError("fit: the rules engine's parameters are fitted by "
                         "calibration.mechanism_fit (allowed here: local, litellm:<model>)")


def fit_language_scenario(scenario, regions: str | Sequence[str] = REGIONS, data_dir=None,
                          agents: int = FIT_AGENTS, seed: int = SEED,
                          iterations: int = MAX_ITERATIONS, restarts: int = 0,
                          progress: bool = True) -> FittedParameters:
    """``socialtwin fit --engine local``: fit a language engine's combination on a selection.

    Args: as :func:`calibration.mechanism_fit.fit_scenario`.

    Raises:
        UsageError: the engine is not a language model, or a region lacks data (before any
            work).
        EngineError: the engine cannot start (before any work).
    """
    from calibration.evaluate import protocol_regions
    from simulator.cognition import make_engine
    from simulator.sources import load_observed

    check_language_engine(scenario)
    make_engine(scenario.engine.name, scenario.engine.options, scenario.policy.indicators,
                scenario.engine.cache).close()  # an engine that cannot start: before any work
    observed = load_observed(data_dir, regions=regions)
    codes, _ = protocol_regions(observed, regions, scenario.marginals is not None)
    return fit_language(scenario, observed, codes, agents, seed, iterations, restarts,
                        progress=progress)


def gather_answers(scenario, regions: Sequence[str], agents: int, seed: int,
                   progress: bool = True) -> tuple[list[PersonaAnswers], dict]:
    """Every region's persona answers over its training weeks, and what asking them cost."""
    from tqdm import tqdm

    from simulator.cognition import make_engine

    started = time.perf_counter()
    engine = make_engine(scenario.engine.name, scenario.engine.options,
                         scenario.policy.indicators, scenario.engine.cache)
    try:
        found = [PersonaAnswers.gather(scenario.replace(region=region, population_size=agents,
                                                        seed=seed), engine)
                 for region in tqdm(regions, desc="asking the personas", disable=not progress,
                                    delay=3)]
    finally:
        engine.close()
    stats = engine.stats
    return found, {"llm_calls": stats.llm_calls, "cache_hits": stats.cache_hits,
                   "questions": stats.questions,
                   "persona_answers": int(sum(a.logits.size for a in found)),
                   "failed_answers": int(sum(a.failed.sum() for a in found)),
                   "wall_s": round(time.perf_counter() - started, 1)}


def fit_language(scenario, observed, regions: Sequence[str], agents: int = FIT_AGENTS,
                 seed: int = SEED, iterations: int = MAX_ITERATIONS, restarts: int = 0,
                 workers: int | None = None, progress: bool = True,
                 answers: Sequence[PersonaAnswers] | None = None,
                 dynamics: Sequence[str] = DYNAMICS) -> FittedParameters:
    """Fit a language engine's combination and dynamics on the training weeks of some regions.

    Args:
        scenario: the scenario (a language engine); its values are the priors.
        observed: the observed tables of (at least) the regions.
        regions: canonical codes of the regions fitted on.
        agents: population size per region.
        seed: the populations' seed.
        iterations: at most this many L-BFGS-B iterations per start.
        restarts: further fits from starts drawn from the prior.
        workers: processes evaluating the objective (default: one per core).
        progress: show a progress bar while the personas are asked.
        answers: the regions' persona answers, if gathered already (else the engine is asked).
        dynamics: the dynamics' fields fitted too (none: the combination alone).

    Returns:
        The fitted parameters, with what the fit did (and what asking cost) under ``fit``.
    """
    started = time.perf_counter()
    asked = {}
    if answers is None:
        answers, asked = gather_answers(scenario, regions, agents, seed, progress)
    shown = {a for region in answers for a in region.design.attributes}
    space = CombinationSpace(Blend.of(scenario), [a for a in PERSONA_ATTRIBUTES if a in shown],
                             dynamics)
    objective = FitObjective(LanguageTwin(answers, scenario.behaviour_names), space, observed)
    built = time.perf_counter() - started
    best, others, sd, contraction, evaluations = estimate(objective, seed, iterations,
                                                          restarts, workers)
    fitted = fitted_values(space, best, others, sd, contraction)
    fit = fit_record(scenario, regions, agents, seed, objective, best, others, evaluations)
    fit.update(evaluation=f"mean field of {agents} agents per region over the engine's persona "
                          "answers (calibration/language_fit.py)",
               asked=asked, build_s=round(built, 1),
               wall_s=round(time.perf_counter() - started, 1))
    return FittedParameters(scenario.engine.name, fitted, fit)

