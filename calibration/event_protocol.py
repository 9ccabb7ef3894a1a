"""The event protocol: the twin's counterfactual effects against what happened when policy changed.

``socialtwin evaluate --protocol events``. Every real change of a containment indicator
(:mod:`calibration.events`) is an experiment the data ran: its observed effect on each mobility
category is a difference-in-differences with clean controls (:mod:`calibration.event_effects`),
and the twin's effect is the difference between two runs with common random numbers, the observed
policy path and the path with that change undone (:mod:`calibration.event_runs`), mapped to metric
units by a calibrator fitted without the region (:mod:`calibration.counterfactual_effects`). The
baselines build their counterfactuals the same way. Out of sample by region: regions are dealt
into :data:`~calibration.protocol.FOLDS` folds and every region's events are scored by methods
fitted on the other folds. Each effect carries a split-conformal band from the residuals of the
other folds' events (:mod:`calibration.intervals`), whose coverage is measured on the held-out
events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.counterfactual_effects import (
    EVENT_STUDY,
    ZERO,
    change_features,
    event_paths,
    fit_event_study,
    fold_methods,
    predicted_effects,
    region_folds,
)
from calibration.effect_scores import POOLED, by_indicator, coverage, score_table
from calibration.evaluate import FULL_CONTEXT, assemble, protocol_regions
from calibration.event_effects import (
    NOISE_QUANTILE,
    EventPanel,
    observed_effects,
    placebo_effects,
    placebo_noise,
)
from calibration.event_runs import simulate_events
from calibration.events import (
    STRINGENCY_COMPONENTS,
    events_frame,
    find_events,
    scenario_event_indicators,
)
from calibration.fold_fits import fold_runs, merged, parameters_summary
from calibration.inputs import available, complete, indicator_columns
from calibration.intervals import NOMINAL, conformal_half_width
from calibration.protocol import AGENTS, FOLDS, REGIONS, SEED
from calibration.trust import fingerprint, mechanism
from simulator.errors import UsageError
from simulator.sources import MOBILITY_CATEGORIES, ObservedData, load_observed


@dataclass
class EventEvaluation:
    """Result of the event protocol.

    Attributes:
        events: one row per scored event (:func:`calibration.events.events_frame`) and its fold.
        effects: one row per event and category: the observed effect, its controls, every
            method's effect, and the twin's band (``twin_lower``, ``twin_upper``).
        scores: per method and category (``pooled`` included): n, n_above_noise,
            sign_agreement, pearson, spearman, mae, coverage.
        by_indicator: mean observed and predicted effects per indicator, direction, category.
        noise: per category, the placebo's ``sd``, ``threshold`` (signal above it) and ``n``.
        counts: events found and set aside on the way (by reason).
        regions: regions whose events are scored.
        engine: the engine of the twin.
        methods: method -> description.
        simulation: accounting of the twin's runs.
        excluded: regions of a ``world`` selection left out, with the reason.
        selection: the regions as the user chose them (``world``, ``all``, codes).
        mechanism: what decides the twin's effects (:func:`calibration.trust.mechanism`).
        notes: inputs the data lacked and how the methods did without them.
        parameters: with ``--fit``, each fold's fitted parameters and training error
            (:func:`calibration.fold_fits.parameters_summary`); ``None`` for the priors.
    """

    events: pd.DataFrame
    effects: pd.DataFrame
    scores: pd.DataFrame
    by_indicator: pd.DataFrame
    noise: pd.DataFrame
    counts: dict
    regions: list[str]
    engine: str
    methods: dict
    simulation: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)
    selection: str = ""
    mechanism: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parameters: dict | None = None

    @property
    def method_names(self) -> list[str]:
        """The methods, the twin first."""
        return list(self.methods)

    def to_json(self) -> dict:
        """The figures as plain data (``socialtwin evaluate --protocol events --json``)."""
        methods = {}
        for name in self.method_names:
            rows = self.scores[self.scores["method"] == name].set_index("category")
            figures = ("sign_agreement", "pearson", "spearman", "mae", "coverage")
            methods[name] = {
                **{k: _plain(rows.loc[POOLED, k]) for k in figures},
                "macro": {k: _plain(rows.drop(index=POOLED)[k].mean(skipna=True))
                          for k in figures if k != "coverage"},
                "per_category": {c: {k: _plain(rows.loc[c, k]) for k in figures}
                                 for c in rows.index if c != POOLED},
                "description": self.methods[name],
            }
        per_indicator = self.by_indicator.groupby(["indicator", "direction"])
        residuals = (self.effects["observed"] - self.effects["twin"]).groupby(
            self.effects["category"])
        return {
            "protocol": "events",
            "engine": self.engine,
            "selection": self.selection,
            "mechanism": fingerprint(self.mechanism),
            "mechanism_detail": self.mechanism,
            "regions": len(self.regions),
            "region_codes": list(self.regions),
            "n_events": int(len(self.events)),
            "n_event_categories": int(len(self.effects)),
            "events_per_indicator": {f"{i}:{d}": int(rows["n_events"].max())
                                     for (i, d), rows in per_indicator},
            "counts": self.counts,
            "placebo_noise": {c: {k: _plain(v) for k, v in row.items()}
                              for c, row in self.noise.iterrows()},
            "noise_quantile": NOISE_QUANTILE,
            "nominal_coverage": NOMINAL,
            "folds": int(self.events["fold"].nunique()) if len(self.events) else 0,
            "methods": methods,
            "twin_effect_band": {
                "nominal": NOMINAL,
                "half_width": {c: _plain(conformal_half_width(r.to_numpy()))
                               for c, r in residuals},
            },
            "by_indicator": [{k: _plain(v) for k, v in row.items()}
                             for row in self.by_indicator.to_dict("records")],
            "simulation": self.simulation,
            "excluded": self.excluded,
            "notes": self.notes,
            "parameters": self.parameters,
        }


def _plain(value):
    """A JSON-able scalar: floats rounded, NaN and missing as None."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else round(float(value), 4)
    return value


