"""Accounting: counted by a wrapper as answers pass."""

import copy

import pytest
from scripted_model import ScriptedModel
from test_cached_model import questions

from simulator.cognition.accounting import AccountedModel, EngineStats


def test_calls_tokens_and_cost_are_counted_as_answers_pass():
    stats = EngineStats()
    answers = list(AccountedModel(ScriptedModel(), stats).answer(questions(3)))
    assert stats.llm_calls == 3
    assert stats.tokens_in == sum(len(q.prompt) for q in questions(3))
    assert stats.cost_usd == pytest.approx(0.03)
    assert len(answers) == 3


def test_stats_since_a_snapshot():
    stats = EngineStats(llm_calls=5, cost_usd=1.0)
    before = copy.copy(stats)
    stats.llm_calls += 3
    stats.add_cost(0.5)
    delta = stats.since(before)
    assert delta.llm_calls == 3 and delta.cost_usd == pytest.approx(0.5)
    stats.add_cost(None)
    assert stats.cost_usd is None and stats.since(before).cost_usd is None
