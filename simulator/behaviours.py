"""Behaviours: what agents are asked each tick, their answer options, and the metrics they map to.

An agent's answer to a behaviour is a distribution over the behaviour's options; each option has
a value in [0, 1], the probability of doing the behaviour on a typical day implied by that
answer. The behaviour probability is the expected option value under the distribution, so a
confident "definitely" and a split "maybe" map to different probabilities, and nothing is lost by
collapsing to the most likely option.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import BeforeValidator, Field, model_validator

from simulator.fields import Section, Text, _fail, choice, number
from simulator.sources.mobility import MOBILITY_CATEGORIES


def _none_as_empty(value: Any) -> Any:
    return {} if value is None else value


def _none_as_empty_list(value: Any) -> Any:
    return () if value is None else value


def _default_options(value: Any) -> Any:
    return DEFAULT_OPTIONS if value is None else value


LIKELIHOOD_OPTIONS: tuple[tuple[str, float], ...] = (
    ("No, not at all", 0.0),
    ("Unlikely", 0.25),
    ("Maybe", 0.5),
    ("Likely", 0.75),
    ("Yes, as usual", 1.0),
)


class Option(Section):
    """One answer an agent can give.

    Attributes:
        label: the text shown to the agent.
        value: probability of doing the behaviour that this answer implies, in [0, 1].
    """

    label: Text
    value: number(0, 1)


DEFAULT_OPTIONS = tuple(Option(label=label, value=value) for label, value in LIKELIHOOD_OPTIONS)
"""The five-point likelihood scale a behaviour is asked on unless it declares options."""


class RuleParameters(Section):
    """Parameters of the transparent ``rules`` engine for one behaviour (see cognition/rules.py).

    Attributes:
        baseline: probability of the behaviour with no policy, no threat and neutral context.
        policy: logit shift at the maximum level of each indicator (negative = the policy
            suppresses the behaviour).
        context: logit shift per unit of each context feature (``threat``, ``temperature``,
            ``holiday``, ``vaccinated`` for COVID; any feature a scenario's context provides).
        traits: logit shift per unit deviation of a cell's trait from the population
            reference (traits are in [0, 1] or shares).
    """

    baseline: number(0.001, 0.999) = 0.5
    policy: Annotated[dict[str, number()], BeforeValidator(_none_as_empty)] = {}
    context: Annotated[dict[str, number()], BeforeValidator(_none_as_empty)] = {}
    traits: Annotated[dict[str, number()], BeforeValidator(_none_as_empty)] = {}


class Behaviour(Section):
    """A behaviour the population is asked about: the declaration a scenario file is checked by.

    Attributes:
        name: identifier, e.g. ``workplaces``.
        question: the question put to an agent, in the second person.
        reverse_question: the same behaviour asked the other way round ("Will you stay away
            from ...?"), whose answers count for the opposite options; asked by balanced
            elicitation to cancel a model's pull towards "yes" (``None``: not declared).
        options: the exclusive answers, with their implied probabilities (at least two, labels
            distinct; values symmetric around 0.5 when a reverse question is declared).
        metric: name of the observed metric the behaviour maps to (``None`` if unobserved).
        expected_response: the expected sign of the response to a stronger policy dose: -1 the
            behaviour falls, +1 it rises, 0 no expectation. Used by the plausibility checks.
        rules: parameters of the ``rules`` engine for this behaviour.
        paraphrases: other wordings of ``question`` with the same options and keying; an
            elicitation with ``wordings: all`` asks every wording and averages them, so that no
            single wording's quirks decide the answer (Dominguez-Olmedo et al. 2024).
        contacts: share of a routine day's transmission-relevant contacts that come with the
            behaviour, for a simulated epidemic (:mod:`simulator.epidemic.contacts`).
    """

    name: Text
    question: Text
    reverse_question: Text | None = None
    options: Annotated[tuple[Option, ...], BeforeValidator(_default_options),
                       Field(min_length=2)] = DEFAULT_OPTIONS
    metric: choice(*MOBILITY_CATEGORIES) | None = None
    expected_response: choice(-1, 0, 1) = 0
    rules: Annotated[RuleParameters, BeforeValidator(_none_as_empty)] = RuleParameters()
    paraphrases: Annotated[tuple[Text, ...], BeforeValidator(_none_as_empty_list)] = ()
    contacts: number(0, 1) = 0.0

    @model_validator(mode="after")
    def _options_fit(self) -> Behaviour:
        labels = [option.label for option in self.options]
        if len(set(labels)) != len(labels):
            raise _fail("labels", f"repeated option labels {labels}", "each label once",
                        at=("options",))
        if self.reverse_question:
            try:
                self.opposite_options()
            except ValueError:
                raise _fail("symmetry", f"option values {self.option_values.tolist()} are "
                            "not symmetric", "option values v and 1 - v, so that each answer "
                            "to the reverse question has an opposite",
                            at=("reverse_question",)) from None
        return self

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
        options = tuple(Option(label=o.label, value=1.0 - o.value) for o in self.options)
        return self.model_copy(update={"question": self.reverse_question,
                                       "reverse_question": self.question, "paraphrases": (),
                                       "options": options})

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