def evaluate_events(scenario, regions: str | Sequence[str] = REGIONS,
                    data_dir: str | Path | None = None, agents: int = AGENTS, seed: int = SEED,
                    cache_path=None, progress: bool = True, folds: int = FOLDS,
                    fit: bool = False, trials: int | None = None, fit_events: bool = True,
                    fit_pooling: bool = False) -> EventEvaluation:
    """Run the event protocol for one scenario (and its engine) over a set of regions.

    Args:
        scenario: the case-study scenario (engine applied); its region is replaced by each one.
        regions: as for :func:`calibration.evaluate.evaluate` (``all``, ``world``, codes...).
        data_dir: raw upstream files instead of the shipped weekly tables.
        agents: population size per region.
        seed: run seed (also the seed of the folds and the placebo draws).
        cache_path: response cache for LLM engines.
        progress: show progress bars.
        folds: folds over regions (fewer when there are fewer regions).
        fit: fit the mechanism per fold on the other folds' regions (calibration.fold_fits).
        trials: with ``fit``, the fits' most L-BFGS-B iterations.
        fit_events: with ``fit``, as :func:`calibration.fold_fits.fold_runs`.
        fit_pooling: with ``fit``, as :func:`calibration.fold_fits.fold_runs`.

    Raises:
        UsageError: fewer than two regions, or no event the data can score.
    """
    from simulator.run import apply_overrides

    scenario = apply_overrides(scenario, agents=agents, seed=seed, data_dir=data_dir)
    everything = load_observed(data_dir)
    codes, lacking = protocol_regions(everything, regions, scenario.marginals is not None)
    if len(codes) < 2:
        raise UsageError(f"the event protocol needs at least two regions (each region's twin is "
                         f"calibrated on the others); got {', '.join(codes)}")
    events, counts, panel, observed = _observed_events(scenario, everything, codes)
    fold_of = region_folds(codes, folds, seed)
    runs, by_fold, parameters = _twin_runs(scenario, codes, events, fold_of, everything, agents,
                                           seed, cache_path, progress,
                                           (trials, fit_events, fit_pooling) if fit else None)
    counts["outside_scenario_period"] = len(runs.outside)
    events = [e for e in events if e.key in runs.branches]
    if not events:
        raise UsageError(f"no event of {', '.join(codes)} can be scored (events found and set "
                         f"aside: {counts})")
    counts["scored"] = len(events)
    noise = placebo_noise(placebo_effects(panel, events, codes, seed))
    inputs_of = {fold: _inputs(everything, codes, part) for fold, part in by_fold.items()}
    notes = inputs_of[min(inputs_of)][2]
    predicted, names = _out_of_fold(inputs_of, observed, events, runs.branches, fold_of,
                                    scenario.engine.name)
    effects = _effects_table(observed, events, predicted, fold_of)
    effects, intervals = _bands(effects, list(names), fold_of)
    scores = score_table(effects, list(names), noise["threshold"])
    scores["coverage"] = [intervals[m].get(c) for m, c in zip(scores["method"],
                                                                 scores["category"], strict=True)]
    frame = events_frame(events).assign(fold=lambda f: f["region"].map(fold_of))
    detail = mechanism(scenario) if parameters is None else {
        **mechanism(scenario), "parameters": "fitted per fold of regions"}
    return EventEvaluation(frame, effects, scores, by_indicator(effects, frame, list(names)),
                           noise, counts, codes, scenario.engine.name, names, runs.totals,
                           lacking, _selection(regions), detail, notes,
                           None if parameters is None else parameters_summary(parameters))


