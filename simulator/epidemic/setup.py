"""A twin's epidemic fitted before its run: the contacts of the observed path, then the cases.

The epidemic's parameters are fitted per region to the observed cases of the fit window
(``context.epidemic_fit_until``) with the contacts that the twin's own behaviour implies on the
observed path: a run of the scenario's engine on the observed policy and context, at
:data:`FIT_AGENTS` agents (the cells and their answers are the same at any size, so a language
model is asked nothing the response cache does not already hold after the first run, and at a
million agents the fit costs a small fraction of the run). Two stages, not one loop: the
contacts are those of the observed cases, and the fitted epidemic then makes its own.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simulator.epidemic.contacts import ContactShares
from simulator.epidemic.fitting import EpidemicFit, EpidemicInputs, fit_epidemic
from simulator.errors import ScenarioError

FIT_AGENTS = 2_000
"""Agents of the run whose behaviour gives the contacts the epidemic is fitted with."""


def fit_scenario_epidemic(scenario, engine) -> EpidemicFit:
    """Fit the epidemic of a scenario's region on its fit window.

    Args:
        scenario: the scenario (``context.epidemic: simulated``).
        engine: the engine the run answers with (shared; not closed here).

    Raises:
        ScenarioError: the region has no observed cases in the fit window.
    """
    from simulator.model import TwinModel
    from simulator.policy import PolicyTimeline

    small = scenario.replace(population_size=min(scenario.population_size, FIT_AGENTS))
    timeline = PolicyTimeline.from_scenario(small)
    context = check_case_counts(scenario, timeline)
    model = TwinModel(small, engine=engine, timeline=timeline, agent_views=False)
    model.run()
    until = fit_window(scenario)
    inputs = epidemic_inputs(model.trajectories(), model.baseline, scenario, timeline)
    fitted = timeline.dates + pd.Timedelta(days=timeline.days - 1) <= pd.Timestamp(until)
    try:
        return fit_epidemic(inputs, context["new_cases_per_100k"].to_numpy(float),
                            np.asarray(fitted))
    except ValueError as error:
        raise ScenarioError(scenario.source, "context.epidemic_fit_until", str(error),
                            "a fit window with at least four ticks of reported cases") from None


def check_case_counts(scenario, timeline=None) -> pd.DataFrame:
    """The context of a scenario whose epidemic is simulated, if it has case counts to fit to.

    Args:
        scenario: the scenario.
        timeline: its timeline (built from the scenario when ``None``).

    Raises:
        ScenarioError: the region has no observed case counts in the period.
    """
    from simulator.policy import PolicyTimeline

    context = (timeline if timeline is not None else PolicyTimeline.from_scenario(scenario)).context
    if "new_cases_per_100k" not in context:
        raise ScenarioError(scenario.source, "context.epidemic",
                            f"{scenario.region} has no observed case counts to fit the "
                            "epidemic to", "context.epidemic: observed, or a region with "
                            "case counts")
    return context


def epidemic_inputs(trajectories: pd.DataFrame, routine: np.ndarray, scenario, timeline
                    ) -> EpidemicInputs:
    """The epidemic's inputs of a run: each tick's contacts are the tick before's behaviour.

    Args:
        trajectories: the run's trajectories (:meth:`simulator.model.TwinModel.trajectories`).
        routine: the population's mean behaviour in the routine.
        scenario: the scenario (the behaviours' contact shares).
        timeline: the run's timeline (days, temperature, vaccination).
    """
    means = behaviour_means(trajectories, scenario.behaviour_names)
    multiplier = ContactShares.of(scenario.behaviours).multiplier(means, routine)
    contacts = np.concatenate([[1.0], multiplier[:-1]])
    context = timeline.context
    column = lambda name: context[name].to_numpy(float) if name in context else None  # noqa: E731
    return EpidemicInputs(timeline.days, contacts, column("temperature_f"),
                          column("vaccinated_pct"))


def behaviour_means(trajectories: pd.DataFrame, behaviours) -> np.ndarray:
    """The population's mean probability per tick (from tick 0), shape (T, B)."""
    everyone = trajectories[(trajectories["group"] == "all") & (trajectories["tick"] >= 0)]
    wide = everyone.pivot(index="tick", columns="behaviour", values="value")
    return wide[list(behaviours)].to_numpy(float)


def fit_window(scenario) -> dt.date:
    """The last day the epidemic is fitted on."""
    return scenario.context.epidemic_fit_until or scenario.end
