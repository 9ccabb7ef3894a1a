"""Engine options, declared once: the scenario's ``engine.options`` are the engines' settings.

Each engine's options are a :class:`~simulator.fields.Section` whose fields declare their bounds
and defaults (unknown options refused, numbers finite and within bounds). A scenario file is
validated into one when it is read (with the file and field in the message), and the engine is
given that object whole; :func:`engine_options` validates a mapping the same way when an engine
is created from Python. A field left out (or ``null``) takes its declared default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, create_model, model_validator

from simulator.cognition.elicitation import DEBIAS, OPTION_ORDERS, WORDINGS, Elicitation
from simulator.cognition.language_model import METHODS
from simulator.cognition.personas import PERSONA_ATTRIBUTES, Combination
from simulator.errors import EngineError
from simulator.fields import Flag, Section, Text, choice, number, scenario_error, whole

APIS = ("auto", "chat", "text")
ALIASES = {"token_probabilities": "option_tokens", "auto": "cloze"}
"""Earlier names of elicitation methods, still accepted in scenario files."""
ELICITATIONS = (*METHODS, *ALIASES)
"""Elicitation methods a scenario may name."""


class EngineOptions(Section):
    """Options of an engine: each field declares its bounds and its default once.

    A field left out, or given as ``null``, takes its default; :meth:`given` tells the options a
    scenario set (what a mechanism's fingerprint records).
    """

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data

    def given(self) -> dict[str, Any]:
        """The options set explicitly (not left to their defaults)."""
        return self.model_dump(exclude_unset=True)


class RulesOptions(EngineOptions):
    """Options of the ``rules`` engine (see :class:`~simulator.cognition.rules.RulesEngine`)."""

    fatigue_weeks: number(0.01, 10_000) = 52.0
    """Weeks under restrictions after which compliance has halved."""
    vaccine_protection: number(0, 1) = 0.6
    """Share of the epidemic threat removed per unit vaccinated share."""
    compliance_scale: number(0.01, 100) = 1.0
    """How strongly the population follows the rules, relative to the mechanism's (1: as the
    rules say): it multiplies every policy term. ``socialtwin fit --pooling regions`` fits one
    per region, pulled towards 1."""


class ElicitationOptions(EngineOptions):
    """How a language model is asked (see :class:`~simulator.cognition.elicitation.Elicitation`).

    The defaults were chosen by the probe card and the nation evaluation of the ``local`` engine
    among the candidates of ``benchmarks/bench_elicitation.py`` (README, "Engines"): listed yes/no
    options read through their digits tied for the most policy and context probes with the
    expected sign, had the most persona probes right and beat gradient boosting on the nation.
    """

    elicitation: choice(*ELICITATIONS) = "option_tokens"
    balanced: Flag = False
    option_orders: choice(*OPTION_ORDERS) = "forward"
    debias: choice(*DEBIAS) = "none"
    wordings: choice(*WORDINGS) = "first"

    def to_elicitation(self) -> Elicitation:
        """The elicitation these options describe (earlier method names translated)."""
        return Elicitation(method=ALIASES.get(self.elicitation, self.elicitation),
                           balanced=self.balanced, option_orders=self.option_orders,
                           debias=self.debias, wordings=self.wordings)


ContrastWeights = create_model(
    "ContrastWeights", __base__=Section,
    __doc__="Weight of each persona attribute's contrasts (every attribute a persona can show; "
            "1 each: the design's own combination).",
    **{name: (number(-10, 10), 1.0) for name in PERSONA_ATTRIBUTES})
"""``contrast_weights``: persona attribute -> weight, each declared with its bounds and default."""


class LanguageOptions(ElicitationOptions):
    """How a language model is asked, and how its persona answers combine into each cell's.

    ``contrast_weights`` and ``logit_scale`` weigh the answers of the factorial persona design
    (:mod:`simulator.cognition.personas`): a cell's logit is ``logit_scale * (logit p(base) +
    sum_k contrast_weights[attribute of k] * [logit p(variant_k) - logit p(base)])``. They change
    neither the questions nor the model's answers (nor the response cache), only what the
    answers are combined with; ``socialtwin fit`` estimates them on training weeks. The
    defaults (1 each) combine the answers as the design always did.
    """

    contrast_weights: ContrastWeights = Field(default_factory=ContrastWeights)
    """Per persona attribute, the weight of its contrasts with the base persona (1: as the
    model answered; 0: the attribute's contrasts left out; negative: reversed)."""
    logit_scale: number(0.01, 100) = 1.0
    """Factor on every cell's combined logit: one over a temperature (above 1 pushes answers
    away from 1/2, below 1 towards it)."""

    def to_combination(self) -> Combination:
        """The combination these options describe."""
        return Combination(self.contrast_weights.model_dump(), self.logit_scale)


class LocalOptions(LanguageOptions):
    """Options of the ``local`` engine (see :class:`~simulator.cognition.local.LocalModel`)."""

    model_path: Text | None = None
    """A GGUF file; none: the packaged Gemma 3 270M."""
    n_ctx: whole(32, 131_072) = 2048
    """Context length in tokens; a longer prompt is an error."""
    n_threads: whole(1, 1024) | None = None
    """CPU threads; none: every CPU."""
    n_batch: whole(32, 131_072) = 512
    """Most tokens evaluated in one llama.cpp call: at least twice the shortest batch
    (``local.MIN_BATCH``), and a multiple of 4."""
    seed: whole(0, 2**31 - 1) = 0
    """Seed given to llama.cpp (answers do not sample), and part of the cache key."""
    reuse_prefix: Flag = True
    """Keep the key-value cache of the token prefix a question shares with the previous one;
    false evaluates every prompt from scratch (same answers, slower)."""


class LiteLLMOptions(LanguageOptions):
    """Options of ``litellm:<model>`` (see :class:`~simulator.cognition.remote.LiteLLMModel`)."""

    api: choice(*APIS) = "auto"
    """``chat``, ``text`` (completions of a raw prompt: base models, llama.cpp, vLLM) or
    ``auto``: text completions for completion models and self-hosted servers (``api_base`` set),
    chat otherwise; until a reply carries log-probabilities, a refused call or one without them
    is tried once through the other API."""
    verbalise: Flag = True
    """When the provider returns no log-probabilities, ask for a JSON distribution instead of
    failing."""
    api_base: Text | None = None
    """URL of the server (Ollama, vLLM, any OpenAI-compatible endpoint)."""
    concurrency: whole(1, 1024) = 8
    """Most calls in flight at once."""
    requests_per_minute: number(0.001, 1e9) | None = None
    """Most calls started per minute (none: no limit)."""
    max_retries: whole(0, 100) = 5
    """Retries of a call after a transient provider error, and of a question after an invalid
    verbalised answer."""
    timeout: number(0.001, 86_400) = 60.0
    """Seconds before a call times out (a time-out is retried)."""
    temperature: number(0, 2) = 0.0
    """Sampling temperature of every call."""
    seed: whole(0, 2**31 - 1) = 0
    """Sampling seed sent to providers that accept one (and part of the cache key)."""
    max_tokens: whole(16, 100_000) = 96
    """Completion tokens allowed for a verbalised answer (replies are also cut at the end of the
    JSON object)."""
    top_logprobs: whole(1, 20) = 20
    """Alternatives requested for the first token."""
    backoff_base: number(0, 3_600) = 1.0
    """Seconds before the first retry; the wait doubles with each retry."""
    backoff_max: number(0, 86_400) = 60.0
    """Longest wait between retries, in seconds."""


def options_model(engine: str) -> type[EngineOptions]:
    """The options declaration of an engine name (``rules``, ``local``, ``litellm:<model>``)."""
    if engine == "rules":
        return RulesOptions
    if engine == "local":
        return LocalOptions
    return LiteLLMOptions


def engine_options(engine: str, options: Mapping[str, Any] | EngineOptions | None = None
                   ) -> EngineOptions:
    """The validated options of an engine (a scenario's are validated already and pass through).

    Raises:
        EngineError: an unknown option or an invalid value, named with what is allowed.
    """
    kind = options_model(engine)
    if isinstance(options, kind):
        return options
    if isinstance(options, EngineOptions):
        options = options.given()
    try:
        return kind.model_validate(dict(options or {}))
    except ValidationError as error:
        found = scenario_error(f"engine {engine}", error)
        problem = f"{found.field}: {found.problem}"
        if found.problem == "unknown field":
            problem = f"unknown option {found.field}"
        allowed = f" (allowed: {found.allowed})" if found.allowed else ""
        raise EngineError(f"engine {engine}: {problem}{allowed}") from None
