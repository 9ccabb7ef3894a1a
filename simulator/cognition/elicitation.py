"""Elicitation: how a behaviour question is put to a language model and how the answers combine.

Small and base models are dominated by biases that have nothing to do with the question: a
prior over option positions and tokens (Zhao et al. 2021, "Calibrate Before Use"; Zheng et al.
2024, "Large Language Models Are Not Robust Multiple Choice Selectors", PriDe), a pull towards
"yes" whatever is asked (acquiescence), and wording effects (Dominguez-Olmedo et al. 2024,
"Questioning the Survey Responses of Large Language Models"); SimBench (Hu et al. 2025) finds
models of 1B parameters or fewer at or below a uniform guess. An :class:`Elicitation` therefore
asks one behaviour as a set of *items* and combines their answers in log-probability space:

- ``method``: ``cloze`` scores each option's text as the continuation of the prompt (OLMES, Gu
  et al. 2024: better than option letters or digits for small base models); ``option_tokens``
  lists numbered options and reads the next-token distribution over the digits;
  ``verbalised_json`` asks for a JSON distribution (models without log-probabilities).
- ``balanced``: also ask the behaviour's reverse-keyed question ("Will you stay away from ...?"),
  whose answers count for the opposite options. Balanced keying is the survey methodologist's
  remedy for acquiescence (a yes-bias cancels between the two keyings).
- ``option_orders``: ``both`` also lists the options in reverse order and averages, cancelling
  a position prior (the permutation-averaging estimate behind PriDe). Only for listed options.
- ``wordings``: ``all`` asks the behaviour's question in each of its declared wordings (the
  question and its ``paraphrases``) and averages them: a small model's answer to one wording
  carries that wording's own token priors, which differ between paraphrases of the same
  question (Dominguez-Olmedo et al. 2024), so an average over wordings is less dominated by
  any one of them (prompt ensembles). The reverse-keyed question is asked in its one wording.
- ``debias``: divide out the answer to the same items in a ``reference`` situation (the routine
  before any policy: the respondent's own reference, so the answer becomes the reference answer
  shifted by the contrast between the week and the routine) or a ``content_free`` one ("N/A",
  Zhao et al.'s contextual calibration). Either sets the prior answer to uniform.

For option ``i`` of a behaviour with values ``v``, the combined log-probability is the mean over
items of the item's log-probability of the option it shows for ``i`` (each keying weighs half
when balanced, however many wordings the forward keying has), minus the same mean in the
prior situation when debiasing; the behaviour probability is the expected value ``softmax . v``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.behaviours import Behaviour
from simulator.cognition.language_model import METHODS

DEBIAS = ("none", "reference", "content_free")
OPTION_ORDERS = ("forward", "both")
WORDINGS = ("first", "all")
FLOOR = 1e-6
"""Probability floor before logs: an option absent from a provider's top tokens is not -inf."""


@dataclass(frozen=True)
class Item:
    """One way of asking a behaviour.

    Attributes:
        reverse_keyed: ask the reverse-keyed question; its options count for their opposites.
        reversed_order: list the options in reverse order.
        wording: index of the wording asked in :attr:`Behaviour.wordings` (forward keying).
    """

    reverse_keyed: bool = False
    reversed_order: bool = False
    wording: int = 0

    def question(self, behaviour: Behaviour) -> str:
        """The question text this item asks."""
        if self.reverse_keyed:
            return behaviour.reverse_question
        return behaviour.wordings[self.wording]

    def shown_options(self, behaviour: Behaviour) -> np.ndarray:
        """For each option shown (in order), the index of the behaviour option it stands for."""
        n = len(behaviour.options)
        shown = np.arange(n)[::-1] if self.reversed_order else np.arange(n)
        return behaviour.opposite_options()[shown] if self.reverse_keyed else shown


