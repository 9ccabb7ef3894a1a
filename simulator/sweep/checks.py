"""Plausibility checks of a sweep: is each response monotonic in the policy dose, and bounded?

Monotonic: for each behaviour that declares an ``expected_response`` (-1 falls, +1 rises under a
stronger policy), the period mean of the population's value, averaged over seeds, must move in
the expected direction at every step between successive doses — or stay within the seed noise
of that step. The noise of a step is the standard error of its paired difference across seeds
(common random numbers make it small); the tolerance is ``NOISE_SE`` standard errors, and at
least ``MIN_TOLERANCE`` of the quantity. A grid with other axes is checked along the dose axis
within each combination of the other axes (a series). The same check runs on the calibrated
metrics. Flat responses pass (monotonic, not strictly); the table shows their range.

Bounded: every simulated value is a probability in [0, 1]; every calibrated value lies in
[-100, U] percentage points, where -100 is the physical floor of a % change in visits and U is
``max(100, 1.5 x the largest weekly value of the metric in any region of the shipped observed
data)`` (US states and every country; for parks, whose summer peaks reach +476 in South Dakota,
U = 714; for workplaces, +141.5 in Réunion, U = 212): a calibrated counterfactual beyond it
extrapolates far outside anything observed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from simulator.behaviours import Behaviour
from simulator.sources import load_observed
from simulator.sweep.variants import VariantSet

NOISE_SE = 2.0
"""Standard errors of a step's paired seed difference that a step against the sign may take."""

MIN_TOLERANCE = {"value": 0.002, "calibrated": 0.2}
"""Smallest tolerance: 0.2 percentage points of probability, or 0.2 points of a metric."""

CALIBRATED_FLOOR = -100.0
CHECK_COLUMNS = ("check", "quantity", "behaviour", "series", "expected", "doses", "means",
                 "spearman", "worst_step", "tolerance", "passed", "detail")


def check_sweep(means: pd.DataFrame, results: pd.DataFrame, calibrated: pd.DataFrame | None,
                variants: VariantSet, behaviours: Sequence[Behaviour]) -> pd.DataFrame:
    """Every plausibility check of a sweep, one row each.

    Args:
        means: period means per variant, seed, behaviour and quantity (see
            :func:`simulator.sweep.runner.period_means`).
        results: the tidy simulated results.
        calibrated: the tidy calibrated results, or ``None``.
        variants: the variant set (doses and grid axes).
        behaviours: the scenario's behaviours (their ``expected_response``).

    Returns:
        Columns: check (``monotonic`` or ``bounded``), quantity, behaviour, series, expected,
        doses, means, spearman, worst_step (the largest step against the expected sign, in the
        quantity's units), tolerance, passed, detail.
    """
    rows = []
    quantities = ["value"] + (["calibrated"] if calibrated is not None else [])
    for behaviour in behaviours:
        if behaviour.expected_response == 0:
            continue
        for quantity in quantities:
            part = means[(means["behaviour"] == behaviour.name) & (means["quantity"] == quantity)]
            if part.empty:
                continue
            for series, members in dose_series(variants).items():
                rows.append(monotonic(part, members, behaviour, quantity, series))
    rows += bounded(results, calibrated, behaviours)
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS)).astype({"expected": "Int64"})


def dose_series(variants: VariantSet) -> dict[str, dict[str, float]]:
    """Series of variants along the dose: series label -> {variant name: dose}.

    Variants without a dose are left out; a grid is split by the values of its other axes; a
    series needs at least two distinct doses.
    """
    others = [a for a in variants.axes if a != variants.dose_axis]
    series: dict[str, dict[str, float]] = {}
    for variant in variants:
        if variant.dose is None:
            continue
        label = ",".join(f"{a}={variant.axes[a]:g}" for a in others if a in variant.axes) \
            or "all"
        series.setdefault(label, {})[variant.name] = float(variant.dose)
    return {k: v for k, v in series.items() if len(set(v.values())) >= 2}


