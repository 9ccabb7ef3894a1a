"""The local model: Gemma 3 270M through llama-cpp-python (the slow tests load the real model)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import MOBILITY, PROMPTS, request, respondent
from simulator.cognition import make_engine
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.language_model import Question
from simulator.cognition.local import MIN_BATCH, ROW_GROUP, LocalModel, _batches
from simulator.cognition.options import LocalOptions, engine_options
from simulator.errors import EngineError
from simulator.sources.indicators import OXCGRT_INDICATORS

STRICT = {"c1_school_closing": 3, "c2_workplace_closing": 3, "c4_restrictions_on_gatherings": 4,
          "c6_stay_at_home_requirements": 3}
REQUESTS = [request(STRICT, new_cases_per_100k=30.0, case_growth=0.3),
            request({}, arche=respondent(1), new_cases_per_100k=0.0)]


def questions(method="cloze", behaviours=MOBILITY, requests=REQUESTS):
    """The questions an engine with this method asks for the requests."""
    engine = LanguageEngine(_Recorder(), Elicitation(method))
    engine.decide([r.__class__(r.respondent, r.signals, tuple(behaviours), r.prompts)
                   for r in requests])
    return engine.language_model.asked


class _Recorder(LocalModel):
    """Records questions without loading a model."""

    def __init__(self):
        self.asked, self.model = [], "recorder"

    def answer(self, questions):
        self.asked += questions
        return iter(())


def test_batches_start_on_row_groups_and_are_never_short_or_oversize():
    for start in range(0, 200, ROW_GROUP):
        for end in range(start + MIN_BATCH, 1400, 37):
            batches = _batches(start, end, 512)
            assert batches[0][0] == start and batches[-1][1] == end
            assert all(b == a for (_, a), (b, _) in zip(batches[:-1], batches[1:], strict=True))
            for begin, stop in batches:
                assert begin % ROW_GROUP == 0 and MIN_BATCH <= stop - begin <= 512


def test_invalid_options_are_clear_errors(tmp_path):
    with pytest.raises(EngineError, match="n_batch: 30 is out of range"):
        LocalModel(engine_options("local", {"n_batch": 30}))
    with pytest.raises(EngineError, match="not a file"):
        LocalModel(LocalOptions(model_path=str(tmp_path / "missing.gguf")))
    with pytest.raises(EngineError, match="reuse_prefix"):
        make_engine("local", {"n_gpu_layers": 4}, OXCGRT_INDICATORS, tmp_path / "c.sqlite")
    with pytest.raises(EngineError, match="verbalised_json.*not supported"):
        make_engine("local", {"elicitation": "verbalised_json"}, OXCGRT_INDICATORS,
                    tmp_path / "c.sqlite")


def test_identity_is_the_packaged_model(tmp_path):
    engine = make_engine("local", {}, OXCGRT_INDICATORS, tmp_path / "c.sqlite")
    assert engine.describe() == {"engine": "local", "model": "gemma-3-270m-q4_k_m.gguf",
                                 "elicitation": "option_tokens"}


@pytest.fixture(scope="module")
def model():
    """One loaded model for the module (answers do not depend on what it evaluated before)."""
    local = LocalModel()
    yield local
    local.close()


def answers(model, asked):
    found = dict(model.answer(asked))
    return [found[i] for i in range(len(asked))]


@pytest.mark.slow
def test_cloze_single_token_options_are_the_softmax_of_their_logits(model):
    asked = questions()[:2]
    got = answers(model, asked)
    llm = model._load()
    for question, answer in zip(asked, got, strict=True):
        assert question.options == (" Yes", " No")
        ids = llm.tokenize(question.prompt.encode(), add_bos=True)
        llm.reset()
        llm.eval(ids)
        import llama_cpp

        logits = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        yes, no = (llm.tokenize((question.prompt + o).encode(), add_bos=True)[-1]
                   for o in question.options)
        expected = np.exp([logits[yes], logits[no]])
        np.testing.assert_allclose(answer.distribution, expected / expected.sum(), atol=1e-5)
        assert answer.tokens_in > 0


@pytest.mark.slow
def test_multi_token_options_are_scored_as_whole_texts(model):
    prompt = questions()[0].prompt
    # The last two options are longer than MIN_BATCH tokens and share their first tokens: every
    # row of the last is evaluated although the key-value cache holds the one before (it once
    # failed with "zip() argument 2 is longer than argument 1").
    options = (" Not at all", " Yes, as usual", " Maybe",
               " I will go to restaurants, cafés, shopping centres, museums, libraries or cinemas"
               " on most days of this week.",
               " I will go to restaurants, cafés, shopping centres, museums, libraries or cinemas"
               " on one day of this week.")
    answers(model, [Question("warm", "", prompt, (" Yes", " No"), "cloze")])  # prompt cached
    [answer] = answers(model, [Question("k", "", prompt, options, "cloze")])
    llm = model._load()
    import llama_cpp

    assert len(llm.tokenize(options[-1].encode(), add_bos=False)) > MIN_BATCH + 1

    scores = []
    for option in options:
        ids = llm.tokenize((prompt + option).encode(), add_bos=True)
        start = len(llm.tokenize(prompt.encode(), add_bos=True))
        total = 0.0
        for position in range(start, len(ids)):
            llm.reset()
            llm.eval(ids[:position])
            logits = np.array(llama_cpp.llama_get_logits_ith(llm.ctx, -1)[:llm.n_vocab()])
            total += logits[ids[position]] - np.logaddexp.reduce(logits)
        scores.append(total)
    expected = np.exp(np.array(scores) - max(scores))
    np.testing.assert_allclose(answer.distribution, expected / expected.sum(), atol=1e-4)


@pytest.mark.slow
def test_option_digits_are_single_gemma_tokens_after_the_cue(model):
    asked = questions("option_tokens")[0]
    assert asked.prompt.endswith("Answer: ")
    llm = model._load()
    cue = llm.tokenize(asked.prompt.encode(), add_bos=True)
    for number, token in zip("123456789", model._digits, strict=True):
        assert llm.tokenize((asked.prompt + number).encode(), add_bos=True) == cue + [token]
    [answer] = answers(model, [asked])
    assert answer.distribution.shape == (2,) and answer.distribution.sum() == pytest.approx(1)


@pytest.mark.slow
def test_prefix_reuse_gives_the_distributions_of_evaluating_from_scratch(model):
    asked = questions()
    reused = answers(model, asked)
    scratch_model = LocalModel(LocalOptions(reuse_prefix=False))
    picked = [0, 3, 7, 11]
    scratch = answers(scratch_model, [asked[i] for i in picked])
    scratch_model.close()
    for i, answer in zip(picked, scratch, strict=True):
        np.testing.assert_array_equal(answer.distribution, reused[i].distribution)
    assert np.mean([a.tokens_in for a in reused]) < 0.6 * np.mean([a.tokens_in for a in scratch])


@pytest.mark.slow
def test_another_process_gives_identical_distributions(model):
    asked = questions()[4]
    [answer] = answers(model, [asked])
    script = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_local_engine import questions\n"
        "from simulator.cognition.local import LocalModel\n"
        "[(_, answer)] = list(LocalModel().answer([questions()[4]]))\n"
        "print(json.dumps([float(p).hex() for p in answer.distribution]))\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, check=True, timeout=180).stdout
    other = np.array([float.fromhex(p) for p in json.loads(out.splitlines()[-1])])
    np.testing.assert_array_equal(other, answer.distribution)


@pytest.mark.slow
def test_a_failing_question_fails_alone(model, monkeypatch):
    asked = questions()[:3]
    expected = answers(model, asked)
    llm = model._load()
    calls = []
    decode = llm._ctx.decode

    def flaky(batch):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("llama_decode returned -3")
        decode(batch)

    monkeypatch.setattr(llm._ctx, "decode", flaky)
    got = answers(model, asked)
    failed = [a for a in got if a.distribution is None]
    assert len(failed) == 1 and "llama_decode returned -3" in failed[0].error
    for answer, reference in zip(got, expected, strict=True):
        if answer.distribution is not None:
            np.testing.assert_allclose(answer.distribution, reference.distribution, atol=1e-5)


@pytest.mark.slow
def test_long_prompts_and_too_many_digit_options_are_clear_errors(model):
    short = LocalModel(LocalOptions(n_ctx=64, n_batch=64))
    with pytest.raises(EngineError, match="more than n_ctx 64"):
        list(short.answer(questions()[:1]))
    short.close()
    many = Question("k", "", "Question: Pick.\nAnswer: ", tuple("abcdefghij"), "option_tokens")
    with pytest.raises(EngineError, match="10 options"):
        list(model.answer([many]))


@pytest.mark.slow
def test_the_engine_caches_and_combines_real_answers(tmp_path):
    engine = make_engine("local", {}, OXCGRT_INDICATORS, tmp_path / "c.sqlite")
    decisions = engine.decide(REQUESTS)
    assert not decisions.failed.any() and engine.stats.llm_calls == 2 * 6
    engine.close()
    again = make_engine("local", {}, OXCGRT_INDICATORS, tmp_path / "c.sqlite")
    np.testing.assert_array_equal(again.decide(REQUESTS).probabilities,
                                  decisions.probabilities)
    assert again.stats.llm_calls == 0 and again.stats.cache_hits == 12
    again.close()
    assert PROMPTS.reference is not None
