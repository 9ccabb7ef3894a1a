"""Which battery grades a scenario's engine, and the card of a scenario."""

from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.report_card import probe_scenario, scenario_battery
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_google_mobility_scenarios_use_the_shipped_battery():
    battery = scenario_battery(load_scenario(SCENARIOS / "stay_at_home.yaml"))
    assert battery.source.endswith("probes_google_mobility.yaml")


def test_some_of_the_six_categories_get_the_shipped_probes_of_theirs():
    scenario = load_scenario(SCENARIOS / "stay_at_home.yaml")
    behaviours = tuple(b for b in scenario.behaviours if b.name in ("parks", "workplaces"))
    scenario = scenario.replace(behaviours=behaviours)
    battery = scenario_battery(scenario)
    assert {p.behaviour for p in battery.probes} == {"parks", "workplaces"}
    card = probe_scenario(scenario, keying=False)
    assert {p.behaviour for p in card.probes} == {"parks", "workplaces"}


def test_a_scenario_brings_its_own_battery():
    scenario = load_scenario(SCENARIOS / "congestion_pricing.yaml")
    battery = scenario_battery(scenario)
    assert battery.source.endswith("probes_congestion.yaml")
    card = probe_scenario(scenario)
    assert card.share_correct == 1.0
    assert {p.behaviour for p in card.probes} <= set(scenario.behaviour_names)


def test_behaviours_of_its_own_without_a_battery(tmp_path):
    scenario = load_scenario(SCENARIOS / "congestion_pricing.yaml")
    scenario = scenario.replace(probes=None)
    assert scenario_battery(scenario) is None
    with pytest.raises(ScenarioError, match="no probe card for the behaviours"):
        probe_scenario(scenario)


def test_the_card_shows_the_policy_the_run_shows():
    # A scenario of hand-written interventions shows the indicators they set (congestion charge,
    # transit fare), not the COVID indicators its catalogue also declares: a language model
    # asked about a charge must be told of the charge.
    from simulator.cognition import RulesEngine
    from simulator.model import TwinModel

    scenario = load_scenario(SCENARIOS / "congestion_pricing.yaml").replace(population_size=200)
    shown = set()

    class Recording(RulesEngine):
        def decide(self, requests):
            shown.update(r.prompts.shown for r in requests)
            return super().decide(requests)

    probe_scenario(scenario, engine=Recording(indicators=scenario.policy.indicators))
    assert shown == {TwinModel(scenario.with_engine("rules")).prompts.shown}
    assert shown == {("congestion_charge", "transit_fare")}
