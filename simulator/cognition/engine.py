"""The engine interface: a batch of persona requests in, a probability array out.

Every engine (``rules``, ``local``, ``litellm:<model>``) answers :class:`DecisionRequest` batches
through :meth:`Engine.decide`. Language-model engines are one class,
:class:`~simulator.cognition.language_engine.LanguageEngine`, around a
:class:`~simulator.cognition.language_model.LanguageModel`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator.behaviours import Behaviour
from simulator.cognition.accounting import EngineStats
from simulator.cognition.prompts import PromptBuilder
from simulator.policy import Signals

if TYPE_CHECKING:
    from simulator.cognition.cells import Cells


@dataclass(frozen=True)
class Respondent:
    """Who an engine is asked about: a cell of agents, or a persona of the factorial design.

    Attributes:
        index: position among the cells (or personas) asked.
        attributes: binned attribute -> label, exactly what a prompt shows.
        traits: mean numeric traits of the agents it stands for (shares for categories).
        size: number of agents it stands for.
    """

    index: int
    attributes: Mapping[str, str]
    traits: Mapping[str, float]
    size: int


@dataclass(frozen=True)
class DecisionRequest:
    """One persona, at one tick, asked about every behaviour.

    Attributes:
        respondent: who is asked (the persona attributes and mean traits).
        signals: the situation.
        behaviours: what is asked.
        prompts: how a language model is told (region, indicators, templates, the reference
            situation); engines that do not prompt ignore it.
    """

    respondent: Respondent
    signals: Signals
    behaviours: tuple[Behaviour, ...]
    prompts: PromptBuilder | None = None


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
            requests: one request per respondent (all with the same behaviours).

        Returns:
            Decisions with probabilities of shape (len(requests), n_behaviours).
        """

    def describe(self) -> dict:
        """What the manifest records about this engine (never secrets)."""
        return {"engine": self.name, "model": None, "elicitation": None}

    def decide_cells(self, cells: Cells, signals: Signals,
                     behaviours: Sequence[Behaviour], prompts: PromptBuilder | None) -> Decisions:
        """Every cell's answers in one situation: one request per cell, by default.

        An engine that reads only the cells' traits may answer them without a request object
        each (the rules engine does).
        """
        return self.decide([DecisionRequest(cell, signals, tuple(behaviours), prompts)
                            for cell in cells])

    @property
    def factorised(self) -> bool:
        """Whether the engine is asked the personas of a factorial design, not every cell.

        Language-model engines are (see :mod:`simulator.cognition.personas`); the others answer
        one request per cell.
        """
        return False

    @property
    def keying_matters(self) -> bool:
        """Whether an answer can depend on which way round a question is asked.

        Only then is the report card's reverse-keyed check informative: an engine that does not
        read questions (``rules``), or one that already averages both keyings (balanced
        elicitation), gives the same answer either way by construction.
        """
        return False

    def close(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing
        """Release resources (model weights, connections, the cache)."""
