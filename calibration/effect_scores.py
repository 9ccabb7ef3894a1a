"""How well predicted policy effects match observed ones: signs, correlations, errors, coverage.

Every figure compares, event by event and category by category, a method's predicted effect with
the observed one (:mod:`calibration.event_effects`), pooled over the categories and per category:

- ``sign_agreement``: the share of events with the observed sign, among those whose observed
  effect is above the placebo noise (a prediction of exactly 0 has no sign and does not agree);
- ``pearson`` and ``spearman``: correlation with the observed effects (``None`` for a method
  that predicts one value for every event, such as zero);
- ``mae``: mean absolute error of the effect, percentage points;
- ``coverage``: the share of observed effects inside the method's prediction interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

POOLED = "pooled"


def agreement(observed: np.ndarray, predicted: np.ndarray, above: np.ndarray) -> float | None:
    """Share of the events above the noise whose predicted sign is the observed one."""
    if not above.any():
        return None
    return float(np.mean(np.sign(predicted[above]) == np.sign(observed[above])))


def correlation(observed: np.ndarray, predicted: np.ndarray, kind: str) -> float | None:
    """Pearson or Spearman correlation, ``None`` where either side is constant or too short."""
    if len(observed) < 3 or np.ptp(predicted) == 0 or np.ptp(observed) == 0:
        return None
    test = stats.pearsonr if kind == "pearson" else stats.spearmanr
    return float(test(observed, predicted)[0])


def score(observed: np.ndarray, predicted: np.ndarray, above: np.ndarray) -> dict:
    """Every figure for one method over a set of event-categories."""
    return {
        "n": int(len(observed)),
        "n_above_noise": int(above.sum()),
        "sign_agreement": agreement(observed, predicted, above),
        "pearson": correlation(observed, predicted, "pearson"),
        "spearman": correlation(observed, predicted, "spearman"),
        "mae": float(np.mean(np.abs(predicted - observed))) if len(observed) else None,
    }


def score_table(effects: pd.DataFrame, methods: Sequence[str], threshold: pd.Series
                ) -> pd.DataFrame:
    """Figures per method, for each category and pooled over them.

    Args:
        effects: one row per event and category with ``category``, ``observed`` and a column
            per method.
        methods: the method columns.
        threshold: per category, the magnitude above which an observed effect is signal.

    Returns:
        One row per method and category (``pooled`` included): n, n_above_noise,
        sign_agreement, pearson, spearman, mae.
    """
    above = (effects["observed"].abs() > effects["category"].map(threshold)).to_numpy()
    rows = []
    parts = [(POOLED, np.ones(len(effects), dtype=bool))] + [
        (category, (effects["category"] == category).to_numpy())
        for category in sorted(effects["category"].unique())]
    for method in methods:
        for category, rows_of in parts:
            observed = effects["observed"].to_numpy()[rows_of]
            predicted = effects[method].to_numpy(dtype=float)[rows_of]
            rows.append({"method": method, "category": category,
                         **score(observed, predicted, above[rows_of])})
    return pd.DataFrame(rows)


def coverage(effects: pd.DataFrame, lower: str, upper: str) -> dict:
    """The share of observed effects inside ``[lower, upper]``, pooled and per category."""
    inside = (effects["observed"] >= effects[lower]) & (effects["observed"] <= effects[upper])
    found = {POOLED: float(inside.mean()) if len(inside) else None}
    for category, rows in inside.groupby(effects["category"]):
        found[category] = float(rows.mean())
    return found


def by_indicator(effects: pd.DataFrame, events: pd.DataFrame, methods: Sequence[str]
                 ) -> pd.DataFrame:
    """Mean observed and predicted effect per indicator, direction and category.

    An event is counted under every indicator it changed (the direction of that indicator's
    change); ``n_alone`` counts the events that changed that indicator alone.

    Args:
        effects: one row per event and category (``event``, ``category``, ``observed`` and a
            column per method).
        events: one row per event with ``event`` and ``directions`` (``name:direction`` joined
            by ``+``), as :func:`calibration.events.events_frame` writes it.
        methods: the method columns.
    """
    pairs = []
    for _, row in events.iterrows():
        changed = [part.split(":") for part in row["directions"].split("+") if part]
        for indicator, direction in changed:
            pairs.append({"event": row["event"], "indicator": indicator,
                          "direction": direction, "alone": len(changed) == 1})
    pairs = pd.DataFrame(pairs, columns=["event", "indicator", "direction", "alone"])
    joined = pairs.merge(effects, on="event")
    keys = ["indicator", "direction", "category"]
    table = joined.groupby(keys).agg(
        n_events=("event", "nunique"),
        observed=("observed", "mean"),
        **{method: (method, "mean") for method in methods})
    table.insert(1, "n_alone", joined[joined["alone"]].groupby(keys)["event"].nunique()
                 .reindex(table.index).fillna(0).astype(int))
    return table.reset_index()
