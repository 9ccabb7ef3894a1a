"""The engine interface: a batch of archetype requests in, a probability array out.

Every engine (``rules``, ``local``, ``litellm:<model>``) answers :class:`DecisionRequest` batches
through :meth:`Engine.decide`. Language-model engines share :class:`PromptedEngine`, which renders
prompts, serves what it can from the persistent response cache, asks the model only on a miss,
and keeps the accounting; a concrete engine only implements :meth:`PromptedEngine.answer`.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from simulator.behaviours import Behaviour
from simulator.cognition.cache import ResponseCache
from simulator.cognition.prompts import PromptBuilder, shared_options
from simulator.errors import EngineError
from simulator.policy import Signals


@dataclass(frozen=True)
class Archetype:
    """A group of agents that the engine is asked about as one persona.

    Attributes:
        index: position in the archetype set.
        attributes: binned attribute -> label, exactly what the prompt shows.
        traits: mean numeric traits of the member agents (shares for categories).
        size: number of member agents.
    """

    index: int
    attributes: Mapping[str, str]
    traits: Mapping[str, float]
    size: int


@dataclass(frozen=True)
class DecisionRequest:
    """One archetype, at one tick, asked about every behaviour."""

    archetype: Archetype
    signals: Signals
    behaviours: tuple[Behaviour, ...]


@dataclass
class Decisions:
    """The answers to a batch of requests.

    Attributes:
        probabilities: array of shape (n_requests, n_behaviours); NaN where an answer failed.
        distributions: option distributions per request and behaviour (``None`` where failed);
            empty for engines that do not answer with options.
    """

    probabilities: np.ndarray
    distributions: list[list[np.ndarray | None]] = field(default_factory=list)

    @property
    def failed(self) -> np.ndarray:
        """Boolean mask of shape (n_requests, n_behaviours): answers that failed."""
        return np.isnan(self.probabilities)


@dataclass
class EngineStats:
    """Accounting of one engine over a run (the manifest reports it)."""

    questions: int = 0
    llm_calls: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    failed_answers: int = 0
    repaired_answers: int = 0
    retries: int = 0

    def add_cost(self, cost: float | None) -> None:
        """Add the cost of one call; an unknown cost makes the total unknown (``None``)."""
        if cost is None or self.cost_usd is None:
            self.cost_usd = None
        else:
            self.cost_usd += cost

    def as_dict(self) -> dict:
        """Plain dict of the counters."""
        return asdict(self)

    def since(self, earlier: EngineStats) -> EngineStats:
        """The counts accumulated after ``earlier`` (a copy taken before a run)."""
        now, then = self.as_dict(), earlier.as_dict()
        delta = {k: (None if now[k] is None or then[k] is None else now[k] - then[k])
                 for k in now}
        return EngineStats(**delta)


class Engine(abc.ABC):
    """Base class of the cognition engines.

    Attributes:
        name: engine name as written in scenarios (``rules``, ``local``, ``litellm:<model>``).
        stats: accounting since the engine was created.
    """

    name: str = "engine"

    def __init__(self) -> None:
        self.stats = EngineStats()

    @abc.abstractmethod
    def decide(self, requests: Sequence[DecisionRequest]) -> Decisions:
        """Answer a batch of requests.

        Args:
            requests: one request per archetype (all with the same behaviours).

        Returns:
            Decisions with probabilities of shape (len(requests), n_behaviours).
        """

    def describe(self) -> dict:
        """What the manifest records about this engine (never secrets)."""
        return {"engine": self.name, "model": None, "elicitation": None}

    def bind(self, prompts: PromptBuilder) -> None:  # noqa: B027 - engines without prompts ignore it
        """Use a model's prompt builder (its region and indicators) from now on.

        A model binds its builder when it is created, so one engine (one loaded language
        model, one cache connection) can serve many models in turn: regions, sweep variants.
        Engines that do not prompt ignore it.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing
        """Release resources (model weights, connections, the cache)."""


