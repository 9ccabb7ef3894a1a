"""The ``litellm:<model>`` engine: any provider litellm speaks, asked concurrently with retries.

A question is asked for the token probabilities of the first generated token where the provider
returns log-probabilities, else for a JSON distribution (validated by
:mod:`simulator.cognition.elicitation`, asked again while invalid). Calls run on an asyncio loop
of their own in a background thread, so the engine works the same from scripts and from inside
a running loop such as Jupyter's, with at most ``concurrency`` calls in flight. Transient
provider errors are retried with exponential backoff and jitter; when retries run out, or the
provider refuses the request, the answers already obtained are stored in the response cache
before :class:`~simulator.errors.EngineError` is raised, so running again resumes the run
without paying for any answer twice. API keys are read by litellm from the environment only:
never passed, stored, described or put in error messages.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

# The price table ships with litellm: never fetch it when litellm is imported.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import litellm  # noqa: E402

from simulator.cognition.cache import ResponseCache  # noqa: E402
from simulator.cognition.elicitation import (  # noqa: E402
    MAX_TOKEN_OPTIONS,
    ElicitationError,
    first_token_logprobs,
    parse_verbalised,
    token_distribution,
)
from simulator.cognition.engine import Answer, PromptedEngine, Question  # noqa: E402
from simulator.cognition.prompts import JSON_SUFFIX, TOKEN_SUFFIX, PromptBuilder  # noqa: E402
from simulator.errors import EngineError  # noqa: E402

# litellm prints help banners to stdout on every provider error; the engine reports errors itself.
litellm.suppress_debug_info = True

ELICITATIONS = ("auto", "token_probabilities", "verbalised_json")
TOKEN_INSTRUCTION = "Answer with the number of one option only."
VERBALISED_REPLY_TOKENS = 60
"""Completion tokens of a typical verbalised answer, for cost estimates."""

_TRANSIENT = (
    litellm.RateLimitError,
    litellm.Timeout,
    litellm.APIConnectionError,
    litellm.ServiceUnavailableError,
    litellm.InternalServerError,
    litellm.BadGatewayError,
)
_CREDENTIALS = (litellm.AuthenticationError, litellm.PermissionDeniedError)
_PROVIDER_ERRORS = tuple(litellm.LITELLM_EXCEPTION_TYPES)
_UNKNOWN_MODEL = (litellm.ModelNotMappedError, *_PROVIDER_ERRORS)
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_SECRET_TEXT = re.compile(r"\b(?:sk|pk|rk|key)-[\w\-*.]{6,}|\bBearer\s+\S+", re.IGNORECASE)
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


class LiteLLMEngine(PromptedEngine):
    """A language model behind litellm (OpenAI, Anthropic, Gemini, Ollama, vLLM, ...).

    Args:
        model: the litellm model string, e.g. ``openai/gpt-4o-mini`` or ``ollama/llama3``.
        prompts: the prompt builder of the run.
        cache: the persistent response cache (``None`` disables caching).
        elicitation: ``token_probabilities`` (log-probabilities of the first token; the provider
            must return them), ``verbalised_json`` (the model writes a JSON distribution) or
            ``auto`` (token probabilities while the provider returns them, else verbalised).
            Part of the cache key as configured; :meth:`describe` reports the method used.
        api_base: URL of the server (Ollama, vLLM, any OpenAI-compatible endpoint); ``None``
            uses the provider's default.
        concurrency: most calls in flight at once.
        max_retries: retries of a call after a transient provider error, and of a question
            after an invalid verbalised answer.
        timeout: seconds before a call times out (a time-out is retried).
        temperature: sampling temperature of every call.
        seed: sampling seed sent to providers that accept one; part of the cache key.
        max_tokens: completion tokens allowed for a verbalised answer.
        top_logprobs: alternatives requested for the first token.
        backoff_base: seconds before the first retry; the wait doubles with each retry.
        backoff_max: longest wait between retries, in seconds.

    Raises:
        EngineError: an invalid option, a model whose provider litellm does not know, or
            ``token_probabilities`` with a provider that does not return log-probabilities.
    """

    def __init__(
        self,
        model: str,
        prompts: PromptBuilder | None,
        cache: ResponseCache | None = None,
        elicitation: str = "auto",
        api_base: str | None = None,
        concurrency: int = 8,
        max_retries: int = 5,
        timeout: float = 60.0,
        temperature: float = 0.0,
        seed: int = 0,
        max_tokens: int = 256,
        top_logprobs: int = 20,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        super().__init__(model, elicitation, cache, prompts, seed)
        self.name = f"litellm:{model}"
        self.api_base = api_base
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.top_logprobs = top_logprobs
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._check_options()
        try:
            bare_model, provider, _, _ = litellm.get_llm_provider(model, api_base=api_base)
        except litellm.BadRequestError:
            raise EngineError(f"engine {self.name}: litellm does not know the provider of "
                              f"{model!r} (write provider/model, e.g. openai/gpt-4o-mini or "
                              "ollama/llama3)") from None
        supported = litellm.get_supported_openai_params(model=bare_model,
                                                        custom_llm_provider=provider)
        # Whether the provider returns log-probabilities: None until a reply tells.
        self._logprobs: bool | None = (
            False if supported is not None and "logprobs" not in supported else None
        )
        if self._logprobs is False and elicitation == "token_probabilities":
            raise EngineError(f"engine {self.name}: provider {provider} does not return token "
                              "log-probabilities (allowed elicitation: auto, verbalised_json)")
        self._chat = _is_chat_model(model)
        self._rng = random.Random(seed)

    def _check_options(self) -> None:
        """Raise EngineError naming the first invalid option."""
        if self.elicitation not in ELICITATIONS:
            raise EngineError(f"engine {self.name}: elicitation: unknown method "
                              f"{self.elicitation!r} (allowed: {', '.join(ELICITATIONS)})")
        bounds = {"concurrency": (self.concurrency, 1), "max_retries": (self.max_retries, 0),
                  "max_tokens": (self.max_tokens, 1), "top_logprobs": (self.top_logprobs, 1)}
        for option, (value, least) in bounds.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise EngineError(f"engine {self.name}: {option}: {value!r} "
                                  f"(allowed: an integer >= {least})")
        for option in ("timeout", "backoff_base", "backoff_max"):
            value = getattr(self, option)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise EngineError(f"engine {self.name}: {option}: {value!r} "
                                  "(allowed: a number of seconds >= 0)")

    @property
    def elicitation_used(self) -> str:
        """The method answers are read with (``auto`` until the first call has told)."""
        if self.elicitation != "auto" or self._logprobs is None:
            return self.elicitation
        return "token_probabilities" if self._logprobs else "verbalised_json"

    def describe(self) -> dict:
        """Engine, model, the elicitation method used and the server (without credentials)."""
        info = {"engine": self.name, "model": self.model, "elicitation": self.elicitation_used}
        if self.api_base:
            info["api_base"] = _public_url(self.api_base)
        return info

    def estimate(self, n_questions: int, prompt_tokens: int = 300) -> dict:
        """Calls and cost of asking questions the cache cannot serve, before paying for them.

        Retries are not counted. In ``auto`` mode before the first call, the (dearer)
        verbalised answers are assumed.

        Args:
            n_questions: questions to ask.
            prompt_tokens: tokens of a typical prompt.

        Returns:
            ``calls``, ``prompt_tokens``, ``completion_tokens`` and ``cost_usd`` (``None`` when
            litellm has no price for the model).
        """
        tokens = self.elicitation_used == "token_probabilities"
        completion_tokens = 1 if tokens else VERBALISED_REPLY_TOKENS
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=self.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
            cost = n_questions * (prompt_cost + completion_cost)
        except _UNKNOWN_MODEL:
            cost = None
        return {"calls": n_questions, "prompt_tokens": n_questions * prompt_tokens,
                "completion_tokens": n_questions * completion_tokens, "cost_usd": cost}

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        """Ask every question, ``concurrency`` calls at a time.

        A batch that cannot finish (retries exhausted, request refused, interrupted) is not
        lost: the answers obtained so far are accounted for and stored in the response cache
        here, before the error propagates, since :meth:`PromptedEngine.decide` never sees them.

        Raises:
            EngineError: the provider stayed unavailable after ``max_retries`` retries (run
                again to resume), or refused the request or the credentials.
        """
        done: dict[int, Answer] = {}
        future = asyncio.run_coroutine_threadsafe(self._ask_all(questions, done), _calls_loop())
        try:
            return future.result()
        except BaseException:
            future.cancel()
            finished = sorted(done.items())
            self.record([questions[i] for i, _ in finished], [a for _, a in finished])
            raise

    async def _ask_all(self, questions: Sequence[Question], done: dict[int, Answer]
                       ) -> list[Answer]:
        """Answer the questions concurrently, recording each answer in ``done`` as it arrives."""
        slots = asyncio.Semaphore(self.concurrency)

        async def ask(i: int) -> None:
            done[i] = await self._ask(questions[i], slots)

        first = 0
        if self.elicitation == "auto" and self._logprobs is None and questions:
            # One call tells whether the provider returns log-probabilities; then the rest.
            await ask(0)
            first = 1
        tasks = [asyncio.create_task(ask(i)) for i in range(first, len(questions))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [done[i] for i in range(len(questions))]

    async def _ask(self, question: Question, slots: asyncio.Semaphore) -> Answer:
        """One question: token probabilities if possible, else verbalised JSON with retries."""
        responses = []
        if self._reads_tokens(question):
            messages = [{"role": "user", "content": question.prompt}]
            if self._chat:
                messages.insert(0, {"role": "system", "content": TOKEN_INSTRUCTION})
            response = await self._complete(slots, messages, max_tokens=1, logprobs=True,
                                            top_logprobs=self.top_logprobs)
            responses.append(response)
            top = first_token_logprobs(getattr(response.choices[0], "logprobs", None))
            self._learn_logprobs(top is not None)
            distribution = token_distribution(top or [], len(question.labels))
            if distribution is not None:
                return _answer(responses, distribution)
        prompt = self._verbalised_prompt(question)
        problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats.retries += 1
            response = await self._complete(slots, [{"role": "user", "content": prompt}],
                                            max_tokens=self.max_tokens)
            responses.append(response)
            try:
                parsed = parse_verbalised(response.choices[0].message.content or "",
                                          question.labels)
            except ElicitationError as error:
                problem = str(error)
                continue
            return _answer(responses, parsed.distribution, repaired=parsed.repaired)
        return _answer(responses, None,
                       error=f"no valid distribution in {len(responses)} replies: {problem}")

    def _reads_tokens(self, question: Question) -> bool:
        """Whether to ask this question for token probabilities."""
        return (self.elicitation != "verbalised_json" and self._logprobs is not False
                and len(question.labels) <= MAX_TOKEN_OPTIONS)

    def _learn_logprobs(self, returned: bool) -> None:
        """Remember whether the provider returns log-probabilities (the first reply tells)."""
        if self._logprobs is None:
            if not returned and self.elicitation == "token_probabilities":
                raise EngineError(f"engine {self.name}: the provider returned no token "
                                  "log-probabilities (allowed elicitation: auto, "
                                  "verbalised_json)")
            self._logprobs = returned

    def _verbalised_prompt(self, question: Question) -> str:
        """The question asking for a JSON distribution (swapping the answer cue if needed)."""
        if self.elicitation == "verbalised_json":
            return question.prompt
        return question.prefix + question.suffix.removesuffix(TOKEN_SUFFIX) + JSON_SUFFIX

    async def _complete(self, slots: asyncio.Semaphore, messages: list[dict],
                        **params: Any) -> litellm.ModelResponse:
        """One call, made when one of the concurrency ``slots`` is free, retried with backoff.

        Raises:
            EngineError: retries exhausted, or an error that retrying cannot fix.
        """
        request = {"model": self.model, "messages": messages, "temperature": self.temperature,
                   "seed": self.seed, "timeout": self.timeout, "drop_params": True,
                   "num_retries": 0, "max_retries": 0, **params}
        if self.api_base:
            request["api_base"] = self.api_base
        attempt = 0
        while True:
            try:
                async with slots:
                    return await litellm.acompletion(**request)
            except _PROVIDER_ERRORS as error:
                if not _is_transient(error):
                    raise self._refusal(error) from None
                if attempt >= self.max_retries:
                    raise EngineError(
                        f"engine {self.name}: the provider is unavailable after "
                        f"{self.max_retries} retries ({self._summary(error)}). The answers "
                        "obtained so far are in the response cache: run again to resume "
                        "without asking them again."
                    ) from None
                self.stats.retries += 1
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt + 1``: exponential, with jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** attempt)
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def _refusal(self, error: Exception) -> EngineError:
        """The error for a request the provider refuses (not retried)."""
        if isinstance(error, _CREDENTIALS):
            try:
                missing = litellm.validate_environment(self.model).get("missing_keys") or []
            except Exception:  # only a hint: it must not replace the credentials error
                missing = []
            hint = f" (not set: {', '.join(missing)})" if missing else ""
            return EngineError(f"engine {self.name}: the provider refused the credentials "
                               f"({type(error).__name__}); set its API key in the "
                               f"environment{hint}")
        return EngineError(f"engine {self.name}: the provider refused the request "
                           f"({self._summary(error)})")

    def _summary(self, error: Exception) -> str:
        """Error type and the first line of its message, with every recognisable secret masked."""
        lines = str(error).strip().splitlines() or [""]
        text = f"{type(error).__name__}: {lines[0][:300]}"
        if self.api_base:
            text = text.replace(self.api_base, _public_url(self.api_base))
        return _redact(text)


def _calls_loop() -> asyncio.AbstractEventLoop:
    """The process's event loop for litellm calls, running in a daemon thread.

    Every engine shares it: litellm binds its background logging worker and its HTTP clients to
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
        return _loop[1]


