"""The litellm engine against an in-process litellm provider (real litellm, no network)."""

import asyncio
import json
import math
import os
import traceback

import numpy as np
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402
from litellm import CustomLLM, ModelResponse  # noqa: E402

from helpers import LOCKDOWN, MOBILITY, archetype, request  # noqa: E402
from simulator.cognition import make_engine  # noqa: E402
from simulator.cognition.cache import ResponseCache  # noqa: E402
from simulator.cognition.prompts import JSON_SUFFIX, PromptBuilder  # noqa: E402
from simulator.cognition.remote import LiteLLMEngine  # noqa: E402
from simulator.errors import EngineError  # noqa: E402
from simulator.sources.indicators import DEFAULT_SHOWN, OXCGRT_INDICATORS  # noqa: E402

SECRET = "sk-test-0123456789abcdefSECRET"
PROVIDER = "scripted"
VALID = '{"1": 0.1, "2": 0.2, "3": 0.4, "4": 0.2, "5": 0.1}'
VALID_DISTRIBUTION = [0.1, 0.2, 0.4, 0.2, 0.1]


class ScriptedProvider(CustomLLM):
    """A litellm provider in this process: replies come from a script, then from a default.

    A reply is a ModelResponse, an exception to raise, or a callable of the call number
    (1-based) returning either.
    """

    def __init__(self, default=None, script=(), delay=0.0):
        super().__init__()
        self.default = default
        self.script = list(script)
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = []

    async def acompletion(self, model, messages, optional_params, **kwargs):
        self.calls += 1
        number = self.calls
        self.requests.append({"messages": messages, **optional_params})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            reply = self.script.pop(0) if self.script else self.default
            if callable(reply):
                reply = reply(number)
            if isinstance(reply, BaseException):
                raise reply
            return reply
        finally:
            self.in_flight -= 1


def logprob_reply(probabilities, prompt_tokens=50):
    top = [{"token": token, "logprob": math.log(p)} for token, p in probabilities.items()]
    return ModelResponse(
        choices=[{"index": 0, "finish_reason": "length",
                  "message": {"role": "assistant", "content": top[0]["token"]},
                  "logprobs": {"content": [{**top[0], "top_logprobs": top}]}}],
        usage={"prompt_tokens": prompt_tokens, "completion_tokens": 1,
               "total_tokens": prompt_tokens + 1},
    )


def text_reply(text, prompt_tokens=60, completion_tokens=20):
    return ModelResponse(
        choices=[{"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": text}}],
        usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
               "total_tokens": prompt_tokens + completion_tokens},
    )


def rate_limited(_number=None):
    return litellm.RateLimitError(f"slow down, key {SECRET}", llm_provider=PROVIDER, model="m")


def timed_out(_number=None):
    return litellm.Timeout("timed out", model="m", llm_provider=PROVIDER)


TOKENS = logprob_reply({"3": 0.5, " 4": 0.3, "Maybe": 0.1, "2": 0.1})
TOKEN_DISTRIBUTION = [0.0, 1 / 9, 5 / 9, 3 / 9, 0.0]


@pytest.fixture
def provider(monkeypatch):
    scripted = ScriptedProvider(default=TOKENS)
    monkeypatch.setattr(litellm, "custom_provider_map",
                        [{"provider": PROVIDER, "custom_handler": scripted}])
    return scripted


@pytest.fixture
def prompts():
    return PromptBuilder("Ohio", OXCGRT_INDICATORS, DEFAULT_SHOWN)


@pytest.fixture
def make(prompts, tmp_path):
    engines = []

    def build(model=f"{PROVIDER}/m", cache_name="cache.sqlite", **options):
        options.setdefault("backoff_base", 0.001)
        engine = LiteLLMEngine(model=model, prompts=prompts,
                               cache=ResponseCache(tmp_path / cache_name), **options)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()