def _observed_events(scenario, everything: ObservedData, codes: Sequence[str]):
    """The events the data can score, what was set aside, the panel and the observed effects."""
    indicators = scenario_event_indicators(scenario)
    events, counts = find_events(everything.policy, indicators, codes)
    panel = EventPanel.build(everything.policy, everything.mobility,
                             sorted({*indicators, *STRINGENCY_COMPONENTS}), MOBILITY_CATEGORIES)
    observed, set_aside = observed_effects(panel, events)
    counts = {"found": len(events), **counts, **set_aside}
    scorable = set(observed["event"])
    return [e for e in events if e.key in scorable], counts, panel, observed


def _twin_runs(scenario, codes, events, fold_of, everything, agents, seed, cache_path, progress,
               fit):
    """The twin's runs, and those each fold's methods read: one set, or one per fold's fit.

    ``fit``: ``None`` (the priors), or the fits' ``(trials, fit_events, fit_pooling)``.

    Returns:
        ``(runs, by_fold, parameters)``: every branch, fold -> its runs, and each fold's
        fitted parameters (``None`` without ``fit``).
    """
    if fit:
        by_fold, parameters = fold_runs(scenario, codes, events, fold_of, everything, agents,
                                        seed, cache_path, progress, *fit)
        return merged(by_fold), by_fold, parameters
    runs = simulate_events(scenario, codes, events, agents, seed, cache_path, progress)
    return runs, {fold: runs for fold in set(fold_of.values())}, None