@dataclass(frozen=True)
class Elicitation:
    """How behaviour questions are asked and combined (see the module docstring).

    Attributes:
        method: one of :data:`~simulator.cognition.language_model.METHODS`.
        balanced: also ask reverse-keyed questions (behaviours that declare one).
        option_orders: ``forward`` or ``both`` (listed options only).
        debias: one of :data:`DEBIAS`.
        wordings: one of :data:`WORDINGS`.
    """

    method: str = "cloze"
    balanced: bool = False
    option_orders: str = "forward"
    debias: str = "none"
    wordings: str = "first"

    def problems(self) -> list[str]:
        """What is wrong with this combination, as ``option: problem (allowed: ...)`` texts."""
        found = []
        if self.method not in METHODS:
            found.append(f"elicitation: {self.method!r} (allowed: {', '.join(METHODS)})")
        if self.option_orders not in OPTION_ORDERS:
            found.append(f"option_orders: {self.option_orders!r} (allowed: "
                         f"{', '.join(OPTION_ORDERS)})")
        elif self.option_orders == "both" and self.method == "cloze":
            found.append("option_orders: 'both' needs listed options (allowed with "
                         "elicitation option_tokens or verbalised_json)")
        if self.debias not in DEBIAS:
            found.append(f"debias: {self.debias!r} (allowed: {', '.join(DEBIAS)})")
        if self.wordings not in WORDINGS:
            found.append(f"wordings: {self.wordings!r} (allowed: {', '.join(WORDINGS)})")
        if not isinstance(self.balanced, bool):
            found.append(f"balanced: {self.balanced!r} (allowed: true, false)")
        return found

    @property
    def label(self) -> str:
        """Short name recorded in manifests, e.g. ``cloze+balanced+reference``."""
        parts = [self.method]
        if self.balanced:
            parts.append("balanced")
        if self.option_orders == "both":
            parts.append("both_orders")
        if self.wordings == "all":
            parts.append("all_wordings")
        if self.debias != "none":
            parts.append(self.debias)
        return "+".join(parts)

    def items(self, behaviour: Behaviour) -> list[Item]:
        """The items a behaviour is asked as."""
        orders = [False, True] if self.option_orders == "both" else [False]
        wordings = range(len(behaviour.wordings)) if self.wordings == "all" else range(1)
        items = [Item(False, order, wording) for wording in wordings for order in orders]
        if self.balanced and behaviour.reverse_question:
            items += [Item(True, order) for order in orders]
        return items

    def combine(self, behaviour: Behaviour, answers: Sequence[np.ndarray],
                priors: Sequence[np.ndarray] = ()) -> tuple[float, np.ndarray]:
        """The behaviour probability from its items' answers.

        Args:
            behaviour: the behaviour asked.
            answers: one distribution per item of :meth:`items`, over the options as shown.
            priors: the same items answered in the prior situation (empty: no debiasing).

        Returns:
            ``(probability, distribution)``: the expected option value and the combined
            distribution over the behaviour's options.
        """
        items = self.items(behaviour)
        scores = _mean_log(items, answers, behaviour)
        if priors:
            scores = scores - _mean_log(items, priors, behaviour)
        weights = np.exp(scores - scores.max())
        distribution = weights / weights.sum()
        return behaviour.probability(distribution), distribution


def _mean_log(items: Sequence[Item], answers: Sequence[np.ndarray],
              behaviour: Behaviour) -> np.ndarray:
    """Mean over keyings of the mean over their items of each behaviour option's log-probability."""
    keyings = {item.reverse_keyed for item in items}
    per_keying = {keyed: sum(item.reverse_keyed == keyed for item in items) for keyed in keyings}
    total = np.zeros(len(behaviour.options))
    for item, answer in zip(items, answers, strict=True):
        logs = np.log(np.maximum(np.asarray(answer, dtype=float), FLOOR))
        total[item.shown_options(behaviour)] += logs / per_keying[item.reverse_keyed]
    return total / len(keyings)
