"""Errors a user can act on: each names where the problem is and what would be accepted."""

from __future__ import annotations

from collections.abc import Iterable


class SocialTwinError(Exception):
    """Base class of every error socialtwin raises on purpose."""


class ScenarioError(SocialTwinError, ValueError):
    """A scenario file (or dict) is invalid.

    The message reads ``<source>: <field>: <problem> (allowed: ...)`` so that a user can fix the
    file without reading code.
    """

    def __init__(
        self,
        source: str,
        field: str,
        problem: str,
        allowed: str | Iterable[str] | None = None,
    ) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        if allowed is not None and not isinstance(allowed, str):
            allowed = ", ".join(str(item) for item in allowed)
        self.allowed = allowed
        message = f"{source}: {field}: {problem}"
        if allowed:
            message += f" (allowed: {allowed})"
        super().__init__(message)


class EngineError(SocialTwinError, RuntimeError):
    """A cognition engine cannot be created or cannot answer (and retrying will not help)."""


class UsageError(SocialTwinError, ValueError):
    """An argument of a command or function is invalid (e.g. an unknown region selection)."""
