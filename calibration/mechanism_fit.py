"""Fitting the twin's mechanism: maximum a posteriori parameters, their spread, a parameter file.

The objective (:mod:`calibration.fit_objective`) is deterministic and smooth in every parameter:
the mean-field evaluation draws nothing, so the same values give the same number. Its ~80
dimensions suit a quasi-Newton method far better than a sampler: L-BFGS-B (scipy) with bounds
converges in tens of gradient steps, where Optuna's TPE or CMA-ES would need thousands of
evaluations in this many dimensions to do the same. Gradients are forward differences, their
evaluations spread over the machine's cores (one process per core, each holding the regions).

Spread: at the optimum the Laplace approximation gives each parameter's posterior sd from the
Gauss-Newton Hessian of the standardised residuals plus the prior precision, and its
*contraction* ``1 - posterior variance / prior variance`` (a value the data pin down has a
contraction near 1; one the data cannot tell apart from the prior, near 0). A parameter with a
contraction below :data:`IDENTIFIED` (fixed before any fit) is flagged as not pinned down.
``restarts`` further fits from starts drawn from the prior show whether the optimum is unique.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.optimize import minimize

from calibration.fit_objective import FitObjective
from calibration.mean_field import MeanFieldTwin, Mechanism
from calibration.parameter_space import ParameterSpace
from calibration.protocol import REGIONS, SEED, TRAIN_WINDOW
from calibration.training_events import TrainingEvents
from simulator.errors import UsageError
from simulator.fitted_parameters import FittedParameters, FittedValue
from simulator.parallel import cpu_count

FIT_AGENTS = 500
"""Agents per region of the fit's mean-field populations (benchmarks/bench_fit.py measures how
far their calibrated error is from the full simulation's at the protocol's 2,000)."""
IDENTIFIED = 0.5
"""Contraction from which a parameter counts as pinned down by the data."""
STEP = 1e-5
"""Forward-difference step in the optimiser's coordinates."""
MAX_ITERATIONS = 60

_WORKER: FitObjective | None = None


def _start_worker(objective: FitObjective) -> None:
    global _WORKER
    _WORKER = objective


def _evaluate(free: np.ndarray) -> float:
    return _WORKER(free)


def _residuals(free: np.ndarray) -> np.ndarray:
    return _WORKER.residuals(free)


def _stencil(free: np.ndarray) -> list[np.ndarray]:
    """``free``, then ``free`` moved by :data:`STEP` along each coordinate in turn."""
    return [free, *(free + STEP * np.eye(len(free)))]


