"""Behaviours: what agents are asked each tick, their answer options, and the metrics they map to.

An agent's answer to a behaviour is a distribution over the behaviour's options; each option has
a value in [0, 1], the probability of doing the behaviour on a typical day implied by that
answer. The behaviour probability is the expected option value under the distribution, so a
confident "definitely" and a split "maybe" map to different probabilities, and nothing is lost by
collapsing to the most likely option.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources

import numpy as np
import yaml

LIKELIHOOD_OPTIONS: tuple[tuple[str, float], ...] = (
    ("No, not at all", 0.0),
    ("Unlikely", 0.25),
    ("Maybe", 0.5),
    ("Likely", 0.75),
    ("Yes, as usual", 1.0),
)


@dataclass(frozen=True)
class Option:
    """One answer an agent can give.

    Attributes:
        label: the text shown to the agent.
        value: probability of doing the behaviour that this answer implies, in [0, 1].
    """

    label: str
    value: float


@dataclass(frozen=True)
class RuleParameters:
    """Parameters of the transparent ``rules`` engine for one behaviour (see cognition/rules.py).

    Attributes:
        baseline: probability of the behaviour with no policy, no threat and neutral context.
        policy: logit shift at the maximum level of each indicator (negative = the policy
            suppresses the behaviour).
        context: logit shift per unit of each context feature (``threat``, ``temperature``,
            ``holiday``, ``vaccinated`` for COVID; any feature a scenario's context provides).
        traits: logit shift per unit deviation of an archetype trait from the population
            reference (traits are in [0, 1] or shares).
    """

    baseline: float = 0.5
    policy: Mapping[str, float] = field(default_factory=dict)
    context: Mapping[str, float] = field(default_factory=dict)
    traits: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Behaviour:
    """A behaviour the population is asked about.

    Attributes:
        name: identifier, e.g. ``workplaces``.
        question: the question put to an agent, in the second person.
        reverse_question: the same behaviour asked the other way round ("Will you stay away
            from ...?"), whose answers count for the opposite options; asked by balanced
            elicitation to cancel a model's pull towards "yes" (``None``: not declared).
        options: the exclusive answers, with their implied probabilities.
        metric: name of the observed metric the behaviour maps to (``None`` if unobserved).
        expected_response: the expected sign of the response to a stronger policy dose: -1 the
            behaviour falls, +1 it rises, 0 no expectation. Used by the plausibility checks.
        rules: parameters of the ``rules`` engine for this behaviour.
        paraphrases: other wordings of ``question`` with the same options and keying; an
            elicitation with ``wordings: all`` asks every wording and averages them, so that no
            single wording's quirks decide the answer (Dominguez-Olmedo et al. 2024).
    """

    name: str
    question: str
    reverse_question: str | None = None
    options: tuple[Option, ...] = tuple(Option(label, value) for label, value in LIKELIHOOD_OPTIONS)
    metric: str | None = None
    expected_response: int = 0
    rules: RuleParameters = field(default_factory=RuleParameters)
    paraphrases: tuple[str, ...] = ()

    @property
    def wordings(self) -> tuple[str, ...]:
        """The question and its paraphrases, the question first."""
        return (self.question, *self.paraphrases)

    @property
    def option_values(self) -> np.ndarray:
        """Option values as an array of shape (n_options,)."""
        return np.array([option.value for option in self.options], dtype=float)

    def reverse_keyed(self) -> Behaviour | None:
        """The behaviour asked by its reverse-keyed question, on the same probability scale.

        Its question is :attr:`reverse_question` and each option's value is ``1 - v``, so that
        "No" to "Will you stay away from ...?" counts as going; ``None`` without a reverse
        question.
        """
        if not self.reverse_question:
            return None
        options = tuple(Option(o.label, 1.0 - o.value) for o in self.options)
        return replace(self, question=self.reverse_question, reverse_question=self.question,
                       paraphrases=(), options=options)

    def opposite_options(self) -> np.ndarray:
        """Index of the option with value ``1 - v`` for each option (of value ``v``).

        Raises:
            ValueError: the option values are not symmetric around 0.5.
        """
        values = self.option_values
        opposite = np.array([int(np.argmin(np.abs(values - (1.0 - v)))) for v in values])
        if not np.allclose(values[opposite], 1.0 - values, atol=1e-9):
            raise ValueError(f"behaviour {self.name}: option values {values.tolist()} are not "
                             "symmetric around 0.5, so a reverse-keyed question cannot be scored")
        return opposite

    def probability(self, distribution: Sequence[float]) -> float:
        """Behaviour probability implied by a distribution over the options (expected value)."""
        weights = np.asarray(distribution, dtype=float)
        return float(weights @ self.option_values / weights.sum())


PRESETS = ("google_mobility",)


def preset_specs(name: str) -> list[dict]:
    """The behaviour mappings of a shipped preset (``simulator/data/behaviours_<name>.yaml``)."""
    path = resources.files("simulator") / "data" / f"behaviours_{name}.yaml"
    with path.open() as handle:
        return yaml.safe_load(handle)["behaviours"]
