"""Cognition: how agents decide — personas, prompts, elicitation, the response cache and engines."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from simulator.cognition.accounting import EngineStats
from simulator.cognition.cache import ResponseCache, default_cache_path
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.engine import Archetype, DecisionRequest, Decisions, Engine
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.language_model import Answer, LanguageModel, Question
from simulator.cognition.options import ALIASES, check_options
from simulator.cognition.prompts import PromptBuilder
from simulator.cognition.rules import RulesEngine
from simulator.errors import EngineError
from simulator.sources.indicators import Indicator

__all__ = [
    "Answer", "Archetype", "DecisionRequest", "Decisions", "Elicitation", "Engine",
    "EngineStats", "LanguageEngine", "LanguageModel", "PromptBuilder", "Question",
    "ResponseCache", "RulesEngine", "default_cache_path", "make_engine",
]

DEFAULT_ELICITATION = {"elicitation": "option_tokens", "balanced": False,
                       "option_orders": "forward", "debias": "none", "wordings": "first"}
"""The elicitation of language-model engines unless a scenario says otherwise: chosen by the
probe card and the nation evaluation of the ``local`` engine among seven candidates
(benchmarks/bench_elicitation.py; README, "Elicitation"). Listed yes/no options read through
their digits tied for the most policy and context probes with the expected sign, had the most
persona probes right and beat gradient boosting on the nation; averaging both option orders did
slightly better on the nation at twice the calls."""


def make_engine(name: str, options: Mapping, indicators: Mapping[str, Indicator],
                cache_path: str | Path | None = None) -> Engine:
    """Create the engine a scenario names.

    Args:
        name: ``rules``, ``local`` or ``litellm:<model>``.
        options: engine options from the scenario: the elicitation (``elicitation``,
            ``balanced``, ``option_orders``, ``debias``, ``wordings``) and the model's
            parameters.
        indicators: the indicator catalogue (the ``rules`` engine reads their levels).
        cache_path: response cache file; ``None`` uses the per-user cache folder.

    Raises:
        EngineError: unknown engine, unknown option, or the engine cannot start.
    """
    if name == "rules":
        return RulesEngine(indicators, **check_options(name, options))
    if name == "local":
        from simulator.cognition.local import LocalModel

        kind, fixed = LocalModel, {}
    elif name.startswith("litellm:") and len(name) > len("litellm:"):
        from simulator.cognition.remote import LiteLLMModel

        kind, fixed = LiteLLMModel, {"model": name.split(":", 1)[1]}
    else:
        raise EngineError(f"unknown engine {name!r} (allowed: local, rules, litellm:<model>)")
    given = check_options(name, options)
    settings = {**DEFAULT_ELICITATION, **{k: v for k, v in given.items()
                                          if k in DEFAULT_ELICITATION}}
    model_options = {k: v for k, v in given.items() if k not in DEFAULT_ELICITATION}
    method = settings.pop("elicitation")
    elicitation = Elicitation(method=ALIASES.get(method, method), **settings)
    model = kind(**fixed, **model_options)
    return LanguageEngine(model, elicitation, ResponseCache(cache_path),
                          seed=model_options.get("seed", 0))
