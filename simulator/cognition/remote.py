"""The ``litellm:<model>`` model: any provider litellm speaks, asked concurrently.

A question is read from the log-probabilities of the first generated token where the provider
returns them (the option digits, or the first token of each option text), else from a JSON
distribution the model writes (validated by :mod:`simulator.cognition.replies`, asked again
while invalid, its length bounded). Two APIs: chat completions, and text completions for base
models and for servers whose chat replies carry no log-probabilities (llama.cpp, vLLM, Ollama);
``api="auto"`` starts with text completions on a self-hosted server (``api_base``) and with chat
elsewhere, and moves to the other API when the first does not give log-probabilities. Calls run
on an asyncio loop of their own in a background thread, at most ``concurrency`` in flight, with
retries and backoff from :mod:`simulator.cognition.retries`; answers are yielded as they arrive,
so the caching wrapper stores each before the next is awaited. API keys are read by litellm from
the environment only: never passed, stored, described or put in error messages.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

# The price table ships with litellm: never fetch it when litellm is imported.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import litellm  # noqa: E402

from simulator.cognition.credentials import public_url, redact  # noqa: E402
from simulator.cognition.language_model import Answer, LanguageModel, Question  # noqa: E402
from simulator.cognition.litellm_replies import (  # noqa: E402
    answer_of,
    closed_reply,
    reply_text,
    token_instruction,
    verbalised_prompt,
)
from simulator.cognition.options import LiteLLMOptions  # noqa: E402
from simulator.cognition.replies import (  # noqa: E402
    ElicitationError,
    first_token_logprobs,
    option_numbers,
    parse_verbalised,
    token_distribution,
)
from simulator.cognition.retries import RateLimit, RetriesExhausted, RetryPolicy  # noqa: E402
from simulator.errors import EngineError  # noqa: E402

# litellm prints help banners to stdout on every provider error; the engine reports errors itself.
litellm.suppress_debug_info = True

VERBALISED_REPLY_TOKENS = 60
"""Completion tokens of a typical verbalised answer, for cost estimates."""

_TRANSIENT = (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError,
              litellm.ServiceUnavailableError, litellm.InternalServerError, litellm.BadGatewayError)
_CREDENTIALS = (litellm.AuthenticationError, litellm.PermissionDeniedError)
_ENDPOINT_ERRORS = (litellm.NotFoundError, litellm.BadRequestError)
_PROVIDER_ERRORS = tuple(litellm.LITELLM_EXCEPTION_TYPES)
_UNKNOWN_MODEL = (litellm.ModelNotMappedError, *_PROVIDER_ERRORS)
_DONE = object()
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


class LiteLLMModel(LanguageModel):
    """A language model behind litellm (OpenAI, Anthropic, Gemini, Ollama, vLLM, llama.cpp, ...).

    Args:
        model: the litellm model string, e.g. ``openai/gpt-4o-mini`` or ``ollama/llama3``.
        options: its settings, validated (the API, verbalised answers, server, concurrency,
            rate, retries, time-out, sampling; each declared with its default and bounds in
            :class:`~simulator.cognition.options.LiteLLMOptions`).

    Raises:
        EngineError: a model whose provider litellm does not know.
    """

    methods = ("option_tokens", "cloze", "verbalised_json")

    def __init__(self, model: str, options: LiteLLMOptions | None = None) -> None:
        options = options or LiteLLMOptions()
        self.engine = f"litellm:{model}"
        self.model = model
        self.api = options.api
        self.verbalise = options.verbalise
        self.api_base = api_base = options.api_base
        self.temperature = options.temperature
        self.seed = options.seed
        self.max_tokens = options.max_tokens
        self.top_logprobs = options.top_logprobs
        self.timeout = options.timeout
        self.retry = RetryPolicy(options.max_retries, options.backoff_base, options.backoff_max)
        self.limit = RateLimit(options.concurrency, options.requests_per_minute)
        try:
            bare_model, provider, _, _ = litellm.get_llm_provider(model, api_base=api_base)
        except litellm.BadRequestError:
            raise EngineError(f"engine {self.engine}: litellm does not know the provider of "
                              f"{model!r} (write provider/model, e.g. openai/gpt-4o-mini or "
                              "ollama/llama3)") from None
        supported = litellm.get_supported_openai_params(model=bare_model,
                                                        custom_llm_provider=provider)
        # Whether replies carry log-probabilities: None until a reply tells.
        self._logprobs: bool | None = (
            False if supported is not None and "logprobs" not in supported else None
        )
        # Survey prompts are completion prompts: a self-hosted server (api_base: llama.cpp,
        # vLLM, Ollama) or a completion model is asked through text completions first.
        self._api_used = self.api if self.api != "auto" else (
            "text" if api_base or _is_text_model(model) else "chat")
        self._verbalised_used = False

    def describe(self) -> dict:
        """Engine, model, the API and reading used, and the server (without credentials)."""
        reading = "unknown" if self._logprobs is None and not self._verbalised_used else (
            "verbalised_json" if self._verbalised_used else "logprobs")
        info = {"engine": self.engine, "model": self.model, "api": self._api_used,
                "reading": reading}
        if self.api_base:
            info["api_base"] = public_url(self.api_base)
        return info

    def estimate(self, n_questions: int, prompt_tokens: int = 300) -> dict:
        """Calls and cost of asking ``n_questions`` the cache cannot serve, before paying.

        Retries are not counted. Before the first reply has told whether the provider returns
        log-probabilities, the (dearer) verbalised answers are assumed.

        Returns:
            ``calls``, ``prompt_tokens``, ``completion_tokens`` and ``cost_usd`` (``None`` when
            litellm has no price for the model).
        """
        completion_tokens = 1 if self._logprobs else VERBALISED_REPLY_TOKENS
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=self.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
            cost = n_questions * (prompt_cost + completion_cost)
        except _UNKNOWN_MODEL:
            cost = None
        return {"calls": n_questions, "prompt_tokens": n_questions * prompt_tokens,
                "completion_tokens": n_questions * completion_tokens, "cost_usd": cost}

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """Ask every question, ``concurrency`` calls at a time; yield answers as they arrive.

        Raises:
            EngineError: the provider stayed unavailable after every retry (run again to
                resume: the answers yielded so far are kept by the caching wrapper), or refused
                the request or the credentials.
        """
        if not questions:
            return
        arrived: queue.Queue = queue.Queue()
        future = asyncio.run_coroutine_threadsafe(self._ask_all(questions, arrived),
                                                  _calls_loop())
        try:
            while True:
                item = arrived.get()
                if item is _DONE:
                    break
                yield item
            future.result()
        finally:
            future.cancel()

    async def _ask_all(self, questions: Sequence[Question], arrived: queue.Queue) -> None:
        """Answer the questions concurrently, putting each ``(index, answer)`` as it arrives."""
        async def ask(i: int) -> None:
            arrived.put((i, await self._ask(questions[i])))

        try:
            first = 0
            if self._logprobs is None and questions[0].method != "verbalised_json":
                # One call tells whether replies carry log-probabilities; then the rest.
                await ask(0)
                first = 1
            tasks = [asyncio.create_task(ask(i)) for i in range(first, len(questions))]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            arrived.put(_DONE)

    async def _ask(self, question: Question) -> Answer:
        """One question: first-token log-probabilities if possible, else verbalised JSON."""
        responses: list[Any] = []
        if question.method != "verbalised_json" and self._logprobs is not False:
            top = await self._first_token(question, responses)
            if top is not None:
                targets = (option_numbers(len(question.options))
                           if question.method == "option_tokens" else question.options)
                distribution = token_distribution(top, targets, exact=self._api_used == "text")
                if distribution is not None:
                    return answer_of(responses, distribution)
            if not self.verbalise:
                return answer_of(responses, None, error="no option among the top tokens"
                               if top else "the reply carries no log-probabilities")
        self._verbalised_used = True
        return await self._verbalised(question, responses)

    async def _first_token(self, question: Question, responses: list) -> list | None:
        """Top alternatives of the first generated token (learning which API gives them).

        With ``api="auto"``, until a reply has carried log-probabilities, a call that the
        endpoint does not serve (not found, bad request) or that carries none is tried once
        more through the other API.
        """
        learning = self.api == "auto" and self._logprobs is None
        top = None
        for attempt in range(2 if learning else 1):
            if attempt:
                self._api_used = "chat" if self._api_used == "text" else "text"
            try:
                response = await self._complete(question.prompt, 1, logprobs=True,
                                                system=token_instruction(question),
                                                probing=learning and not attempt)
            except _WrongEndpoint:
                continue
            responses.append(response)
            top = first_token_logprobs(getattr(response.choices[0], "logprobs", None))
            if top is not None:
                break
        if self._logprobs is None:
            self._logprobs = top is not None
        return top

    async def _verbalised(self, question: Question, responses: list) -> Answer:
        """Ask for a JSON distribution, again while the reply is invalid."""
        prompt = verbalised_prompt(question)
        labels = question.labels
        problem = ""
        for attempt in range(self.retry.max_retries + 1):
            response = await self._complete(prompt, self.max_tokens, stop=["}\n", "}}"])
            responses.append(response)
            try:
                parsed = parse_verbalised(closed_reply(reply_text(response)), labels)
            except ElicitationError as error:
                problem = str(error)
                continue
            return answer_of(responses, parsed.distribution, repaired=parsed.repaired,
                           retries=attempt)
        return answer_of(responses, None, retries=len(responses) - 1,
                       error=f"no valid distribution in {len(responses)} replies: {problem}")

    async def _complete(self, prompt: str, max_tokens: int, logprobs: bool = False,
                        system: str | None = None, stop: list[str] | None = None,
                        probing: bool = False) -> Any:
        """One call through the API in use, rate-limited and retried.

        Raises:
            EngineError: retries exhausted, or an error that retrying cannot fix.
            _WrongEndpoint: ``probing`` and the endpoint does not serve the request.
        """
        request: dict[str, Any] = {
            "model": self.model, "temperature": self.temperature, "seed": self.seed,
            "timeout": self.timeout, "max_tokens": max_tokens, "num_retries": 0,
            "max_retries": 0, "drop_params": True}
        if self.api_base:
            request["api_base"] = self.api_base
        if stop:
            request["stop"] = stop
        if self._api_used == "text":
            call = litellm.atext_completion
            request["prompt"] = prompt
            if logprobs:
                request["logprobs"] = self.top_logprobs
        else:
            call = litellm.acompletion
            messages = [{"role": "user", "content": prompt}]
            if system:
                messages.insert(0, {"role": "system", "content": system})
            request["messages"] = messages
            if logprobs:
                request.update(logprobs=True, top_logprobs=self.top_logprobs)
        try:
            return await self.retry.call(partial(self.limit.call, call, **request), _is_transient)
        except RetriesExhausted as exhausted:
            raise EngineError(f"engine {self.engine}: the provider is unavailable after "
                              f"{exhausted.retries} retries ({self._summary(exhausted.last)}). "
                              "The answers obtained so far are in the response cache: run "
                              "again to resume without asking them again.") from None
        except _PROVIDER_ERRORS as error:
            if probing and isinstance(error, _ENDPOINT_ERRORS):
                raise _WrongEndpoint from None
            raise self._refusal(error) from None

    def _refusal(self, error: Exception) -> EngineError:
        """The error for a request the provider refuses (not retried)."""
        if isinstance(error, _CREDENTIALS):
            try:
                missing = litellm.validate_environment(self.model).get("missing_keys") or []
            except Exception:  # only a hint: it must not replace the credentials error
                missing = []
            hint = f" (not set: {', '.join(missing)})" if missing else ""
            return EngineError(f"engine {self.engine}: the provider refused the credentials "
                               f"({type(error).__name__}); set its API key in the "
                               f"environment{hint}")
        return EngineError(f"engine {self.engine}: the provider refused the request "
                           f"({self._summary(error)})")

    def _summary(self, error: Exception) -> str:
        """Error type and the first line of its message, with every recognisable secret masked."""
        lines = str(error).strip().splitlines() or [""]
        text = f"{type(error).__name__}: {lines[0][:300]}"
        if self.api_base:
            text = text.replace(self.api_base, public_url(self.api_base))
        return redact(text)


class _WrongEndpoint(Exception):
    """The API tried does not serve this request (the other one may)."""


def _is_transient(error: Exception) -> bool:
    """Rate limits, time-outs, lost connections and server errors: worth retrying."""
    status = getattr(error, "status_code", None)
    return isinstance(error, _TRANSIENT) or (isinstance(error, litellm.APIError)
                                             and isinstance(status, int) and status >= 500)


def _is_text_model(model: str) -> bool:
    """Whether litellm maps the model as a text-completion model."""
    try:
        return litellm.get_model_info(model).get("mode") == "completion"
    except _UNKNOWN_MODEL:
        return False


def _calls_loop() -> asyncio.AbstractEventLoop:
    """The process's event loop for litellm calls, running in a daemon thread.

    Every model shares it: litellm binds its background logging worker and its HTTP clients to
    the loop that first uses them. A forked process (a sweep worker) starts its own loop, since
    the thread running the parent's does not exist there.
    """
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="socialtwin-litellm",
                             daemon=True).start()
            _loop = (os.getpid(), loop)
            loop.set_exception_handler(_quiet_about_open_sessions)
        return _loop[1]


def _quiet_about_open_sessions(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The loop's exception handler, silent about HTTP sessions litellm leaves open at exit.

    litellm keeps its aiohttp sessions for the life of the process; when the process ends, each
    would print "Unclosed client session" on stderr, after the run's own last line.
    """
    if not str(context.get("message", "")).startswith(("Unclosed client session",
                                                        "Unclosed connector")):
        loop.default_exception_handler(context)