def monotonic(means: pd.DataFrame, doses: dict[str, float], behaviour: Behaviour,
              quantity: str, series: str) -> dict:
    """Whether one behaviour's period mean moves with the dose in the expected direction.

    Args:
        means: period means of this behaviour and quantity (variant, seed, mean).
        doses: variant name -> dose of the series.
        behaviour: the behaviour.
        quantity: ``value`` or ``calibrated``.
        series: the series label.
    """
    wide = means[means["variant"].isin(doses)].pivot(index="seed", columns="variant",
                                                     values="mean")
    order = sorted(doses, key=doses.get)
    wide = wide[order]
    sign = behaviour.expected_response
    steps = wide.diff(axis=1).iloc[:, 1:].to_numpy()
    mean_steps = steps.mean(axis=0)
    n = len(wide)
    se = steps.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(steps.shape[1])
    tolerance = np.maximum(NOISE_SE * se, MIN_TOLERANCE[quantity])
    against = -sign * mean_steps
    worst = int(np.argmax(against - tolerance))
    mean_curve = wide.mean(axis=0).to_numpy()
    rho = stats.spearmanr([doses[v] for v in order], mean_curve).statistic \
        if np.ptp(mean_curve) > 0 else float("nan")
    passed = bool(np.all(against <= tolerance))
    if passed:
        detail = f"range {np.ptp(mean_curve):.4g}"
    else:
        detail = (f"{'rises' if sign < 0 else 'falls'} by {against[worst]:.4g} from dose "
                  f"{doses[order[worst]]:g} to {doses[order[worst + 1]]:g}")
    return {
        "check": "monotonic", "quantity": quantity, "behaviour": behaviour.name,
        "series": series, "expected": sign,
        "doses": ", ".join(f"{doses[v]:g}" for v in order),
        "means": ", ".join(f"{m:.4g}" for m in mean_curve),
        "spearman": float(rho), "worst_step": float(max(against.max(), 0.0)),
        "tolerance": float(tolerance[worst]), "passed": passed, "detail": detail,
    }


def bounded(results: pd.DataFrame, calibrated: pd.DataFrame | None,
            behaviours: Sequence[Behaviour]) -> list[dict]:
    """Rows of the bounds checks: simulated values in [0, 1], calibrated in the sane range."""
    rows = []
    for behaviour in behaviours:
        values = results.loc[results["behaviour"] == behaviour.name, "value"]
        rows.append(_bounds_row("value", behaviour.name, values, 0.0, 1.0))
    if calibrated is not None:
        for metric, part in calibrated.groupby("metric", sort=False):
            low, high = calibrated_range(metric)
            rows.append(_bounds_row("calibrated", str(metric), part["calibrated"], low, high))
    return rows


def calibrated_range(metric: str) -> tuple[float, float]:
    """The sane range of a calibrated metric (see the module docstring)."""
    return CALIBRATED_FLOOR, max(100.0, 1.5 * _largest_observed().get(metric, 0.0))


@functools.cache
def _largest_observed() -> dict[str, float]:
    """The largest weekly value of each observed metric over every region shipped."""
    mobility = load_observed().mobility.drop(columns=["region", "week"])
    return {str(k): float(v) for k, v in mobility.max().items()}


def _bounds_row(quantity: str, behaviour: str, values: pd.Series, low: float,
                high: float) -> dict:
    finite = values.dropna()
    passed = bool(len(finite) and finite.between(low, high).all())
    detail = f"observed {finite.min():.4g} to {finite.max():.4g}" if len(finite) else "no values"
    return {"check": "bounded", "quantity": quantity, "behaviour": behaviour, "series": "all",
            "expected": None, "doses": "", "means": "", "spearman": float("nan"),
            "worst_step": float("nan"), "tolerance": float("nan"), "passed": passed,
            "detail": f"[{low:g}, {high:g}]; {detail}"}
