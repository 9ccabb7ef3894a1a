"""Grade an engine on a scenario's probe card: the battery, prompts and population of its region."""

from __future__ import annotations

from pathlib import Path

from simulator.behaviours import preset_specs
from simulator.cognition import Engine, PromptBuilder, make_engine
from simulator.cognition.probe_card import ProbeCard, run_probe_card
from simulator.cognition.probes import ProbeBattery
from simulator.errors import ScenarioError
from simulator.model import reference_population
from simulator.scenario import Scenario
from simulator.sources.indicators import DEFAULT_SHOWN
from simulator.sources.regions import get_region


def scenario_battery(scenario: Scenario) -> ProbeBattery:
    """The scenario's own battery (``probes:``), else the shipped one for Google's categories.

    Raises:
        ScenarioError: the scenario has behaviours of its own and no battery.
    """
    if scenario.probes is not None:
        return ProbeBattery.load(scenario.probes)
    shipped = {spec["name"] for spec in preset_specs("google_mobility")}
    if set(scenario.behaviour_names) <= shipped:
        return ProbeBattery.load()
    raise ScenarioError(scenario.source, "probes", "no probe card for the behaviours "
                        f"{', '.join(sorted(set(scenario.behaviour_names) - shipped))}",
                        "a probe battery file (see scenarios/probes_congestion.yaml)")


def probe_scenario(scenario: Scenario, engine: Engine | None = None,
                   cache_path: str | Path | None = None) -> ProbeCard:
    """Put the scenario's probe card to its engine (or to ``engine``).

    The prompts are the scenario's (region, indicators shown, templates), with the battery's
    routine as the reference situation; personas are limited to the attributes the region
    records.
    """
    battery = scenario_battery(scenario)
    indicators = scenario.policy.indicators
    battery.check(scenario.behaviours, indicators)
    shown = scenario.policy.shown or tuple(
        n for n in DEFAULT_SHOWN if n in indicators) or tuple(indicators)
    prompts = PromptBuilder(get_region(scenario.region).name, indicators, shown,
                            scenario.prompts, battery.signals(None))
    own = engine is None
    if own:
        engine = make_engine(scenario.engine.name, scenario.engine.options, indicators,
                             cache_path or scenario.engine.cache)
    try:
        return run_probe_card(engine, battery, scenario.behaviours, prompts,
                              reference_population(scenario.region, scenario.marginals))
    finally:
        if own:
            engine.close()