def _inputs(everything: ObservedData, codes: Sequence[str], runs
            ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Inputs (completed), targets and notes of the regions' factual runs.

    The notes name the inputs the data lack: those left out of the baselines included.
    """
    inputs, targets = assemble(_only(everything, codes), runs.factual)
    inputs, notes = complete(inputs)
    notes += [f"no observed {name} in any region: left out of the baselines" for name in
              available(inputs.assign(window="train"), [*indicator_columns(inputs),
                                                        *FULL_CONTEXT])[1]]
    return inputs, targets, notes


def _selection(regions: str | Sequence[str]) -> str:
    return regions if isinstance(regions, str) else ",".join(regions)


def _only(observed: ObservedData, codes: Sequence[str]) -> ObservedData:
    return ObservedData(**{name: frame[frame["region"].isin(codes)].reset_index(drop=True)
                           for name, frame in (("policy", observed.policy),
                                               ("mobility", observed.mobility),
                                               ("context", observed.context))})


def _out_of_fold(inputs_of, observed, events, branches, fold_of, engine
                 ) -> tuple[dict[str, list[pd.DataFrame]], dict[str, str]]:
    """Every method's effects of every event, fold by fold; and the methods' descriptions.

    ``inputs_of``: fold -> the inputs and targets of the runs that fold's methods read.
    """
    predicted: dict[str, list[pd.DataFrame]] = {}
    names: dict[str, str] = {}
    for fold in sorted(set(fold_of.values())):
        inputs, targets, _ = inputs_of[fold]
        held_out = [e for e in events if fold_of[e.region] == fold]
        fitted = _fold_predictions(inputs, targets, observed, events, held_out, branches,
                                   fold_of, fold, engine)
        for method, (frame, description) in fitted.items():
            predicted.setdefault(method, []).append(frame)
            names.setdefault(method, description)
    return predicted, names


def _fold_predictions(inputs, targets, observed, events, held_out, branches, fold_of, fold,
                      engine) -> dict[str, tuple[pd.DataFrame, str]]:
    """Every method's effects for one fold's events, fitted on the other folds."""
    in_fold = inputs["region"].map(fold_of).to_numpy() == fold
    train_inputs = inputs[~in_fold].assign(window="train")
    methods = [m.fit(train_inputs, targets[~in_fold])
               for m in fold_methods(train_inputs, targets[~in_fold], engine)]
    rows = {region: part.sort_values("week") for region, part in inputs[in_fold].groupby("region")}
    paths = {e.key: (e, *event_paths(rows[e.region], e, branches[e.key]))
             for e in held_out if e.region in rows}
    described = {m.name: m.description for m in methods}
    found = {name: (frame, described[name])
             for name, frame in predicted_effects(methods, paths, targets.columns).items()}
    indicators = sorted({*STRINGENCY_COMPONENTS, *(n for e in events for n in e.held)})
    training = [e for e in events if fold_of[e.region] != fold]
    wide = observed.pivot(index="event", columns="category", values="observed")
    features = change_features(training, indicators)
    study = fit_event_study(features, wide.reindex(features.index))
    scored = change_features([e for e in held_out if e.key in paths], indicators)
    found[EVENT_STUDY] = (pd.DataFrame({m: model.predict(scored.to_numpy()) if len(scored) else []
                                        for m, model in study.items()}, index=scored.index),
                          "the average observed effect of each indicator and direction in the "
                          "training folds (levels changed, summed over an event's indicators)")
    found[ZERO] = (pd.DataFrame(0.0, index=scored.index, columns=list(targets.columns)),
                   "no effect")
    return found


def _effects_table(observed, events, predicted, fold_of) -> pd.DataFrame:
    """One row per event and category with the observed effect and every method's."""
    table = observed[observed["event"].isin({e.key for e in events})].copy()
    for method, frames in predicted.items():
        wide = pd.concat(frames)
        long = wide.rename_axis("event").reset_index().melt(
            id_vars="event", var_name="category", value_name=method)
        table = table.merge(long, on=["event", "category"], how="left")
    table["fold"] = table["region"].map(fold_of)
    return table.reset_index(drop=True)


def _bands(effects: pd.DataFrame, methods: list[str], fold_of) -> tuple[pd.DataFrame, dict]:
    """Split-conformal bands from the other folds' residuals, and their coverage per method."""
    coverage_of = {}
    for method in methods:
        half = pd.Series(np.nan, index=effects.index)
        residual = effects["observed"] - effects[method]
        for (fold, category), rows in effects.groupby(["fold", "category"]).groups.items():
            others = (effects["fold"] != fold) & (effects["category"] == category)
            half[rows] = conformal_half_width(residual[others].to_numpy())
        bands = effects.assign(lower=effects[method] - half, upper=effects[method] + half)
        coverage_of[method] = coverage(bands, "lower", "upper")
        if method == "twin":
            effects = effects.assign(twin_lower=bands["lower"], twin_upper=bands["upper"])
    return effects, coverage_of
