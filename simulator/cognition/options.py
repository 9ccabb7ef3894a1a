"""Engine options, declared once: the scenario's ``engine.options`` and the engines' arguments.

Each engine's options are a :class:`~simulator.fields.Section` (unknown options refused, numbers
finite and within bounds). A scenario file is checked against them when it is read, with the
file and field in the message; :func:`check_options` checks the same declaration when an engine
is created from Python. A field left out (or ``null``) takes the engine's own default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from simulator.cognition.elicitation import DEBIAS, OPTION_ORDERS, WORDINGS
from simulator.cognition.language_model import METHODS
from simulator.errors import EngineError
from simulator.fields import Flag, Section, Text, choice, number, scenario_error, whole

APIS = ("auto", "chat", "text")
ALIASES = {"token_probabilities": "option_tokens", "auto": "cloze"}
"""Earlier names of elicitation methods, still accepted in scenario files."""
ELICITATIONS = (*METHODS, *ALIASES)
"""Elicitation methods a scenario may name."""


class RulesOptions(Section):
    """Options of the ``rules`` engine (see :class:`~simulator.cognition.rules.RulesEngine`)."""

    fatigue_weeks: number(0.01, 10_000) | None = None
    vaccine_protection: number(0, 1) | None = None


class ElicitationOptions(Section):
    """How a language model is asked (see :class:`~simulator.cognition.elicitation.Elicitation`)."""

    elicitation: choice(*ELICITATIONS) | None = None
    balanced: Flag | None = None
    option_orders: choice(*OPTION_ORDERS) | None = None
    debias: choice(*DEBIAS) | None = None
    wordings: choice(*WORDINGS) | None = None


class LocalOptions(ElicitationOptions):
    """Options of the ``local`` engine (see :class:`~simulator.cognition.local.LocalModel`)."""

    model_path: Text | None = None
    n_ctx: whole(32, 131_072) | None = None
    n_threads: whole(1, 1024) | None = None
    n_batch: whole(32, 131_072) | None = None
    """At least twice the shortest batch (``local.MIN_BATCH``), and a multiple of 4."""
    seed: whole(0, 2**31 - 1) | None = None
    reuse_prefix: Flag | None = None


class LiteLLMOptions(ElicitationOptions):
    """Options of ``litellm:<model>`` (see :class:`~simulator.cognition.remote.LiteLLMModel`)."""

    api: choice(*APIS) | None = None
    verbalise: Flag | None = None
    api_base: Text | None = None
    concurrency: whole(1, 1024) | None = None
    requests_per_minute: number(0.001, 1e9) | None = None
    max_retries: whole(0, 100) | None = None
    timeout: number(0.001, 86_400) | None = None
    temperature: number(0, 2) | None = None
    seed: whole(0, 2**31 - 1) | None = None
    max_tokens: whole(16, 100_000) | None = None
    top_logprobs: whole(1, 20) | None = None
    backoff_base: number(0, 3_600) | None = None
    backoff_max: number(0, 86_400) | None = None


def options_model(engine: str) -> type[Section]:
    """The options declaration of an engine name (``rules``, ``local``, ``litellm:<model>``)."""
    if engine == "rules":
        return RulesOptions
    if engine == "local":
        return LocalOptions
    return LiteLLMOptions


def check_options(engine: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options an engine is given, checked; those left out or ``null`` are dropped.

    Raises:
        EngineError: an unknown option or an invalid value, named with what is allowed.
    """
    try:
        checked = options_model(engine).model_validate(dict(options))
    except ValidationError as error:
        found = scenario_error(f"engine {engine}", error)
        problem = f"{found.field}: {found.problem}"
        if found.problem == "unknown field":
            problem = f"unknown option {found.field}"
        allowed = f" (allowed: {found.allowed})" if found.allowed else ""
        raise EngineError(f"engine {engine}: {problem}{allowed}") from None
    return {k: v for k, v in checked.model_dump().items() if v is not None}
