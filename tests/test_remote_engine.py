"""The litellm model against an in-process litellm provider (real litellm, no network)."""

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

from helpers import LOCKDOWN, MOBILITY, request  # noqa: E402
from simulator.cognition import make_engine  # noqa: E402
from simulator.cognition.prompts import JSON_SUFFIX  # noqa: E402
from simulator.errors import EngineError  # noqa: E402
from simulator.sources.indicators import OXCGRT_INDICATORS  # noqa: E402

SECRET = "sk-test-0123456789abcdefSECRET"
PROVIDER = "scripted"
VALID = '{"1": 0.3, "2": 0.7}'
VALID_DISTRIBUTION = [0.3, 0.7]


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


TOKENS = logprob_reply({"Yes": 0.5, " No": 0.3, "Maybe": 0.1, "2": 0.1})
TOKEN_DISTRIBUTION = [5 / 8, 3 / 8]
DIGITS = logprob_reply({"1": 0.5, " 2": 0.3, "Maybe": 0.1, "3": 0.1})


@pytest.fixture
def provider(monkeypatch):
    scripted = ScriptedProvider(default=TOKENS)
    monkeypatch.setattr(litellm, "custom_provider_map",
                        [{"provider": PROVIDER, "custom_handler": scripted}])
    return scripted


@pytest.fixture
def make(tmp_path):
    engines = []

    def build(model=f"{PROVIDER}/m", cache_name="cache.sqlite", **options):
        options.setdefault("backoff_base", 0.001)
        options.setdefault("balanced", False)
        options.setdefault("elicitation", "cloze")
        engine = make_engine(f"litellm:{model}", options, OXCGRT_INDICATORS,
                             tmp_path / cache_name)
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


def test_cloze_reads_the_first_token_of_each_option(provider, make):
    engine = make()
    decisions = engine.decide(requests(2))
    assert provider.calls == 12
    np.testing.assert_allclose(decisions.probabilities, TOKEN_DISTRIBUTION[0])
    np.testing.assert_allclose(decisions.distributions[1][5], TOKEN_DISTRIBUTION)
    call = provider.requests[0]
    assert call["logprobs"] is True and call["top_logprobs"] == 20 and call["max_tokens"] == 1
    assert call["messages"][0] == {"role": "system", "content": "Answer with one of: Yes, No."}
    assert call["messages"][-1]["content"].endswith("Answer:")
    assert engine.describe() == {"engine": "litellm:scripted/m", "model": "scripted/m",
                                 "api": "chat", "reading": "logprobs", "elicitation": "cloze"}
    assert engine.stats.llm_calls == 12 and engine.stats.tokens_in == 12 * 50


def test_option_tokens_read_the_option_digits(provider, make):
    provider.default = DIGITS
    decisions = make(elicitation="option_tokens").decide(requests(1))
    np.testing.assert_allclose(decisions.distributions[0][0], [5 / 8, 3 / 8])
    assert provider.requests[0]["messages"][-1]["content"].endswith("Answer: ")
    assert "number of one option" in provider.requests[0]["messages"][0]["content"]


def test_cached_answers_are_not_asked_again(provider, make):
    make().decide(requests(2))
    again = make()
    decisions = again.decide(requests(2))
    assert provider.calls == 12
    assert again.stats.cache_hits == 12 and again.stats.llm_calls == 0
    assert not decisions.failed.any()


def test_balanced_keying_asks_both_keyings(provider, make):
    engine = make(balanced=True)
    engine.decide(requests(1))
    assert provider.calls == 12
    contents = [r["messages"][-1]["content"] for r in provider.requests]
    assert sum("stay away" in c for c in contents) == 5


def test_verbalises_when_no_logprobs_come_back(provider, make):
    provider.default = text_reply(VALID)
    engine = make(api="chat")
    decisions = engine.decide(requests(2))
    # one call tells there are no logprobs, then every question is verbalised
    assert provider.calls == 1 + 12
    assert provider.requests[0]["logprobs"] is True
    assert all("logprobs" not in r for r in provider.requests[1:])
    assert all(r["messages"][-1]["content"].endswith(JSON_SUFFIX) for r in provider.requests[1:])
    assert "1. Yes\n2. No\n" in provider.requests[1]["messages"][-1]["content"]
    np.testing.assert_allclose(decisions.distributions[0][0], VALID_DISTRIBUTION)
    assert engine.describe()["reading"] == "verbalised_json"


