"""The language-model engine: questions rendered per elicitation, cache first, items combined."""

import dataclasses

import numpy as np
import pytest
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS, request, respondent
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.prompts import PromptBuilder
from simulator.cognition.response_cache import ResponseCache
from simulator.errors import EngineError
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS

CLOZE = Elicitation("cloze")


def engine(tmp_path, elicitation=CLOZE, model=None, name="c.sqlite"):
    return LanguageEngine(model or ScriptedModel(), elicitation,
                          ResponseCache(tmp_path / name))


def test_cache_first_then_the_model_and_identical_questions_once(tmp_path):
    first = engine(tmp_path)
    twins = [request(arche=respondent(0)), request(arche=respondent(1))]
    decisions = first.decide(twins)
    assert decisions.probabilities.shape == (2, 6)
    assert len(first.model.inner.inner.asked) == 6, "personas with one prompt share questions"
    assert first.stats.llm_calls == 6 and first.stats.questions == 6
    assert first.stats.cost_usd == pytest.approx(0.06)
    again = engine(tmp_path)
    np.testing.assert_array_equal(again.decide(twins).probabilities, decisions.probabilities)
    assert again.model.inner.inner.asked == [] and again.stats.cache_hits == 6


def test_cloze_questions_score_option_texts_after_the_cue(tmp_path):
    model = ScriptedModel()
    engine(tmp_path, model=model).decide([request()])
    question = model.asked[0]
    assert question.method == "cloze" and question.options == (" Yes", " No")
    assert question.prompt.endswith("Answer:") and "1. Yes" not in question.prompt
    assert question.labels == ("Yes", "No"), "what a reader is shown: the texts, no space"


def test_option_tokens_list_numbered_options(tmp_path):
    model = ScriptedModel()
    engine(tmp_path, Elicitation("option_tokens"), model).decide([request()])
    question = model.asked[0]
    assert question.options == ("Yes", "No") and "1. Yes\n2. No\n" in question.prompt
    assert question.prompt.endswith("Answer: ")


def test_failed_answers_are_nan_counted_and_not_cached(tmp_path):
    cache_engine = engine(tmp_path)
    failing = respondent()
    failing = dataclasses.replace(failing, attributes={**failing.attributes, "note": "fail"})
    decisions = cache_engine.decide([request(arche=failing), request()])
    assert decisions.failed[0].all() and not decisions.failed[1].any()
    assert decisions.failed.sum() == 6
    assert len(cache_engine.model.cache) == 6


def test_prompts_travel_with_each_request(tmp_path):
    model = ScriptedModel()
    shared = engine(tmp_path, model=model)
    ohio, texas = PROMPTS, PromptBuilder("Texas", OXCGRT_INDICATORS, DEFAULT_SHOWN)
    shared.decide([request(prompts=ohio), request(prompts=texas)])
    assert {q.prefix.splitlines()[0] for q in model.asked} == {
        "Survey of residents of Ohio.", "Survey of residents of Texas."}
    with pytest.raises(EngineError, match="no prompt builder"):
        shared.decide([request(prompts=None)])


def test_balanced_keying_asks_the_reverse_question_and_cancels_a_yes_bias(tmp_path):
    class YesSayer(ScriptedModel):
        def yes(self, prompt):
            return min(0.999, super().yes(prompt) + 0.3)

    balanced = engine(tmp_path, Elicitation("cloze", balanced=True), YesSayer())
    [decision] = balanced.decide([request(behaviours=MOBILITY[:1])]).probabilities
    asked = balanced.language_model.asked
    assert [q.suffix.split("\n")[0] for q in asked] == [
        f"Question: {MOBILITY[0].question}", f"Question: {MOBILITY[0].reverse_question}"]
    truth = ScriptedModel().yes(asked[0].prompt)
    plain = engine(tmp_path, CLOZE, YesSayer(), "plain.sqlite").decide(
        [request(behaviours=MOBILITY[:1])]).probabilities[0, 0]
    assert abs(decision[0] - truth) < abs(plain - truth)


def test_all_wordings_ask_every_paraphrase_of_the_question(tmp_path):
    worded = engine(tmp_path, Elicitation("option_tokens", wordings="all"))
    worded.decide([request(behaviours=MOBILITY[:1])])
    asked = [q.suffix.split("\n")[0] for q in worded.language_model.asked]
    assert asked == [f"Question: {text}" for text in MOBILITY[0].wordings]
    assert len(MOBILITY[0].wordings) == 3, "the preset declares two paraphrases per question"


def test_reference_debiasing_makes_the_routine_neutral(tmp_path):
    debiased = engine(tmp_path, Elicitation("cloze", debias="reference"))
    routine = dataclasses.replace(request(), signals=PROMPTS.reference)
    np.testing.assert_allclose(debiased.decide([routine]).probabilities, 0.5)
    lockdown = debiased.decide([request({"c2_workplace_closing": 3,
                                         "c6_stay_at_home_requirements": 3})])
    going_out = [b.expected_response < 0 for b in MOBILITY]
    assert np.all(lockdown.probabilities[0, going_out] < 0.5)
    assert lockdown.probabilities[0, ~np.array(going_out)][0] > 0.5
    with pytest.raises(EngineError, match="routine situation"):
        debiased.decide([request(prompts=PromptBuilder("Ohio", OXCGRT_INDICATORS,
                                                       DEFAULT_SHOWN))])


def test_content_free_debiasing_asks_the_situation_n_a(tmp_path):
    model = ScriptedModel()
    engine(tmp_path, Elicitation("cloze", debias="content_free"), model).decide([request()])
    assert any("Situation this week: N/A\n" in q.prompt for q in model.asked)


def test_invalid_elicitation_is_named_before_any_call(tmp_path):
    with pytest.raises(EngineError, match="debias: 'sometimes'"):
        engine(tmp_path, Elicitation("cloze", debias="sometimes"))
    with pytest.raises(EngineError, match="option_orders: 'both' needs listed options"):
        engine(tmp_path, Elicitation("cloze", option_orders="both"))

    class DigitsOnly(ScriptedModel):
        methods = ("option_tokens",)

    with pytest.raises(EngineError, match="not supported by this model"):
        engine(tmp_path, CLOZE, DigitsOnly())


def test_describe_names_model_and_elicitation(tmp_path):
    described = engine(tmp_path, Elicitation("cloze", balanced=True)).describe()
    assert described == {"engine": "scripted", "model": "scripted-1",
                         "elicitation": "cloze+balanced"}