class _Evaluator:
    """The objective and its forward-difference gradient, evaluated on every core."""

    def __init__(self, objective: FitObjective, workers: int) -> None:
        self.objective = objective
        self.evaluations = 0
        self.pool = ProcessPoolExecutor(workers, initializer=_start_worker,
                                        initargs=(objective,)) if workers > 1 else None

    def map(self, function, points: Sequence[np.ndarray]) -> list:
        self.evaluations += len(points)
        if self.pool is None:
            _start_worker(self.objective)
            return [function(p) for p in points]
        return list(self.pool.map(function, points, chunksize=max(1, len(points) // 16)))

    def value_and_gradient(self, free: np.ndarray) -> tuple[float, np.ndarray]:
        values = np.array(self.map(_evaluate, _stencil(free)))
        return float(values[0]), (values[1:] - values[0]) / STEP

    def jacobian(self, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals at ``free`` and their forward-difference Jacobian (observed rows only)."""
        found = self.map(_residuals, _stencil(free))
        mask = ~np.isnan(found[0])
        base = found[0][mask]
        return base, np.stack([(r[mask] - base) / STEP for r in found[1:]], axis=1)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def _optimise(evaluator: _Evaluator, start: np.ndarray, bounds, iterations: int):
    return minimize(evaluator.value_and_gradient, start, jac=True, method="L-BFGS-B",
                    bounds=bounds, options={"maxiter": iterations})


def _laplace(evaluator: _Evaluator, space: ParameterSpace, free: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior sd (parameter units) and contraction of every parameter at ``free``."""
    residuals, jacobian = evaluator.jacobian(free)
    objective = evaluator.objective
    group = objective.group[objective.observed]
    sigma = np.zeros(group.max() + 1)
    for g in np.unique(group):
        sigma[g] = np.sqrt(np.mean(residuals[group == g] ** 2))
    standardised = jacobian / sigma[group][:, None]
    precision = standardised.T @ standardised + np.diag(1.0 / space.prior_sd ** 2)
    variance = np.diag(np.linalg.pinv(precision))
    contraction = 1.0 - variance / space.prior_sd ** 2
    values = space.from_free(free)
    slope = np.abs((space.from_free(free + STEP) - values) / STEP)
    return np.sqrt(variance) * slope, contraction


def fit_record(scenario, regions, agents, seed, objective: FitObjective, best, others,
                evaluations: int) -> dict:
    """How a fit was made and what it reached (the parameter file's ``fit``)."""
    prior = objective.space.prior_free
    return {
        "scenario": scenario.name, "source": scenario.source, "regions": list(regions),
        "train_window": [TRAIN_WINDOW[0].isoformat(), TRAIN_WINDOW[1].isoformat()],
        "evaluation": f"mean field of {agents} agents per region (calibration/mean_field.py)",
        "seed": seed, "training_rows": objective.rows, "calibrator": objective.calibrator,
        "pooling": "regions" if objective.space.regions else "none",
        "optimiser": {"method": "L-BFGS-B (scipy), forward-difference gradients",
                      "iterations": int(best.nit), "evaluations": evaluations,
                      "converged": bool(best.success), "message": str(best.message),
                      "restarts": len(others),
                      "restart_objectives": [round(float(o.fun), 3) for o in others]},
        "objective": {"parts": ["training weeks", *(["training events"] if objective.events
                                                     is not None else [])],
                      "prior": round(float(objective(prior)), 3),
                      "fitted": round(float(best.fun), 3)},
        **_parts(objective, prior, best.x),
        "identified_from_contraction": IDENTIFIED,
    }


def _parts(objective: FitObjective, prior: np.ndarray, fitted: np.ndarray) -> dict:
    """Each part of the objective, at the priors and fitted: the weeks' and the events' errors."""
    at = {"prior": objective.figures(prior), "fitted": objective.figures(fitted)}
    found = {key: {side: None if at[side][key] is None else round(at[side][key], 4)
                   for side in at}
             for key in ("train_macro_rmse", "events_mae", "events_pearson")}
    if objective.events is not None:
        found["training_events"] = {**objective.events.counts,
                                    "event_categories": int(np.sum(~np.isnan(
                                        objective.events.observed)))}
    return found


def check_fittable(scenario) -> None:
    """Refuse, before any work, a scenario whose engine the protocols cannot fit inside them.

    A language engine's combination is fitted by ``socialtwin fit --engine local``
    (:mod:`calibration.language_fit`) and run through ``engine.parameters``; fitting it inside a
    protocol (once per fold of the event protocol, each asking the model) is not built.

    Raises:
        UsageError: the engine is not ``rules``.
    """
    if scenario.engine.name != "rules":
        raise UsageError(f"--fit: fitting inside the protocols is built for the rules engine; "
                         f"fit the {scenario.engine.name} engine's combination with `socialtwin "
                         f"fit --engine {scenario.engine.name}` and give the file as "
                         "engine.parameters")


def fit_scenario(scenario, regions: str | Sequence[str] = REGIONS, data_dir=None,
                 agents: int = FIT_AGENTS, seed: int = SEED, iterations: int = MAX_ITERATIONS,
                 restarts: int = 0, progress: bool = True, events: bool = True,
                 pooling: bool = False) -> FittedParameters:
    """``socialtwin fit``: fit a scenario's mechanism on the training weeks of a selection.

    Args:
        scenario: the scenario (its values are the priors).
        regions: a selection as for the protocols (``all``, ``world``, codes and names).
        data_dir: raw upstream files instead of the shipped tables.
        agents: population size per region of the mean-field evaluation.
        seed: the populations' seed.
        iterations: at most this many L-BFGS-B iterations per start.
        restarts: further fits from starts drawn from the prior.
        progress: show a progress bar while the regions are built.
        events: the training events' effects are part of the objective.
        pooling: partial pooling by region (each region's own ``compliance_scale``).

    Raises:
        UsageError: the engine has no parameters to fit, or a region lacks data (before any
            work).
    """
    from calibration.evaluate import protocol_regions
    from simulator.sources import load_observed

    check_fittable(scenario)
    observed = load_observed(data_dir, regions=regions)
    codes, _ = protocol_regions(observed, regions, scenario.marginals is not None)
    return fit_mechanism(scenario, observed, codes, agents, seed, iterations, restarts,
                         progress=progress, events=events, pooling=pooling)


def fit_mechanism(scenario, observed, regions: Sequence[str], agents: int = FIT_AGENTS,
                  seed: int = SEED, iterations: int = MAX_ITERATIONS, restarts: int = 0,
                  workers: int | None = None, progress: bool = True, events: bool = True,
                  pooling: bool = False) -> FittedParameters:
    """Fit the ``rules`` mechanism of a scenario on the training weeks of some regions.

    Args:
        scenario: the scenario (engine ``rules``); its values are the priors.
        observed: the observed tables of (at least) the regions.
        regions: canonical codes of the regions fitted on.
        agents: population size per region of the mean-field evaluation.
        seed: the populations' seed.
        iterations: at most this many L-BFGS-B iterations per start (``--trials``).
        restarts: further fits from starts drawn from the prior (their values are recorded).
        workers: processes evaluating the objective (default: one per core).
        progress: show a progress bar while the regions are built.
        events: the training events' effects are part of the objective
            (:mod:`calibration.training_events`); else the training weeks alone.
        pooling: partial pooling by region: each region also gets its own
            ``compliance_scale``, pulled towards the pool's (:mod:`calibration.parameter_space`).

    Returns:
        The fitted parameters, with what the fit did under ``fit``.
    """
    started = time.perf_counter()
    twin = MeanFieldTwin.build(scenario, regions, agents, seed, progress)
    space = ParameterSpace(Mechanism.of(scenario), scenario.behaviour_names,
                           tuple(regions) if pooling else ())
    training = TrainingEvents.build(scenario, observed, twin) if events else None
    objective = FitObjective(twin, space, observed, training)
    built = time.perf_counter() - started
    best, others, sd, contraction, evaluations = estimate(objective, seed, iterations, restarts,
                                                          workers)
    fitted = fitted_values(space, best, others, sd, contraction)
    fit = fit_record(scenario, regions, agents, seed, objective, best, others, evaluations)
    fit.update(build_s=round(built, 1), wall_s=round(time.perf_counter() - started, 1))
    return FittedParameters(scenario.engine.name, fitted, fit)


def estimate(objective: FitObjective, seed: int, iterations: int, restarts: int,
             workers: int | None = None):
    """The optimum from the priors, those from ``restarts`` drawn starts, and the spread.

    Args:
        objective: the objective (its ``space`` gives the priors and bounds).
        seed: the seed of the restarts' starts.
        iterations: at most this many L-BFGS-B iterations per start.
        restarts: further fits from starts drawn from the prior.
        workers: processes evaluating the objective (default: one per core).

    Returns:
        ``(best, others, sd, contraction, evaluations)``: scipy's results, each parameter's
        posterior sd and contraction at ``best``, and the objective's evaluations.
    """
    space = objective.space
    evaluator = _Evaluator(objective, workers or cpu_count())
    bounds = space.bounds()
    low, high = np.array(bounds).T
    try:
        best = _optimise(evaluator, space.prior_free, bounds, iterations)
        draws = np.random.default_rng(seed)
        others = [_optimise(evaluator, np.clip(space.prior_free + space.prior_sd
                                               * draws.standard_normal(len(space)), low, high),
                            bounds, iterations)
                  for _ in range(restarts)]
        sd, contraction = _laplace(evaluator, space, best.x)
    finally:
        evaluator.close()
    return best, others, sd, contraction, evaluator.evaluations


def fitted_values(space: ParameterSpace, best, others, sd: np.ndarray,
                  contraction: np.ndarray) -> tuple[FittedValue, ...]:
    """Every parameter's estimate, spread and the values the restarts reached."""
    values = space.from_free(best.x)
    restarted = [space.from_free(o.x) for o in others]
    return tuple(
        FittedValue(name, round(float(values[i]), 6), float(space.prior[i]),
                    round(float(sd[i]), 6), round(float(contraction[i]), 4),
                    bool(contraction[i] >= IDENTIFIED),
                    tuple(round(float(r[i]), 6) for r in restarted))
        for i, name in enumerate(space.names))
