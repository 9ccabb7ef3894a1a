"""The language-model seam: rendered questions in, distributions over their options out.

A :class:`LanguageModel` knows nothing of personas, policies, caches or budgets (Concordia's
``LanguageModel`` is the model for this): it answers :class:`Question` objects, each a prompt and
the options to choose among, by one of the elicitation methods it supports. Caching, accounting,
retries and rate limits are wrappers around it (:mod:`simulator.cognition.cached_model`,
:mod:`simulator.cognition.accounting`, :mod:`simulator.cognition.retries`), each testable alone.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

METHODS = ("option_tokens", "cloze", "verbalised_json")
"""How an answer is read from a model.

``option_tokens``: the options are listed with numbers and the answer is the next-token
distribution over the digits ``1..n``. ``cloze``: the options are not listed; each option text is
scored as the continuation of the prompt (the sum of its tokens' log-probabilities) and the
scores are normalised over the options (OLMES, Gu et al. 2024, find this formulation better for
small base models). ``verbalised_json``: the model writes a JSON distribution over the numbered
options (models that return no log-probabilities).
"""


@dataclass(frozen=True)
class Question:
    """One rendered question.

    Attributes:
        key: cache key (see :func:`question_key`).
        prefix: the part of the prompt shared by neighbouring questions (preamble, situation,
            persona and listed options), so models can reuse its evaluation.
        suffix: the rest of the prompt, ending in the answer cue.
        options: what is scored: the continuations (cloze, e.g. ``" Yes"``) or the option labels
            (option tokens and verbalised JSON, answered by their numbers ``1..n``).
        method: one of :data:`METHODS`.
    """

    key: str
    prefix: str
    suffix: str
    options: tuple[str, ...]
    method: str

    @property
    def prompt(self) -> str:
        """The whole prompt."""
        return self.prefix + self.suffix

    @property
    def labels(self) -> tuple[str, ...]:
        """The option labels as a reader sees them (cloze continuations without their space)."""
        if self.method != "cloze":
            return self.options
        return tuple(option.removeprefix(" ") for option in self.options)


@dataclass
class Answer:
    """A model's answer to one :class:`Question`.

    Attributes:
        distribution: probabilities over the options (sums to 1), ``None`` if the answer failed.
        tokens_in: prompt tokens billed or evaluated.
        tokens_out: completion tokens.
        cost_usd: cost of the call, ``None`` when unknown.
        repaired: the raw output needed an unambiguous repair.
        error: why the answer failed (``None`` on success).
        retries: calls repeated for this answer (provider errors, invalid replies).
    """

    distribution: np.ndarray | None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    repaired: bool = False
    error: str | None = None
    retries: int = 0


class LanguageModel(abc.ABC):
    """A model that answers rendered questions.

    Attributes:
        engine: the engine name written in scenarios (``local``, ``litellm:<model>``).
        model: the model identifier (part of every cache key).
        methods: the elicitation methods this model supports.
    """

    engine: str = "model"
    model: str = "model"
    methods: tuple[str, ...] = METHODS

    @abc.abstractmethod
    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """Answer questions, yielding ``(index, answer)`` for each as soon as it is known.

        Answers may arrive in any order (concurrent providers); every question is yielded
        exactly once unless the model raises, in which case the answers yielded so far stand.
        """

    def describe(self) -> dict:
        """What the manifest records about the model (never secrets)."""
        return {"engine": self.engine, "model": self.model}

    def close(self) -> None:  # noqa: B027 - optional hook: most models hold nothing
        """Release resources (weights, connections)."""


class ModelWrapper(LanguageModel):
    """A layer around a language model (caching, accounting): it answers as, and is, the model.

    Subclasses override :meth:`answer`; the name, identifier, methods and description are the
    wrapped model's, and closing the wrapper closes it.

    Args:
        inner: the wrapped model.
    """

    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.engine, self.model, self.methods = inner.engine, inner.model, inner.methods

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """The wrapped model's answers, unchanged."""
        return self.inner.answer(questions)

    def describe(self) -> dict:
        """The wrapped model's description."""
        return self.inner.describe()

    def close(self) -> None:
        """Close the wrapped model."""
        self.inner.close()


def question_key(engine: str, model: str, prompt: str, options: Sequence[str], method: str,
                 seed: int) -> str:
    """SHA-256 of everything that determines an answer: the key of the response cache."""
    payload = json.dumps([engine, model, prompt, list(options), method, seed],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