@dataclass(frozen=True)
class Question:
    """One rendered question: a prompt prefix shared by an archetype's questions, and its suffix.

    Attributes:
        key: cache key (hash of engine, model, prompt, options, elicitation, seed).
        prefix: preamble, situation, persona and the options when all behaviours share them
            (common to the questions of one request).
        suffix: the behaviour question (with its options otherwise), ending in ``"Answer: "``.
        labels: option labels in order; the model answers with their numbers ``1..n``.
    """

    key: str
    prefix: str
    suffix: str
    labels: tuple[str, ...]

    @property
    def prompt(self) -> str:
        """The whole prompt."""
        return self.prefix + self.suffix


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
    """

    distribution: np.ndarray | None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    repaired: bool = False
    error: str | None = None


class PromptedEngine(Engine):
    """A language-model engine: prompts, the response cache, and accounting around :meth:`answer`.

    Args:
        model: model identifier recorded in the cache key and the manifest.
        elicitation: how answers are elicited (``token_probabilities`` or ``verbalised_json``).
        cache: the persistent response cache (``None`` disables caching).
        prompts: the prompt builder (``None`` until a model binds its own).
        seed: sampling seed, part of the cache key.
    """

    def __init__(
        self,
        model: str,
        elicitation: str,
        cache: ResponseCache | None,
        prompts: PromptBuilder | None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.model = model
        self.elicitation = elicitation
        self.cache = cache
        self.prompts = prompts
        self.seed = seed

    @abc.abstractmethod
    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        """Ask the model the questions the cache could not serve (one call each)."""

    def describe(self) -> dict:
        """Engine, model and elicitation method."""
        return {"engine": self.name, "model": self.model, "elicitation": self.elicitation}

    def bind(self, prompts: PromptBuilder) -> None:
        """Render questions with ``prompts`` from now on."""
        self.prompts = prompts

    def question(self, request: DecisionRequest, behaviour: Behaviour) -> Question:
        """Render the question for one behaviour of a request, with its cache key."""
        if self.prompts is None:
            raise EngineError(f"engine {self.name} has no prompt builder: create it with one "
                              "or let a TwinModel bind its own (Engine.bind)")
        prefix = self.prompts.prefix(request.archetype, request.signals, request.behaviours)
        suffix = self.prompts.question(behaviour, self.elicitation,
                                       shared_options(request.behaviours))
        labels = tuple(option.label for option in behaviour.options)
        key = cache_key(self.name, self.model, prefix + suffix, labels, self.elicitation, self.seed)
        return Question(key, prefix, suffix, labels)

    def decide(self, requests: Sequence[DecisionRequest]) -> Decisions:
        """Serve each question from the cache, ask the model on a miss, and account for both."""
        behaviours = requests[0].behaviours if requests else ()
        grid = [[self.question(r, b) for b in behaviours] for r in requests]
        flat = [q for row in grid for q in row]
        self.stats.questions += len(flat)
        known = self.cache.get_many([q.key for q in flat]) if self.cache is not None else {}
        missing: dict[str, Question] = {}
        for q in flat:
            if q.key in known:
                self.stats.cache_hits += 1
            else:
                missing.setdefault(q.key, q)
        answered: dict[str, np.ndarray] = {}
        if missing:
            todo = list(missing.values())
            answered = self.record(todo, self.answer(todo))
        probabilities = np.full((len(requests), len(behaviours)), np.nan)
        distributions: list[list[np.ndarray | None]] = []
        for i, row in enumerate(grid):
            row_distributions: list[np.ndarray | None] = []
            for j, q in enumerate(row):
                distribution = known.get(q.key)
                if distribution is None:
                    distribution = answered.get(q.key)
                if distribution is None:
                    self.stats.failed_answers += 1
                else:
                    probabilities[i, j] = behaviours[j].probability(distribution)
                row_distributions.append(distribution)
            distributions.append(row_distributions)
        return Decisions(probabilities, distributions)

    def record(self, questions: Sequence[Question], answers: Sequence[Answer]
               ) -> dict[str, np.ndarray]:
        """Account for answered questions and store the successful ones in the cache.

        Engines whose :meth:`answer` stops early (a provider that stays down) call this for the
        answers they did get before raising, so that a resumed run asks none of them again.

        Returns:
            Question key -> option distribution, for the successful answers.
        """
        answered: dict[str, np.ndarray] = {}
        for q, a in zip(questions, answers, strict=True):
            self.stats.llm_calls += 1
            self.stats.tokens_in += a.tokens_in
            self.stats.tokens_out += a.tokens_out
            self.stats.add_cost(a.cost_usd)
            self.stats.repaired_answers += int(a.repaired)
            if a.distribution is not None:
                answered[q.key] = a.distribution
        if self.cache is not None and answered:
            stored = [(q.key, a) for q, a in zip(questions, answers, strict=True)
                      if a.distribution is not None]
            self.cache.put_many(stored, engine=self.name, model=self.model,
                                elicitation=self.elicitation)
        return answered

    def close(self) -> None:
        """Close the cache."""
        if self.cache is not None:
            self.cache.close()


def cache_key(engine: str, model: str, prompt: str, labels: Sequence[str], elicitation: str,
              seed: int) -> str:
    """SHA-256 of everything that determines an answer; the key of the response cache."""
    payload = json.dumps([engine, model, prompt, list(labels), elicitation, seed],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
