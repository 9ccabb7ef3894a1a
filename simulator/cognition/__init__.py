"""Cognition: how agents decide — personas, prompts, elicitation, the response cache and engines."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from simulator.cognition.accounting import EngineStats
from simulator.cognition.elicitation import Elicitation
from simulator.cognition.engine import DecisionRequest, Decisions, Engine, Respondent
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.language_model import Answer, LanguageModel, Question
from simulator.cognition.options import EngineOptions, engine_options
from simulator.cognition.prompts import PromptBuilder
from simulator.cognition.response_cache import ResponseCache, default_cache_path
from simulator.cognition.rules import RulesEngine
from simulator.errors import EngineError
from simulator.sources.indicators import Indicator

__all__ = [
    "Answer", "Respondent", "DecisionRequest", "Decisions", "Elicitation", "Engine",
    "EngineStats", "LanguageEngine", "LanguageModel", "PromptBuilder", "Question",
    "ResponseCache", "RulesEngine", "default_cache_path", "make_engine",
]

def make_engine(name: str, options: Mapping | EngineOptions | None,
                indicators: Mapping[str, Indicator],
                cache_path: str | Path | None = None) -> Engine:
    """Create the engine a scenario names.

    Args:
        name: ``rules``, ``local`` or ``litellm:<model>``.
        options: the engine's options: a scenario's ``engine.options`` (validated already) or a
            mapping, validated against the engine's declaration
            (:mod:`simulator.cognition.options`).
        indicators: the indicator catalogue (the ``rules`` engine reads their levels).
        cache_path: response cache file; ``None`` uses the per-user cache folder.

    Raises:
        EngineError: unknown engine, unknown option, or the engine cannot start.
    """
    if name not in ("rules", "local") and not (name.startswith("litellm:")
                                               and len(name) > len("litellm:")):
        raise EngineError(f"unknown engine {name!r} (allowed: local, rules, litellm:<model>)")
    settings = engine_options(name, options)
    if name == "rules":
        return RulesEngine(indicators, settings)
    if name == "local":
        from simulator.cognition.local import LocalModel

        model = LocalModel(settings)
    else:
        from simulator.cognition.remote import LiteLLMModel

        model = LiteLLMModel(name.split(":", 1)[1], settings)
    return LanguageEngine(model, settings.to_elicitation(), ResponseCache(cache_path),
                          seed=settings.seed, combination=settings.to_combination())
