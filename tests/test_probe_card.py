"""The report card: effects, shares correct, and baselines that carry no information."""

import numpy as np
import pytest
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS
from simulator.cognition import RulesEngine
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.engine import Decisions, Engine
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.probe_card import run_probe_card
from simulator.cognition.probes import ProbeBattery
from simulator.population import Population
from simulator.sources.indicators import OXCGRT_INDICATORS


@pytest.fixture(scope="module")
def population():
    return Population.synthesize("USA", 6000, np.random.default_rng(3))


@pytest.fixture(scope="module")
def battery():
    return ProbeBattery.load()


def card(engine, battery, population, permutations=300):
    return run_probe_card(engine, battery, MOBILITY, PROMPTS, population, permutations)


def test_the_rules_engine_follows_the_literature(battery, population):
    result = card(RulesEngine(OXCGRT_INDICATORS), battery, population)
    assert result.share_correct == 1.0 and result.persona_share_correct == 1.0
    assert result.skipped == [] and len(result.probes) == len(battery.probes)
    shuffled = result.baselines["shuffled_situations"]["share_correct"]
    assert 0.2 < shuffled < 0.8
    assert 0.2 < result.baselines["shuffled_personas"]["persona_share_correct"] < 0.8


class Uniform(Engine):
    name = "uniform"

    def decide(self, requests):
        return Decisions(np.full((len(requests), len(requests[0].behaviours)), 0.5))


def test_an_engine_that_ignores_everything_gets_nothing_right(battery, population):
    result = card(Uniform(), battery, population)
    assert result.share_correct == 0.0 and result.persona_share_correct == 0.0
    assert result.baselines["uniform"] == {"share_correct": 0.0, "persona_share_correct": 0.0}


def test_a_language_model_that_reads_restrictions_beats_the_shuffled_baseline(
        battery, population):
    engine = LanguageEngine(ScriptedModel(), Elicitation("cloze", balanced=True))
    result = card(engine, battery, population)
    lockdown = {p.name: p for p in result.probes if p.name.startswith("lockdown")}
    assert all(p.correct for p in lockdown.values())
    assert lockdown["lockdown_residential"].effect > 0
    assert result.share_correct > result.baselines["shuffled_situations"]["share_correct"]
    assert result.llm_calls > 0


def test_probes_of_attributes_a_region_does_not_record_are_skipped(battery):
    france = Population.synthesize("FRA", 3000, np.random.default_rng(1))
    result = card(RulesEngine(OXCGRT_INDICATORS), battery, france)
    skipped = " ".join(result.skipped)
    assert "republican_retail_stay_at_home" in skipped and "party" in skipped
    assert all("republican" not in p.name for p in result.probes)


def test_json_has_the_headline_keys(battery, population):
    data = card(RulesEngine(OXCGRT_INDICATORS), battery, population, 50).to_json()
    assert {"share_correct", "persona_share_correct", "baselines", "probes"} <= set(data)
    assert set(data["baselines"]) == {"uniform", "shuffled_situations", "shuffled_personas"}
    assert {"name", "kind", "expected_sign", "effect", "correct"} <= set(data["probes"][0])
