"""The report card: effects, shares correct, and baselines that carry no information."""

import json

import numpy as np
import pytest
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS
from simulator.cognition import RulesEngine
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.engine import Decisions, Engine
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.probe_battery import ProbeBattery
from simulator.cognition.probe_card import ProbeCard, run_probe_card
from simulator.outputs import probe_section
from simulator.population import Population
from simulator.sources.indicators import OXCGRT_INDICATORS
from socialtwin.main import main
from socialtwin.probe import card_text


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


class NaySayer(ScriptedModel):
    """Says "no" more often the more alarming the situation, whatever the question asks."""

    def yes(self, prompt):
        situation = next((x for x in prompt.splitlines()
                          if x.startswith("Situation this week:")), "").lower()
        logit = 1.0 - 0.3 * sum(situation.count(w) for w in self.restrictive)
        return 1.0 / (1.0 + np.exp(-logit))


def test_reverse_keyed_questions_expose_a_model_that_only_says_no_when_alarmed(
        battery, population):
    nay = run_probe_card(LanguageEngine(NaySayer(), Elicitation("option_tokens")), battery,
                         MOBILITY, PROMPTS, population, 50, keying=True)
    assert nay.share_correct > nay.baselines["shuffled_situations"]["share_correct"], \
        "forward questions alone flatter it: most probes expect less going out"
    moved = [p for p in nay.probes if p.kind != "persona" and p.effect != 0]
    assert moved and not any(p.keyings_agree for p in moved)
    assert nay.keying_agreement < 0.2 and nay.reverse_keyed_share_correct < nay.share_correct
    reader = run_probe_card(LanguageEngine(ScriptedModel(), Elicitation("option_tokens")),
                            battery, MOBILITY, PROMPTS, population, 50, keying=True)
    moved = [p for p in reader.probes if p.kind != "persona" and p.effect != 0]
    assert moved and all(p.keyings_agree for p in moved)
    assert reader.keying_agreement == pytest.approx(len(moved) / sum(
        p.kind != "persona" for p in reader.probes))


def test_keying_is_asked_only_when_wanted_and_informative(battery, population):
    nay = LanguageEngine(NaySayer(), Elicitation("option_tokens"))
    plain = card(nay, battery, population, 50)
    assert plain.keying_agreement is None and plain.probes[0].effect_reverse_keyed is None
    for engine in (RulesEngine(OXCGRT_INDICATORS),  # reads no questions
                   LanguageEngine(NaySayer(), Elicitation("option_tokens", balanced=True))):
        keyed = run_probe_card(engine, battery, MOBILITY, PROMPTS, population, 50, keying=True)
        assert keyed.keying_agreement is None and keyed.reverse_keyed_share_correct is None
        assert all(p.effect_reverse_keyed is None for p in keyed.probes)


def test_a_probe_whose_answers_failed_is_named_not_read_as_no_effect(battery, population):
    failing = LanguageEngine(ScriptedModel(fail="many new"), Elicitation("option_tokens"))
    result = run_probe_card(failing, battery, MOBILITY, PROMPTS, population, 50, keying=True)
    in_many_cases = {p.name for p in battery.probes
                     if "many_cases" in (p.a, p.b, p.situation)}
    assert in_many_cases and set(result.unanswered) == in_many_cases
    for probe in result.probes:
        if probe.name in in_many_cases:
            assert probe.effect is None and not probe.correct and not probe.answered
            assert probe.keyings_agree is None
            assert probe.kind == "persona" or probe.reverse_keyed_answered is False
        else:
            assert probe.effect is not None and probe.answered
    assert set(result.reverse_unanswered) == {p.name for p in battery.probes
                                              if p.kind != "persona" and p.name in in_many_cases}
    # The scripted model answers both keyings consistently: over the probes answered both
    # ways, every one that moved agrees (failed answers are not read as disagreement).
    graded = [p for p in result.probes if p.keyings_agree is not None]
    assert graded and not {p.name for p in graded} & in_many_cases
    assert result.keying_agreement == pytest.approx(
        sum(p.effect != 0 for p in graded) / len(graded))
    assert all(p.keyings_agree for p in graded if p.effect != 0)
    assert result.last_error == "unreadable"
    json.dumps(result.to_json(), allow_nan=False)
    text = card_text(result)
    assert "no answer" in text and "Last error: unreadable." in text
    assert "keyings disagree" not in text
    assert "cases_retail" in " ".join(probe_section(result))


def test_probe_fails_when_every_probe_is_unanswered(battery, population, monkeypatch, capsys):
    failing = LanguageEngine(ScriptedModel(fail="Survey"), Elicitation("option_tokens"))
    result = card(failing, battery, population, 20)
    assert len(result.unanswered) == len(result.probes) and result.share_correct == 0
    monkeypatch.setattr("simulator.report_card.probe_scenario", lambda *a, **k: result)
    assert main(["probe"]) == 1
    assert "every probe's answers failed; last error: unreadable" in capsys.readouterr().err


def test_json_has_no_nan_when_a_kind_of_probe_is_missing():
    empty = ProbeCard({"engine": "x"}, [], [], float("nan"), None,
                      {"uniform": {"share_correct": float("nan"), "persona_share_correct": None}})
    data = json.loads(json.dumps(empty.to_json(), allow_nan=False))
    assert data["share_correct"] is None
