"""Each method's counterfactual effect of each event, out of sample by region.

Regions are split into folds. For every fold, each method is fitted on the other folds' regions
(every week of the period) and asked, for each event of the fold's regions, for its predictions
on two paths that differ only by the event: the observed one, and the one with the event undone
(its indicators held at week -1's level from week 0 to week +4; the stringency index moved by the
difference the formula gives; for the twin, the simulated aggregates of the branch that undid the
event). The effect is the mean difference of the two predictions over weeks +1..+4, in the
metric's units. So every method builds its counterfactual the same way, and none has seen the
region it is scored on.

Methods: the calibrated twin; the signal baselines of the time-split protocol (gradient boosting
on the indicators and case context, on every context signal, ridge on the stringency index, and
the twin's calibrator on the indicators); a pure event study (:func:`fit_event_study`); and zero.
Persistence predicts no effect (it is zero) and ``gbm_regions`` needs the region, which a held-out
region is not, so neither is repeated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from calibration.baselines import CalibratedTwin, Method
from calibration.evaluate import SIM_PREFIX, baseline_methods, choose_calibrator
from calibration.events import POST_WEEKS, PolicyEvent
from simulator.sources.indicators import stringency_index

EVENT_STUDY = "event_study"
ZERO = "zero"
NOT_REPEATED = ("persistence", "gbm_regions")
"""Time-split baselines whose counterfactual effect says nothing (see the module docstring)."""
EVENT_STUDY_ALPHA = 1.0
"""Ridge penalty of the event study on the level changes (small: the changes are 0-4 levels)."""


def region_folds(codes: Sequence[str], folds: int, seed: int) -> dict[str, int]:
    """Each region's fold: a seeded shuffle dealt round-robin into ``min(folds, n)`` folds."""
    order = np.random.default_rng(seed).permutation(len(codes))
    count = min(folds, len(codes))
    return {codes[i]: int(k % count) for k, i in enumerate(order)}


def fold_methods(inputs: pd.DataFrame, targets: pd.DataFrame, engine: str) -> list[Method]:
    """The twin and the signal baselines, each with its settings chosen on these rows alone."""
    features = [c for c in inputs.columns if c.startswith(SIM_PREFIX)]
    alpha, lags, effects, _ = choose_calibrator(inputs, targets, features)
    twin = CalibratedTwin(features, alpha, lags, effects, name="twin",
                          description=f"the calibrated twin ({engine}): its two runs mapped to "
                          f"metric units by its calibrator (alpha={alpha:g}, lags={lags}, region "
                          f"effects {effects})")
    baselines = [m for m in baseline_methods(inputs, targets)[0]
                 if m.name not in NOT_REPEATED]
    return [twin, *baselines]


def event_paths(rows: pd.DataFrame, event: PolicyEvent, branch: pd.DataFrame | None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The region's input rows up to week +4 on the observed path and with the event undone.

    Args:
        rows: the region's input rows (region, week, indicators, ``stringency_index``, context,
            ``sim_*``), in week order.
        event: the event.
        branch: the twin's aggregates on the undone path (region, week, ``sim_*``), or None.
    """
    last = event.week + pd.Timedelta(weeks=POST_WEEKS[-1])
    factual = rows[rows["week"] <= last].copy()
    undone = factual.copy()
    held = ((undone["week"] >= event.week) & (undone["week"] <= last)).to_numpy()
    for name, level in event.held.items():
        if name in undone.columns:
            undone.loc[held, name] = level
    if "stringency_index" in undone.columns and held.any():
        formula = lambda frame: np.array([stringency_index(r) for r in  # noqa: E731
                                          frame.loc[held].to_dict("records")])
        undone.loc[held, "stringency_index"] += formula(undone) - formula(factual)
    if branch is not None:
        simulated = [c for c in branch.columns if c.startswith(SIM_PREFIX)]
        values = branch.set_index("week")[simulated].reindex(undone.loc[held, "week"])
        undone.loc[held, simulated] = values.to_numpy()
    return factual, undone


def predicted_effects(methods: Sequence[Method], paths: Mapping[str, tuple], metrics: Sequence[str]
                      ) -> dict[str, pd.DataFrame]:
    """Every method's effect of every event: mean over weeks +1..+4 of factual minus undone.

    Args:
        methods: fitted methods.
        paths: event key -> (event, factual rows, undone rows) from :func:`event_paths`.
        metrics: the observed metrics.

    Returns:
        method -> frame indexed by event key, one column per metric.
    """
    if not paths:
        return {m.name: pd.DataFrame(columns=list(metrics)) for m in methods}
    # One frame for all events: each path is its own group, so lags never cross paths.
    stacked, post = [], []
    for key, (event, factual, undone) in paths.items():
        weeks = factual["week"]
        after = ((weeks > event.week) &
                 (weeks <= event.week + pd.Timedelta(weeks=POST_WEEKS[-1]))).to_numpy()
        for side, frame in (("factual", factual), ("undone", undone)):
            stacked.append(frame.assign(region=f"{key}|{side}"))
            post.append(pd.DataFrame({"event": key, "side": side, "post": after}))
    stacked = pd.concat(stacked, ignore_index=True)
    labels = pd.concat(post, ignore_index=True)
    found = {}
    for method in methods:
        predicted = method.predict(stacked)[list(metrics)]
        predicted = predicted[labels["post"].to_numpy()]
        keys = labels.loc[labels["post"], ["event", "side"]]
        means = predicted.groupby([keys["event"].to_numpy(), keys["side"].to_numpy()]).mean()
        found[method.name] = means.xs("factual", level=1) - means.xs("undone", level=1)
    return found


def change_features(events: Sequence[PolicyEvent], indicators: Sequence[str]) -> pd.DataFrame:
    """Levels tightened and loosened per indicator by each event (rows: event keys)."""
    rows = {}
    for event in events:
        row = dict.fromkeys([f"{n}:{d}" for n in indicators for d in ("tighten", "loosen")], 0.0)
        for name, level in event.held.items():
            moved = event.after.get(name, level) - level
            if name in indicators and np.isfinite(moved):
                row[f"{name}:{'tighten' if moved > 0 else 'loosen'}"] = abs(moved)
        rows[event.key] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def fit_event_study(features: pd.DataFrame, observed: pd.DataFrame) -> dict[str, Ridge]:
    """The pure event-study prediction: observed effects on the levels each event changed.

    One term per indicator and direction (levels tightened, levels loosened), no intercept, a
    small ridge penalty; for events that changed one indicator, this is the average observed
    effect of that indicator and direction per level, and bundles are predicted as the sum of
    their parts.

    Args:
        features: :func:`change_features` of the training events.
        observed: observed effects of the same events (rows) per metric (columns; NaN where the
            metric was not scored).
    """
    models = {}
    for metric in observed.columns:
        rows = observed[metric].notna().to_numpy()
        models[metric] = Ridge(alpha=EVENT_STUDY_ALPHA, fit_intercept=False).fit(
            features.to_numpy()[rows], observed[metric].to_numpy()[rows])
    return models