def requests(n):
    """n requests with distinct prompts (the situation differs), all six mobility behaviours."""
    levels = [0.5, 3, 10, 20, 50]
    weathers = [30, 50, 60, 75, 90]
    return [request(LOCKDOWN, new_cases_per_100k=levels[i % 5], temperature_f=weathers[i // 5])
            for i in range(n)]


def one_question():
    return [request(LOCKDOWN, behaviours=MOBILITY[:1])]


def test_token_probabilities(provider, make):
    engine = make(elicitation="token_probabilities")
    decisions = engine.decide(requests(2))
    assert provider.calls == 12
    expected = MOBILITY[0].probability(TOKEN_DISTRIBUTION)
    np.testing.assert_allclose(decisions.probabilities, expected)
    np.testing.assert_allclose(decisions.distributions[1][5], TOKEN_DISTRIBUTION)
    call = provider.requests[0]
    assert call["logprobs"] is True and call["top_logprobs"] == 20 and call["max_tokens"] == 1
    assert call["messages"][0]["role"] == "system"
    assert call["messages"][-1]["content"].endswith("Answer: ")
    assert engine.describe() == {"engine": "litellm:scripted/m", "model": "scripted/m",
                                 "elicitation": "token_probabilities"}
    assert engine.stats.llm_calls == 12 and engine.stats.tokens_in == 12 * 50


def test_cached_answers_are_not_asked_again(provider, make):
    make().decide(requests(2))
    again = make()
    decisions = again.decide(requests(2))
    assert provider.calls == 12
    assert again.stats.cache_hits == 12 and again.stats.llm_calls == 0
    assert not decisions.failed.any()


def test_auto_uses_tokens_when_the_provider_returns_logprobs(provider, make):
    engine = make()
    assert engine.describe()["elicitation"] == "auto"
    engine.decide(requests(1))
    assert provider.calls == 6 and all(r.get("logprobs") for r in provider.requests)
    assert engine.describe()["elicitation"] == "token_probabilities"


def test_auto_switches_to_verbalised_when_no_logprobs_come_back(provider, make):
    provider.default = text_reply(VALID)
    engine = make(elicitation="auto")
    decisions = engine.decide(requests(2))
    # one probe with logprobs, then every question verbalised
    assert provider.calls == 1 + 12
    assert provider.requests[0]["logprobs"] is True
    assert all("logprobs" not in r for r in provider.requests[1:])
    assert all(r["messages"][-1]["content"].endswith(JSON_SUFFIX) for r in provider.requests[1:])
    np.testing.assert_allclose(decisions.distributions[0][0], VALID_DISTRIBUTION)
    assert engine.describe()["elicitation"] == "verbalised_json"


def test_no_option_digit_among_the_top_tokens_falls_back_to_verbalised(provider, make):
    provider.script = [logprob_reply({"Yes": 0.7, "No": 0.3}), text_reply(VALID)]
    engine = make(elicitation="token_probabilities")
    decisions = engine.decide(one_question())
    assert provider.calls == 2
    np.testing.assert_allclose(decisions.distributions[0][0], VALID_DISTRIBUTION)
    assert engine.stats.tokens_in == 50 + 60 and engine.stats.tokens_out == 1 + 20


def test_token_probabilities_without_logprobs_is_an_error(provider, make):
    provider.default = text_reply("3")
    engine = make(elicitation="token_probabilities")
    with pytest.raises(EngineError, match="no token log-probabilities"):
        engine.decide(one_question())


def test_token_probabilities_need_a_provider_that_returns_them(make):
    with pytest.raises(EngineError, match="does not return token log-probabilities"):
        make(model="anthropic/claude-3-5-sonnet-20240620", elicitation="token_probabilities")


def test_verbalised_answers(provider, make):
    provider.default = text_reply(VALID)
    engine = make(elicitation="verbalised_json", temperature=0.7, max_tokens=64)
    decisions = engine.decide(requests(1))
    assert provider.calls == 6
    call = provider.requests[0]
    assert "logprobs" not in call and call["max_tokens"] == 64 and call["temperature"] == 0.7
    assert [m["role"] for m in call["messages"]] == ["user"]
    np.testing.assert_allclose(decisions.probabilities, MOBILITY[0].probability(
        VALID_DISTRIBUTION))
    assert engine.stats.repaired_answers == 0 and engine.stats.failed_answers == 0


def test_repaired_answers_are_counted(provider, make):
    provider.script = [
        text_reply(f"Here you go:\n```json\n{VALID}\n```"),
        text_reply('{"1": "10%", "2": "20%", "3": "40%", "4": "20%", "5": "10%"}'),
        text_reply('{"1": 10, "2": 20, "3": 40, "4": 20, "5": 10}'),
    ]
    provider.default = text_reply(VALID)
    engine = make(elicitation="verbalised_json")
    decisions = engine.decide(requests(1))
    assert engine.stats.repaired_answers == 3 and engine.stats.retries == 0
    for distribution in decisions.distributions[0]:
        np.testing.assert_allclose(distribution, VALID_DISTRIBUTION)


def test_invalid_answer_is_retried_then_accepted(provider, make):
    provider.script = [text_reply("I think I'd go out, maybe."), text_reply(VALID)]
    engine = make(elicitation="verbalised_json")
    decisions = engine.decide(one_question())
    assert provider.calls == 2 and engine.stats.retries == 1
    assert not decisions.failed.any()


@pytest.mark.parametrize("reply", [
    '{"1": 0.5, "2": 0.5',
    '{"1": 0.2, "2": 0.2, "3": 0.2, "4": 0.2, "7": 0.2}',
    '{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}',
])
def test_invalid_answers_fail_after_retries_and_are_counted(provider, make, reply):
    provider.default = text_reply(reply)
    engine = make(elicitation="verbalised_json", max_retries=2)
    decisions = engine.decide(one_question())
    assert provider.calls == 3 and engine.stats.retries == 2
    assert np.isnan(decisions.probabilities[0, 0]) and decisions.failed.all()
    assert decisions.distributions[0][0] is None
    assert engine.stats.failed_answers == 1 and engine.stats.llm_calls == 1
    assert engine.stats.tokens_in == 3 * 60
    assert len(engine.cache) == 0


def test_failed_answer_error_says_why(provider, make):
    provider.default = text_reply('{"1": 0.5, "2": 0.5}')
    engine = make(elicitation="verbalised_json", max_retries=1)
    [question] = [engine.question(one_question()[0], MOBILITY[0])]
    [answer] = engine.answer([question])
    assert answer.distribution is None
    assert "2 replies" in answer.error and "missing option(s) 3, 4, 5" in answer.error


def test_transient_errors_are_retried_with_backoff(provider, make):
    provider.script = [
        rate_limited(),
        timed_out(),
        litellm.ServiceUnavailableError("down", llm_provider=PROVIDER, model="m"),
        litellm.InternalServerError("oops", llm_provider=PROVIDER, model="m"),
        litellm.APIError(529, "overloaded", llm_provider=PROVIDER, model="m"),
        ConnectionResetError("reset by peer"),
        TOKENS,
    ]
    engine = make(max_retries=6)
    decisions = engine.decide(one_question())
    assert provider.calls == 7 and engine.stats.retries == 6
    assert not decisions.failed.any()


def test_backoff_doubles_with_jitter_up_to_a_ceiling(make):
    engine = make(backoff_base=1.0, backoff_max=5.0)
    waits = [engine._backoff(attempt) for attempt in range(5)]
    for wait, ceiling in zip(waits, [1, 2, 4, 5, 5], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_provider_unavailable_after_retries_stops_with_a_resumable_error(provider, make):
    provider.default = rate_limited
    engine = make(max_retries=2)
    with pytest.raises(EngineError, match="run again to resume") as raised:
        engine.decide(one_question())
    assert provider.calls == 3 and engine.stats.retries == 2
    assert "RateLimitError" in str(raised.value)


def test_authentication_error_is_not_retried_and_leaks_no_key(provider, make, monkeypatch):
    monkeypatch.setenv("SCRIPTED_API_KEY", SECRET)
    provider.default = litellm.AuthenticationError(
        f"Incorrect API key provided: {SECRET}", llm_provider=PROVIDER, model="m")
    engine = make()
    with pytest.raises(EngineError, match="refused the credentials") as raised:
        engine.decide(requests(1))
    assert provider.calls == 1
    text = "".join(traceback.format_exception(raised.value))
    assert SECRET not in text and "SECRET" not in text


def test_bad_request_is_not_retried(provider, make):
    provider.default = litellm.BadRequestError("context window exceeded", model="m",
                                               llm_provider=PROVIDER)
    with pytest.raises(EngineError, match="refused the request.*context window exceeded"):
        make().decide(one_question())
    assert provider.calls == 1


def test_api_key_never_reaches_cache_describe_or_errors(provider, make, monkeypatch, tmp_path):
    monkeypatch.setenv("SCRIPTED_API_KEY", SECRET)
    engine = make(api_base=f"https://user:{SECRET}@llm.example.org:8443/v1?api-key={SECRET}")
    engine.decide(requests(2))
    assert engine.describe()["api_base"] == "https://llm.example.org:8443/v1"
    assert SECRET not in json.dumps(engine.describe())
    provider.default = rate_limited
    with pytest.raises(EngineError) as raised:
        make(max_retries=0).decide(requests(3))
    assert SECRET not in "".join(traceback.format_exception(raised.value))
    engine.close()
    for path in tmp_path.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path


def test_concurrency_limit_is_respected(provider, make):
    provider.delay = 0.02
    engine = make(concurrency=3)
    engine.decide(requests(4))
    assert provider.calls == 24
    assert provider.max_in_flight == 3


def test_tokens_and_unknown_cost_are_accounted(provider, make):
    engine = make()
    engine.decide(requests(1))
    assert engine.stats.tokens_in == 6 * 50 and engine.stats.tokens_out == 6
    assert engine.stats.cost_usd is None


def test_cost_comes_from_litellm_prices(provider, make):
    litellm.register_model({f"{PROVIDER}/priced": {
        "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": PROVIDER,
        "mode": "chat", "cache_creation_input_token_cost": 0.0,
        "cache_read_input_token_cost": 0.0}})
    engine = make(model=f"{PROVIDER}/priced")
    engine.decide(requests(1))
    assert engine.stats.cost_usd == pytest.approx(6 * (50 * 1e-6 + 1 * 2e-6))
    estimate = engine.estimate(100, prompt_tokens=50)
    assert estimate["calls"] == 100
    assert estimate["cost_usd"] == pytest.approx(100 * (50 * 1e-6 + 2e-6))


def test_estimate(make):
    paid = make(model="openai/gpt-4o-mini", elicitation="verbalised_json").estimate(1000)
    assert paid["calls"] == 1000 and paid["cost_usd"] > 0
    assert make().estimate(10)["cost_usd"] is None


# Calls cancelled when the batch stops leave litellm's unawaited provider coroutines behind.
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_kill_and_resume_repeats_no_call(provider, make, monkeypatch):
    total, n_ok = 24, 10
    provider.default = lambda number: TOKENS if number <= n_ok else rate_limited()
    first = make(concurrency=3, max_retries=1)
    with pytest.raises(EngineError, match="resume"):
        first.decide(requests(4))
    assert first.stats.llm_calls == n_ok

    resumed = ScriptedProvider(default=TOKENS)
    monkeypatch.setattr(litellm, "custom_provider_map",
                        [{"provider": PROVIDER, "custom_handler": resumed}])
    second = make(concurrency=3)
    decisions = second.decide(requests(4))
    assert resumed.calls == total - n_ok
    assert second.stats.cache_hits == n_ok
    assert not decisions.failed.any()


def test_answers_from_inside_a_running_event_loop(provider, make):
    engine = make()

    async def notebook_cell():
        return engine.decide(requests(1))

    decisions = asyncio.run(notebook_cell())
    assert provider.calls == 6 and not decisions.failed.any()


def test_questions_with_more_than_nine_options_are_verbalised(provider, make):
    many = MOBILITY[0].__class__(name="trips", question="How many trips?",
                                 options=tuple(MOBILITY[0].options[0].__class__(str(i), i / 11)
                                               for i in range(12)))
    provider.default = text_reply(json.dumps({str(i): 1 / 12 for i in range(1, 13)}))
    engine = make(elicitation="token_probabilities")
    decisions = engine.decide([request(LOCKDOWN, behaviours=(many,))])
    assert provider.calls == 1 and "logprobs" not in provider.requests[0]
    np.testing.assert_allclose(decisions.distributions[0][0], np.full(12, 1 / 12))


@pytest.mark.parametrize(("option", "value"), [
    ("elicitation", "logits"), ("concurrency", 0), ("max_retries", -1), ("timeout", "soon"),
])
def test_invalid_options_are_named(make, option, value):
    with pytest.raises(EngineError, match=option):
        make(**{option: value})


def test_unknown_provider_is_a_clear_error(make):
    with pytest.raises(EngineError, match="provider/model"):
        make(model="no-such-model")


def test_make_engine_passes_scenario_options(provider, prompts, tmp_path):
    engine = make_engine(f"litellm:{PROVIDER}/m", {"concurrency": 2, "elicitation": "auto"},
                         prompts, OXCGRT_INDICATORS, cache_path=tmp_path / "c.sqlite")
    try:
        assert engine.name == f"litellm:{PROVIDER}/m" and engine.concurrency == 2
        assert not engine.decide([request(arche=archetype())]).failed.any()
    finally:
        engine.close()
    with pytest.raises(EngineError, match="unknown option.*api_key"):
        make_engine(f"litellm:{PROVIDER}/m", {"api_key": SECRET}, prompts, OXCGRT_INDICATORS,
                    cache_path=tmp_path / "c.sqlite")