def test_without_verbalising_a_reply_without_logprobs_fails(provider, make):
    provider.default = text_reply("Yes")
    engine = make(api="chat", verbalise=False)
    decisions = engine.decide(requests(1))
    assert decisions.failed.all() and decisions.failed.sum() == 6


def test_auto_moves_to_text_completions_when_chat_has_no_logprobs(provider, make,
                                                                  monkeypatch):
    provider.default = text_reply("Yes")
    texts = []

    async def text_completion(**request):
        texts.append(request)
        return litellm.TextCompletionResponse(
            choices=[{"index": 0, "text": " Yes", "finish_reason": "length",
                      "logprobs": {"tokens": [" Yes"], "token_logprobs": [math.log(0.6)],
                                   "text_offset": [0],
                                   "top_logprobs": [{" Yes": math.log(0.6),
                                                     " No": math.log(0.2)}]}}],
            usage={"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41})

    monkeypatch.setattr(litellm, "atext_completion", text_completion)
    engine = make(api="auto")
    decisions = engine.decide(requests(1))
    assert provider.calls == 1 and len(texts) == 6
    assert texts[0]["prompt"].endswith("Answer:") and texts[0]["logprobs"] == 20
    np.testing.assert_allclose(decisions.distributions[0][0], [0.75, 0.25])
    assert engine.describe()["api"] == "text"


def test_no_option_among_the_top_tokens_falls_back_to_verbalised(provider, make):
    provider.script = [logprob_reply({"Perhaps": 0.7, "Sure": 0.3}), text_reply(VALID)]
    engine = make()
    decisions = engine.decide(one_question())
    assert provider.calls == 2
    np.testing.assert_allclose(decisions.distributions[0][0], VALID_DISTRIBUTION)
    assert engine.stats.tokens_in == 50 + 60 and engine.stats.tokens_out == 1 + 20


def test_verbalised_answers(provider, make):
    provider.default = text_reply(VALID)
    engine = make(elicitation="verbalised_json", temperature=0.7, max_tokens=64)
    decisions = engine.decide(requests(1))
    assert provider.calls == 6
    call = provider.requests[0]
    assert "logprobs" not in call and call["max_tokens"] == 64 and call["temperature"] == 0.7
    assert call["stop"] == ["}\n", "}}"]
    assert [m["role"] for m in call["messages"]] == ["user"]
    np.testing.assert_allclose(decisions.probabilities, VALID_DISTRIBUTION[0])
    assert engine.stats.repaired_answers == 0 and not decisions.failed.any()


def test_a_reply_cut_at_the_stop_sequence_is_closed_again(provider, make):
    provider.script = [text_reply('{"1": 0.3, "2": 0.7'),
                       text_reply('{"answer": {"1": 0.3, "2": 0.7')]
    engine = make(elicitation="verbalised_json")
    decisions = engine.decide([request(behaviours=MOBILITY[:2])])
    np.testing.assert_allclose(decisions.probabilities[0], 0.3)
    assert engine.stats.retries == 0


def test_repaired_answers_are_counted(provider, make):
    provider.script = [
        text_reply(f"Here you go:\n```json\n{VALID}\n```"),
        text_reply('{"1": "30%", "2": "70%"}'),
        text_reply('{"Yes": 30, "No": 70}'),
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
    '{"1": 0.5',
    '{"1": 0.5, "7": 0.5}',
    '{"1": 0, "2": 0}',
])
def test_invalid_answers_fail_after_retries_and_are_counted(provider, make, reply):
    provider.default = text_reply(reply)
    engine = make(elicitation="verbalised_json", max_retries=2)
    decisions = engine.decide(one_question())
    assert provider.calls == 3 and engine.stats.retries == 2
    assert np.isnan(decisions.probabilities[0, 0]) and decisions.failed.all()
    assert decisions.distributions[0][0] is None
    assert decisions.failed.sum() == 1 and engine.stats.llm_calls == 1
    assert engine.stats.tokens_in == 3 * 60
    assert len(engine.model.cache) == 0


def test_failed_answer_error_says_why(provider, make):
    provider.default = text_reply('{"1": 1.0}')
    engine = make(elicitation="verbalised_json", max_retries=1)
    question = engine._plan(one_question()[0], MOBILITY[0])[0][0]
    [(_, answer)] = list(engine.language_model.answer([question]))
    assert answer.distribution is None
    assert "2 replies" in answer.error and "missing option(s) 2" in answer.error


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
    assert provider.calls == 7
    assert not decisions.failed.any()


def test_provider_unavailable_after_retries_stops_with_a_resumable_error(provider, make):
    provider.default = rate_limited
    engine = make(max_retries=2)
    with pytest.raises(EngineError, match="run again to resume") as raised:
        engine.decide(one_question())
    assert provider.calls == 3
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
        make(api="chat").decide(one_question())
    assert provider.calls == 1


def test_a_refusal_that_echoes_the_request_url_shows_no_query_credential(provider, make):
    key = "AIzaNotInTheEnvironment42"
    provider.default = litellm.BadRequestError(
        f"400 Bad Request for url https://llm.example.org/v1beta/models/m:generate?key={key}"
        "&alt=sse", model="m", llm_provider=PROVIDER)
    with pytest.raises(EngineError, match=r"refused the request.*\?key=\*\*\*&alt=sse") as raised:
        make(api="chat").decide(one_question())
    assert key not in "".join(traceback.format_exception(raised.value))


def test_auto_tries_the_other_api_when_an_endpoint_does_not_exist(provider, make,
                                                                  monkeypatch):
    async def no_completions(**request):
        raise litellm.NotFoundError("404 /v1/completions", model="m", llm_provider=PROVIDER)

    monkeypatch.setattr(litellm, "atext_completion", no_completions)
    engine = make(api_base="http://127.0.0.1:9/v1")
    assert not engine.decide(requests(1)).failed.any()
    assert engine.describe()["api"] == "chat" and provider.calls == 6


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
    estimate = engine.language_model.estimate(100, prompt_tokens=50)
    assert estimate["calls"] == 100
    assert estimate["cost_usd"] == pytest.approx(100 * (50 * 1e-6 + 2e-6))


def test_estimate(make):
    paid = make(model="openai/gpt-4o-mini").language_model.estimate(1000)
    assert paid["calls"] == 1000 and paid["cost_usd"] > 0
    assert make().language_model.estimate(10)["cost_usd"] is None


# Calls cancelled when the batch stops leave litellm's unawaited provider coroutines behind.
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_kill_and_resume_repeats_no_call(provider, make, monkeypatch):
    total, n_ok = 24, 10
    provider.default = lambda number: TOKENS if number <= n_ok else rate_limited()
    first = make(concurrency=3, max_retries=1)
    with pytest.raises(EngineError, match="resume"):
        first.decide(requests(4))
    assert first.stats.llm_calls == n_ok and len(first.model.cache) == n_ok

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


def test_questions_with_more_than_nine_options_need_cloze_or_verbalised(provider, make):
    many = MOBILITY[0].__class__(name="trips", question="How many trips?",
                                 options=tuple(MOBILITY[0].options[0].__class__(label=str(i),
                                                                                value=i / 11)
                                               for i in range(12)))
    with pytest.raises(EngineError, match="12 options"):
        make(elicitation="option_tokens").decide([request(LOCKDOWN, behaviours=(many,))])
    provider.default = text_reply(json.dumps({str(i): 1 / 12 for i in range(1, 13)}))
    decisions = make(elicitation="verbalised_json").decide(
        [request(LOCKDOWN, behaviours=(many,))])
    np.testing.assert_allclose(decisions.distributions[0][0], np.full(12, 1 / 12))


@pytest.mark.parametrize(("option", "value"), [
    ("elicitation", "logits"), ("concurrency", 0), ("max_retries", -1), ("timeout", "soon"),
    ("api", "grpc"), ("requests_per_minute", float("nan")),
])
def test_invalid_options_are_named(make, option, value):
    with pytest.raises(EngineError, match=option):
        make(**{option: value})


def test_unknown_provider_is_a_clear_error(make):
    with pytest.raises(EngineError, match="provider/model"):
        make(model="no-such-model")


def test_unknown_option_is_named(tmp_path):
    with pytest.raises(EngineError, match="unknown option.*api_key"):
        make_engine(f"litellm:{PROVIDER}/m", {"api_key": SECRET}, OXCGRT_INDICATORS,
                    tmp_path / "c.sqlite")
