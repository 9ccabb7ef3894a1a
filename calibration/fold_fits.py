"""The event protocol with fitted parameters: a fit per fold of regions, never seeing the fold.

``socialtwin evaluate --protocol events --fit``. The regions are dealt into the protocol's folds;
for each fold the mechanism is fitted (:mod:`calibration.mechanism_fit`) on the training weeks of
the regions of the other folds, and the twin with those parameters runs every region's factual
path (the calibrator of the fold is fitted on the other regions' runs) and a branch for each of
the fold's events. So no event is scored by parameters fitted on its own region, as no event is
scored by a calibrator fitted on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from calibration.event_runs import EventRuns, simulate_events
from calibration.events import PolicyEvent
from calibration.mechanism_fit import MAX_ITERATIONS, fit_mechanism
from simulator.fitted_parameters import FittedParameters


def fold_runs(scenario, codes: Sequence[str], events: Sequence[PolicyEvent],
              fold_of: Mapping[str, int], observed, agents: int, seed: int, cache_path=None,
              progress: bool = True, trials: int | None = None, fit_events: bool = True,
              fit_pooling: bool = False
              ) -> tuple[dict[int, EventRuns], dict[int, FittedParameters]]:
    """Each fold's parameters, and the runs of the twin with them.

    Args:
        scenario: the scenario (its values are the fits' priors).
        codes: every region of the protocol.
        events: the scorable events (each fold branches its own).
        fold_of: region -> fold.
        observed: the observed tables (the fits read their training weeks).
        agents: population size per region of the runs.
        seed: run seed.
        cache_path: response cache (unused by ``rules``, passed on).
        progress: show progress bars.
        trials: the fits' most L-BFGS-B iterations.
        fit_events: the fits match the policy events inside their regions' training weeks
            (the training folds' events) too.
        fit_pooling: the fits pool partially by region (the fold's own regions, unseen by
            its fit, run with the pooled values).

    Returns:
        ``(runs, parameters)`` by fold.
    """
    runs, parameters = {}, {}
    for fold in sorted(set(fold_of.values())):
        training = [code for code in codes if fold_of[code] != fold]
        fitted = fit_mechanism(scenario, observed, training, seed=seed,
                               iterations=trials or MAX_ITERATIONS, progress=progress,
                               events=fit_events, pooling=fit_pooling)
        held_out = [e for e in events if fold_of[e.region] == fold]
        runs[fold] = simulate_events(fitted.applied_to(scenario), codes, held_out, agents, seed,
                                     cache_path, progress, fitted)
        parameters[fold] = fitted
    return runs, parameters


def merged(runs: Mapping[int, EventRuns]) -> EventRuns:
    """The folds' branches and what they set aside together, their accounting summed."""
    branches, outside, totals = {}, [], {}
    for part in runs.values():
        branches.update(part.branches)
        outside += part.outside
        for key, value in part.totals.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
            else:
                totals.setdefault(key, value)
    first = next(iter(runs.values()))
    totals["agents_per_region"] = first.totals.get("agents_per_region")
    return EventRuns(first.factual, branches, outside, totals)


def parameters_summary(parameters: Mapping[int, FittedParameters]) -> dict:
    """Per fold: its training regions' count, the training errors prior and fitted, the values.

    The training errors: the weeks' macro RMSE, and the training events' MAE and correlation
    (``None`` when the fit matched the weeks alone).
    """
    return {str(fold): {"regions": len(fitted.fit["regions"]),
                        "train_macro_rmse": fitted.fit["train_macro_rmse"],
                        "events_mae": fitted.fit.get("events_mae"),
                        "events_pearson": fitted.fit.get("events_pearson"),
                        "wall_s": fitted.fit["wall_s"], "values": fitted.by_name()}
            for fold, fitted in parameters.items()}
