"""Cognition: how agents decide — archetypes, prompts, the response cache and the engines."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path

from simulator.cognition.cache import ResponseCache, default_cache_path
from simulator.cognition.engine import (
    Answer,
    Archetype,
    DecisionRequest,
    Decisions,
    Engine,
    EngineStats,
    PromptedEngine,
    Question,
)
from simulator.cognition.prompts import PromptBuilder
from simulator.cognition.rules import RulesEngine
from simulator.errors import EngineError
from simulator.indicators import Indicator

__all__ = [
    "Answer", "Archetype", "DecisionRequest", "Decisions", "Engine", "EngineStats",
    "PromptBuilder", "PromptedEngine", "Question", "ResponseCache", "RulesEngine",
    "default_cache_path", "make_engine",
]


def make_engine(
    name: str,
    options: Mapping,
    prompts: PromptBuilder | None,
    indicators: Mapping[str, Indicator],
    cache_path: str | Path | None = None,
) -> Engine:
    """Create the engine a scenario names.

    Args:
        name: ``rules``, ``local`` or ``litellm:<model>``.
        options: engine options from the scenario (checked against the engine's parameters).
        prompts: the prompt builder of the run (``None``: the model that uses the engine binds
            its own, see :meth:`Engine.bind`).
        indicators: the indicator catalogue.
        cache_path: response cache file; ``None`` uses the per-user cache folder.

    Raises:
        EngineError: unknown engine, unknown option, or the engine cannot start.
    """
    if name == "rules":
        kind, fixed = RulesEngine, {"indicators": indicators}
    elif name == "local":
        from simulator.cognition.local import LocalEngine

        kind, fixed = LocalEngine, {"prompts": prompts}
    elif name.startswith("litellm:") and len(name) > len("litellm:"):
        from simulator.cognition.remote import LiteLLMEngine

        kind, fixed = LiteLLMEngine, {"prompts": prompts, "model": name.split(":", 1)[1]}
    else:
        raise EngineError(f"unknown engine {name!r} (allowed: local, rules, litellm:<model>)")
    accepted = [p for p in inspect.signature(kind.__init__).parameters
                if p not in ("self", "cache", *fixed)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise EngineError(f"engine {name}: unknown option(s) {', '.join(unknown)} "
                          f"(allowed: {', '.join(accepted)})")
    if kind is not RulesEngine:
        fixed["cache"] = ResponseCache(cache_path)
    return kind(**fixed, **options)
