"""The language-model engine: requests rendered as questions, answered by a wrapped model.

One class serves every language model (``local``, ``litellm:<model>``): it renders each persona's
behaviour questions as the items of its :class:`~simulator.cognition.elicitation.Elicitation`,
puts them to a :class:`~simulator.cognition.language_model.LanguageModel` wrapped in accounting
and the response cache, and combines the items' answers into one probability per persona and
behaviour. A behaviour whose items did not all get an answer has failed: it is NaN (the model
counts it, and its agents keep their behaviour), never a silent number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.behaviours import Behaviour
from simulator.cognition.accounting import AccountedModel
from simulator.cognition.cached_model import CachedModel
from simulator.cognition.elicitation import Elicitation, Item
from simulator.cognition.engine import DecisionRequest, Decisions, Engine
from simulator.cognition.language_model import LanguageModel, Question, question_key
from simulator.cognition.personas import Combination
from simulator.cognition.prompts import PromptBuilder, cloze_options
from simulator.cognition.replies import MAX_TOKEN_OPTIONS
from simulator.cognition.response_cache import ResponseCache
from simulator.errors import EngineError
from simulator.policy import Signals


class LanguageEngine(Engine):
    """Personas asked through a language model, cache first.

    Args:
        model: the language model that answers.
        elicitation: how questions are asked and combined.
        cache: the persistent response cache (``None``: no caching).
        seed: part of every cache key (models that sample use it as their seed).
        combination: how the persona design's answers combine into each cell's (``None``: the
            design's own).

    Attributes:
        combination: the :class:`~simulator.cognition.personas.Combination` applied where the
            design's answers are combined (:meth:`simulator.cognition.cells.PopulationCells.
            answers`); never to the model's answers themselves.

    Raises:
        EngineError: the elicitation is invalid or the model does not support its method.
    """

    def __init__(self, model: LanguageModel, elicitation: Elicitation,
                 cache: ResponseCache | None = None, seed: int = 0,
                 combination: Combination | None = None) -> None:
        super().__init__()
        problems = elicitation.problems()
        if not problems and elicitation.method not in model.methods:
            problems = [f"elicitation: {elicitation.method!r} is not supported by this model "
                        f"(allowed: {', '.join(model.methods)})"]
        if problems:
            raise EngineError(f"engine {model.engine}: {problems[0]}")
        self.name = model.engine
        self.elicitation = elicitation
        self.seed = seed
        self.combination = combination or Combination()
        self.language_model = model
        self.model = CachedModel(AccountedModel(model, self.stats), cache, self.stats)

    @property
    def factorised(self) -> bool:
        """Language models are asked through the factorial persona design."""
        return True

    @property
    def keying_matters(self) -> bool:
        """A language model asked one keying of each question (not balanced)."""
        return not self.elicitation.balanced

    def describe(self) -> dict:
        """Engine, model and elicitation."""
        return {**self.language_model.describe(), "elicitation": self.elicitation.label}

    def decide(self, requests: Sequence[DecisionRequest]) -> Decisions:
        """Ask every request's behaviours and combine each behaviour's items.

        Raises:
            EngineError: a request has no prompt builder, debiasing by the reference situation
                without one, or a question the method cannot ask.
        """
        behaviours = requests[0].behaviours if requests else ()
        plan = [[self._plan(r, b) for b in behaviours] for r in requests]
        questions = list({q.key: q for row in plan for week, prior in row
                          for q in (*week, *prior)}.values())
        answers = {questions[i].key: a.distribution for i, a in self.model.answer(questions)}
        probabilities = np.full((len(requests), len(behaviours)), np.nan)
        distributions: list[list[np.ndarray | None]] = []
        for i, row in enumerate(plan):
            row_distributions: list[np.ndarray | None] = []
            for j, (week, prior) in enumerate(row):
                got = [answers.get(q.key) for q in (*week, *prior)]
                if any(a is None for a in got):  # NaN: Decisions.failed shows it
                    row_distributions.append(None)
                    continue
                probabilities[i, j], combined = self.elicitation.combine(
                    behaviours[j], got[:len(week)], got[len(week):])
                row_distributions.append(combined)
            distributions.append(row_distributions)
        return Decisions(probabilities, distributions)

    def _plan(self, request: DecisionRequest, behaviour: Behaviour
              ) -> tuple[list[Question], list[Question]]:
        """The questions of one behaviour: its items in the week, and in the prior situation."""
        prompts = request.prompts
        if prompts is None:
            raise EngineError(f"engine {self.name}: a request has no prompt builder "
                              "(DecisionRequest.prompts)")
        items = self.elicitation.items(behaviour)
        week = [self._question(prompts, request, request.signals, behaviour, item)
                for item in items]
        debias = self.elicitation.debias
        if debias == "none":
            return week, []
        if debias == "reference" and prompts.reference is None:
            raise EngineError(f"engine {self.name}: debias 'reference' needs the routine "
                              "situation (PromptBuilder.reference)")
        situation = prompts.reference if debias == "reference" else None
        return week, [self._question(prompts, request, situation, behaviour, item)
                      for item in items]

    def _question(self, prompts: PromptBuilder, request: DecisionRequest,
                  signals: Signals | None, behaviour: Behaviour, item: Item) -> Question:
        """One item of one behaviour in one situation, rendered with its cache key."""
        method = self.elicitation.method
        labels = tuple(behaviour.options[k].label for k in _shown_labels(behaviour, item))
        text = item.question(behaviour)
        if method == "cloze":
            prefix = prompts.prefix(request.respondent.attributes, signals)
            suffix = prompts.question(text, method)
            options = cloze_options(labels)
        else:
            if method == "option_tokens" and len(labels) > MAX_TOKEN_OPTIONS:
                raise EngineError(f"engine {self.name}: behaviour {behaviour.name} has "
                                  f"{len(labels)} options (allowed with option_tokens: at most "
                                  f"{MAX_TOKEN_OPTIONS}; use cloze)")
            listed = _listed_once(request.behaviours, labels)
            prefix = prompts.prefix(request.respondent.attributes, signals, listed)
            suffix = prompts.question(text, method, () if listed else labels)
            options = labels
        key = question_key(self.name, self.language_model.model, prefix + suffix, options,
                           method, self.seed)
        return Question(key, prefix, suffix, options, method)

    def close(self) -> None:
        """Close the model and the cache."""
        self.model.close()


def _shown_labels(behaviour: Behaviour, item: Item) -> np.ndarray:
    """Label indices in the order an item shows them (its keying does not change the labels)."""
    n = len(behaviour.options)
    return np.arange(n)[::-1] if item.reversed_order else np.arange(n)


def _listed_once(behaviours: Sequence[Behaviour], labels: tuple[str, ...]) -> tuple[str, ...]:
    """``labels`` when every behaviour of the request has them (listed once in the prefix)."""
    shared = {tuple(sorted(o.label for o in b.options)) for b in behaviours}
    if len(behaviours) > 1 and shared == {tuple(sorted(labels))}:
        return labels
    return ()
