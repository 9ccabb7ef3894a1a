"""The local engine: Gemma 3 270M through llama-cpp-python (the slow tests load the real model)."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import MOBILITY, archetype, request
from simulator.cognition import make_engine
from simulator.cognition.cache import ResponseCache
from simulator.cognition.engine import DecisionRequest
from simulator.cognition.local import MIN_BATCH, ROW_GROUP, LocalEngine, _batches
from simulator.cognition.prompts import PromptBuilder
from simulator.errors import EngineError
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS

PROMPTS = PromptBuilder("California", OXCGRT_INDICATORS, DEFAULT_SHOWN)
NAMES = [b.name for b in MOBILITY]
STRICT = {"c1_school_closing": 3, "c2_workplace_closing": 3, "c4_restrictions_on_gatherings": 4,
          "c6_stay_at_home_requirements": 3}
MANY_CASES = {"new_cases_per_100k": 30.0, "case_growth": 0.3}
NO_CASES = {"new_cases_per_100k": 0.0, "case_growth": 0.0}
OLDER = archetype(0)
YOUNGER = replace(archetype(1), attributes={**archetype(1).attributes, "age_band": "18-29",
                                             "work": "essential worker", "party": "republican"})
LOCKDOWN_REQUESTS = [request(STRICT, arche=a, **MANY_CASES) for a in (OLDER, YOUNGER)]
CALM_REQUESTS = [request({}, arche=a, **NO_CASES) for a in (OLDER, YOUNGER)]
REQUESTS = LOCKDOWN_REQUESTS + CALM_REQUESTS


def test_batches_start_on_row_groups_and_are_never_short_or_oversize():
    for start in range(0, 200, ROW_GROUP):
        for end in range(start + MIN_BATCH, 1400, 37):
            batches = _batches(start, end, 512)
            assert batches[0][0] == start and batches[-1][1] == end
            assert all(b == a for (_, a), (b, _) in zip(batches[:-1], batches[1:], strict=True))
            for begin, stop in batches:
                assert begin % ROW_GROUP == 0 and MIN_BATCH <= stop - begin <= 512


def test_invalid_options_are_clear_errors(tmp_path):
    with pytest.raises(EngineError, match="n_batch 30"):
        LocalEngine(PROMPTS, n_batch=30)
    with pytest.raises(EngineError, match="not a file"):
        LocalEngine(PROMPTS, model_path=tmp_path / "missing.gguf")
    with pytest.raises(EngineError, match="reuse_prefix"):
        make_engine("local", {"n_gpu_layers": 4}, PROMPTS, OXCGRT_INDICATORS,
                    cache_path=tmp_path / "cache.sqlite")


def test_identity_is_the_packaged_model():
    engine = LocalEngine(PROMPTS)
    assert engine.describe() == {"engine": "local", "model": "gemma-3-270m-q4_k_m.gguf",
                                 "elicitation": "token_probabilities"}


@pytest.fixture(scope="module")
def engine():
    """One loaded model for the module (answers do not depend on what it evaluated before)."""
    local = LocalEngine(PROMPTS)
    yield local
    local.close()


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    """The four requests answered once, with prefix reuse, through a fresh response cache."""
    path = tmp_path_factory.mktemp("local") / "responses.sqlite"
    local = LocalEngine(PROMPTS, cache=ResponseCache(path))
    decisions = local.decide(REQUESTS)
    stats = local.stats
    local.close()
    return {"decisions": decisions, "stats": stats, "cache_path": path}


def reference(request_index, behaviour_index, answered):
    return answered["decisions"].distributions[request_index][behaviour_index]


@pytest.mark.slow
def test_distributions_are_probabilities_over_the_options(answered):
    decisions = answered["decisions"]
    assert not decisions.failed.any()
    for row in decisions.distributions:
        for distribution in row:
            assert distribution.shape == (5,)
            assert np.all((distribution >= 0) & (distribution <= 1))
            assert distribution.sum() == pytest.approx(1.0, abs=1e-12)
    stats = answered["stats"]
    assert stats.llm_calls == len(REQUESTS) * len(MOBILITY) and stats.cache_hits == 0
    assert stats.tokens_out == 0 and stats.cost_usd == 0.0


@pytest.mark.slow
def test_option_numbers_are_single_gemma_tokens_after_the_answer_cue(engine):
    llm = engine._load()
    prompt = engine.question(LOCKDOWN_REQUESTS[0], MOBILITY[0]).prompt
    assert prompt.endswith("Answer: ")
    cue = llm.tokenize(prompt.encode(), add_bos=True)
    for number, token in zip("123456789", engine._option_tokens, strict=True):
        assert llm.tokenize((prompt + number).encode(), add_bos=True) == cue + [token]
        assert llm.detokenize([token]) == number.encode()


@pytest.mark.slow
def test_prefix_reuse_gives_the_distributions_of_evaluating_from_scratch(engine, answered):
    scratch = LocalEngine(PROMPTS, reuse_prefix=False)
    picked = [(1, 0), (1, 3), (1, 5)]
    questions = [scratch.question(REQUESTS[i], MOBILITY[j]) for i, j in picked]
    answers = scratch.answer(questions)
    scratch.close()
    for (i, j), answer in zip(picked, answers, strict=True):
        np.testing.assert_allclose(answer.distribution, reference(i, j, answered), atol=1e-5)
    per_question_from_scratch = np.mean([a.tokens_in for a in answers])
    per_question_reused = answered["stats"].tokens_in / answered["stats"].llm_calls
    assert per_question_reused < 0.6 * per_question_from_scratch


@pytest.mark.slow
def test_a_second_instance_gives_identical_distributions(engine, answered):
    decisions = engine.decide(LOCKDOWN_REQUESTS[:1])
    for j in range(len(MOBILITY)):
        np.testing.assert_array_equal(decisions.distributions[0][j], reference(0, j, answered))


@pytest.mark.slow
def test_another_process_gives_identical_distributions(answered):
    script = (
        "import json, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_local_engine import LOCKDOWN_REQUESTS, MOBILITY, PROMPTS\n"
        "from simulator.cognition.local import LocalEngine\n"
        "engine = LocalEngine(PROMPTS)\n"
        "[answer] = engine.answer([engine.question(LOCKDOWN_REQUESTS[0], MOBILITY[2])])\n"
        "print(json.dumps([float(p).hex() for p in answer.distribution]))\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, check=True, timeout=120).stdout
    other = np.array([float.fromhex(p) for p in json.loads(out.splitlines()[-1])])
    np.testing.assert_array_equal(other, reference(0, 2, answered))


@pytest.mark.slow
def test_the_cache_serves_a_second_decide_without_calling_the_model(answered):
    again = LocalEngine(PROMPTS, cache=ResponseCache(answered["cache_path"]))
    decisions = again.decide(REQUESTS)
    again.close()
    assert again.stats.llm_calls == 0 and again.stats.cache_hits == len(REQUESTS) * len(MOBILITY)
    np.testing.assert_array_equal(decisions.probabilities, answered["decisions"].probabilities)


@pytest.mark.slow
def test_a_failing_question_fails_alone(engine, answered, monkeypatch):
    llm = engine._load()
    calls = []
    evaluate = llm.eval

    def flaky(tokens):
        calls.append(len(tokens))
        if len(calls) == 1:
            raise RuntimeError("llama_decode returned -3")
        evaluate(tokens)

    monkeypatch.setattr(llm, "eval", flaky)
    questions = [engine.question(REQUESTS[0], b) for b in MOBILITY[:3]]
    answers = engine.answer(questions)
    failed = [a for a in answers if a.distribution is None]
    assert len(failed) == 1 and "llama_decode returned -3" in failed[0].error
    for j, answer in enumerate(answers):
        if answer.distribution is not None:
            np.testing.assert_allclose(answer.distribution, reference(0, j, answered), atol=1e-5)


@pytest.mark.slow
def test_prompts_longer_than_the_context_and_too_many_options_are_clear_errors(engine):
    short = LocalEngine(PROMPTS, n_ctx=64, n_batch=64)
    with pytest.raises(EngineError, match="more than n_ctx 64"):
        short.answer([short.question(REQUESTS[0], MOBILITY[0])])
    short.close()
    many = replace(MOBILITY[0], options=MOBILITY[0].options * 2)
    with pytest.raises(EngineError, match="10 options"):
        engine.answer([engine.question(DecisionRequest(OLDER, REQUESTS[0].signals, (many,)),
                                       many)])


@pytest.mark.slow
def test_response_to_a_strict_lockdown_is_measured(answered, record_property, capsys):
    decisions = answered["decisions"]
    n = len(LOCKDOWN_REQUESTS)
    lockdown, calm = decisions.probabilities[:n], decisions.probabilities[n:]
    change = lockdown - calm
    lines = ["local engine: behaviour probability under a strict lockdown with many cases "
             "minus no policy with no cases (per archetype: older employed woman, younger "
             "essential worker)"]
    directions = {}
    for j, name in enumerate(NAMES):
        mean = float(change[:, j].mean())
        directions[name] = "falls" if mean < 0 else "rises" if mean > 0 else "unchanged"
        lines.append(f"  {name:<22} {mean:+.3f} ({', '.join(f'{c:+.3f}' for c in change[:, j])})"
                     f" -> {directions[name]}, expected "
                     f"{'rises' if MOBILITY[j].expected_response > 0 else 'falls'}")
        for i in range(n):
            shift = np.abs(decisions.distributions[i][j] - decisions.distributions[n + i][j])
            assert shift.max() > 1e-4, (name, i)
    record_property("lockdown_directions", json.dumps(directions))
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert len(directions) == len(MOBILITY) and np.all(np.isfinite(change))
