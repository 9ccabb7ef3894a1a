import copy

import numpy as np
import pytest

from helpers import MOBILITY, archetype, request
from simulator.cognition import Answer, PromptBuilder, PromptedEngine, ResponseCache
from simulator.cognition.engine import EngineStats
from simulator.errors import EngineError
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS


class Scripted(PromptedEngine):
    """Answers option 5 with certainty, except questions containing ``fail``."""

    name = "scripted"

    def __init__(self, cache, prompts=None):
        super().__init__("m", "token_probabilities", cache, prompts)
        self.asked = []

    def answer(self, questions):
        self.asked += questions
        out = []
        for q in questions:
            if "a park," in q.suffix and "fail" in q.prefix:
                out.append(Answer(None, tokens_in=3, error="unreadable"))
            else:
                out.append(Answer(np.eye(len(q.labels))[-1], tokens_in=len(q.prompt),
                                  cost_usd=0.01))
        return out


def builder(region="Texas"):
    return PromptBuilder(region, OXCGRT_INDICATORS, DEFAULT_SHOWN)


def test_cache_first_then_the_model_and_identical_questions_once(tmp_path):
    engine = Scripted(ResponseCache(tmp_path / "c.sqlite"), builder())
    twins = [request(arche=archetype(0)), request(arche=archetype(1))]
    decisions = engine.decide(twins)
    assert decisions.probabilities.shape == (2, 6)
    np.testing.assert_allclose(decisions.probabilities, 1.0)
    assert len(engine.asked) == 6, "two archetypes with the same persona share their questions"
    assert engine.stats.llm_calls == 6 and engine.stats.questions == 12
    assert engine.stats.cost_usd == pytest.approx(0.06)
    again = Scripted(ResponseCache(tmp_path / "c.sqlite"), builder())
    again.decide(twins)
    assert again.asked == [] and again.stats.cache_hits == 12


def test_failed_answers_are_nan_counted_and_not_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    engine = Scripted(cache, builder())
    failing = archetype()
    failing = failing.__class__(0, {**failing.attributes, "note": "fail"}, failing.traits, 1)
    decisions = engine.decide([request(arche=failing)])
    parks = [b.name for b in MOBILITY].index("parks")
    assert np.isnan(decisions.probabilities[0, parks])
    assert decisions.failed.sum() == 1 and engine.stats.failed_answers == 1
    assert len(cache) == 5


def test_a_shared_engine_renders_with_the_model_it_is_bound_to(tmp_path):
    engine = Scripted(ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(EngineError, match="no prompt builder"):
        engine.decide([request()])
    engine.bind(builder("Texas"))
    engine.decide([request()])
    engine.bind(builder("Ohio"))
    engine.decide([request()])
    prompts = {q.prefix.splitlines()[0] for q in engine.asked}
    assert prompts == {"Survey of residents of Texas.", "Survey of residents of Ohio."}


def test_stats_since_a_snapshot():
    stats = EngineStats(llm_calls=5, cost_usd=1.0)
    before = copy.copy(stats)
    stats.llm_calls += 3
    stats.add_cost(0.5)
    delta = stats.since(before)
    assert delta.llm_calls == 3 and delta.cost_usd == pytest.approx(0.5)
    stats.add_cost(None)
    assert stats.cost_usd is None and stats.since(before).cost_usd is None
