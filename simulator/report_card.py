"""Grade an engine on a scenario's probe card: the battery, prompts and population of its region."""

from __future__ import annotations

from pathlib import Path

from simulator.behaviours import preset_specs
from simulator.cognition import Engine, PromptBuilder, make_engine
from simulator.cognition.probe_battery import ProbeBattery
from simulator.cognition.probe_card import ProbeCard, run_probe_card
from simulator.errors import ScenarioError
from simulator.model import reference_population
from simulator.policy import policy_columns, shown_indicators
from simulator.scenario import Scenario
from simulator.sources.regions import get_region


def scenario_battery(scenario: Scenario) -> ProbeBattery | None:
    """The scenario's own battery (``probes:``), else the shipped one for Google's categories.

    The shipped battery is limited to the probes of the scenario's behaviours (a scenario may
    ask some of the six categories only); a scenario's own battery must fit it whole.

    Returns:
        The battery, checked against the scenario; ``None`` when the scenario has behaviours
        of its own and no battery.

    Raises:
        ScenarioError: the battery file is invalid or does not fit the scenario.
    """
    shipped = {spec["name"] for spec in preset_specs("google_mobility")}
    if scenario.probes is not None:
        battery = ProbeBattery.load(scenario.probes)
    elif set(scenario.behaviour_names) <= shipped:
        battery = ProbeBattery.load().of_behaviours(scenario.behaviour_names)
    else:
        return None
    if battery is None:
        return None
    battery.check(scenario.behaviours, scenario.policy.indicators)
    return battery


def probe_scenario(scenario: Scenario, engine: Engine | None = None,
                   cache_path: str | Path | None = None,
                   battery: ProbeBattery | None = None, keying: bool = True) -> ProbeCard:
    """Put the scenario's probe card (or ``battery``) to its engine (or to ``engine``).

    The prompts are the scenario's (region, indicators shown, templates), with the battery's
    routine as the reference situation; personas are limited to the attributes the region
    records. With ``keying`` the policy and context probes are also asked through the
    reverse-keyed questions (see :mod:`simulator.cognition.probe_card`).

    Raises:
        ScenarioError: no battery fits the scenario's behaviours, or the battery is invalid.
    """
    battery = battery or scenario_battery(scenario)
    if battery is None:
        shipped = {spec["name"] for spec in preset_specs("google_mobility")}
        raise ScenarioError(scenario.source, "probes", "no probe card for the behaviours "
                            f"{', '.join(sorted(set(scenario.behaviour_names) - shipped))}",
                            "a probe battery file (see scenarios/probes_congestion.yaml)")
    indicators = scenario.policy.indicators
    shown = shown_indicators(scenario.policy.shown, policy_columns(scenario.policy))
    prompts = PromptBuilder(get_region(scenario.region).name, indicators, shown,
                            scenario.prompts, battery.signals(None))
    own = engine is None
    if own:
        engine = make_engine(scenario.engine.name, scenario.engine.options, indicators,
                             cache_path or scenario.engine.cache)
    try:
        return run_probe_card(engine, battery, scenario.behaviours, prompts,
                              reference_population(scenario.region, scenario.marginals),
                              keying=keying)
    finally:
        if own:
            engine.close()
