"""A counterfactual's behaviour change split: the policy's direct part and the epidemic's.

Three runs of one scenario, one seed (common random numbers), all with the epidemic fitted once
on the observed path (:mod:`simulator.epidemic.setup`):

- ``factual``: the observed policy, its simulated epidemic;
- ``variant``: the counterfactual policy, its own simulated epidemic;
- ``held``: the counterfactual policy told the factual run's cases (the epidemic held at the path
  the counterfactual did not change).

Per behaviour, over a window of ticks, as % change of the population mean from the routine:
``total = variant - factual``, ``direct = held - factual`` (the policy alone),
``through_epidemic = variant - held`` (the cases the policy changed, and the fear they carry).
With the variant "no policy at all", ``direct`` is the part of the factual fall from the routine
that the rules themselves made, the split Goolsbee and Syverson (J. Public Econ. 2021) estimated
from visits across county lines; ``policy_share`` is ``-direct / factual`` (the factual fall's
share due to policy, where the factual path fell).

The figures are the twin's own behaviour probabilities, before any calibration.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd

from simulator.epidemic.setup import behaviour_means, fit_scenario_epidemic

PARTS = ("factual", "variant", "held", "total", "direct", "through_epidemic", "policy_share")


def decompose(scenario, variant, window: tuple[dt.date, dt.date] | None = None,
              engine=None) -> pd.DataFrame:
    """The decomposition of a variant's effect (module docstring), one row per behaviour.

    Args:
        scenario: the scenario (``context.epidemic: simulated``).
        variant: the counterfactual (:class:`simulator.sweep.variants.Variant`).
        window: first and last day of the ticks averaged (default: the whole period).
        engine: the engine to answer with (default: the scenario's, closed afterwards).

    Returns:
        Columns ``behaviour`` and :data:`PARTS` (% change from the routine, and a share).
    """
    from simulator.cognition import make_engine
    from simulator.policy import PolicyTimeline
    from simulator.sweep.variants import Variant

    own = engine is None
    engine = engine or make_engine(scenario.engine.name, scenario.engine.options,
                                   scenario.policy.indicators, scenario.engine.cache)
    try:
        fit = fit_scenario_epidemic(scenario, engine)
        base = PolicyTimeline.from_scenario(scenario)
        observed = Variant("as observed").apply(base, scenario)
        changed = variant.apply(base, scenario)
        factual = _run(scenario, engine, observed, fit.parameters)
        counterfactual = _run(scenario, engine, changed, fit.parameters)
        held = _run(scenario, engine, _told(changed, factual.epidemic.frame(base.dates)), None)
    finally:
        if own:
            engine.close()
    inside = _window(base.dates, base.days, window or (scenario.start, scenario.end))
    rows = {name: _change(model, scenario, inside)
            for name, model in (("factual", factual), ("variant", counterfactual),
                                ("held", held))}
    table = pd.DataFrame(rows, index=list(scenario.behaviour_names))
    table["total"] = table["variant"] - table["factual"]
    table["direct"] = table["held"] - table["factual"]
    table["through_epidemic"] = table["variant"] - table["held"]
    table["policy_share"] = np.where(table["factual"] < 0, -table["direct"] / table["factual"],
                                     np.nan)
    return table.rename_axis("behaviour").reset_index()[["behaviour", *PARTS]]


def _run(scenario, engine, timeline, parameters):
    """A twin of the scenario on a timeline, with its own epidemic when given parameters."""
    from simulator.model import TwinModel

    model = TwinModel(scenario, engine=engine, timeline=timeline, agent_views=False)
    if parameters is not None:
        model.start_epidemic(parameters)
    model.run()
    return model


def _told(timeline, epidemic: pd.DataFrame):
    """The timeline with the cases (and their growth) of a simulated epidemic as its context."""
    held = copy.copy(timeline)
    held.context = timeline.context.copy()
    held.context["new_cases_per_100k"] = epidemic["simulated_cases_per_100k"].to_numpy()
    if "case_growth" in held.context:
        held.context["case_growth"] = epidemic["case_growth"].to_numpy()
    return held


def _window(dates: pd.DatetimeIndex, days: int, window) -> np.ndarray:
    """The ticks lying wholly inside a window of days."""
    first, last = (pd.Timestamp(d) for d in window)
    return np.asarray((dates >= first) & (dates + pd.Timedelta(days=days - 1) <= last))


def _change(model, scenario, inside: np.ndarray) -> np.ndarray:
    """Mean behaviour over the window's ticks as % change from the routine."""
    means = behaviour_means(model.trajectories(), scenario.behaviour_names)[inside]
    return 100.0 * (means.mean(axis=0) / model.baseline - 1.0)