def _answer(responses: Sequence[Any], distribution: np.ndarray | None, repaired: bool = False,
            error: str | None = None) -> Answer:
    """An answer with the tokens and cost of every call it took (cost ``None`` if unknown)."""
    costs = [getattr(r, "_hidden_params", {}).get("response_cost") for r in responses]
    usages = [getattr(r, "usage", None) for r in responses]
    return Answer(
        distribution=distribution,
        tokens_in=sum(getattr(u, "prompt_tokens", 0) or 0 for u in usages),
        tokens_out=sum(getattr(u, "completion_tokens", 0) or 0 for u in usages),
        cost_usd=None if None in costs else float(sum(costs)),
        repaired=repaired,
        error=error,
    )


def _is_transient(error: Exception) -> bool:
    """Rate limits, time-outs, lost connections and server errors: worth retrying."""
    status = getattr(error, "status_code", None)
    return isinstance(error, _TRANSIENT) or (isinstance(error, litellm.APIError)
                                             and isinstance(status, int) and status >= 500)


def _is_chat_model(model: str) -> bool:
    """Whether the model takes chat messages (unknown models are assumed to)."""
    try:
        return litellm.get_model_info(model).get("mode", "chat") == "chat"
    except _UNKNOWN_MODEL:
        return True


def _public_url(url: str) -> str:
    """A URL without user, password, query or fragment (where credentials may hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _redact(text: str) -> str:
    """Text with the values of secret-looking environment variables and API keys masked."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name):
            text = text.replace(value, "***")
    return _SECRET_TEXT.sub("***", text)
