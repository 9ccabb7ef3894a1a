"""The behaviours of a scenario file, declared: questions, answer options, metrics, rules.

A behaviour is named from a preset (``workplaces``) or written out; :class:`BehaviourFile`
checks its options and the metric it maps to, and :func:`check_rule_names` refuses a ``rules``
weight on a name the scenario has no value for (the weight would silently multiply 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, model_validator

from simulator.behaviours import PRESETS, Behaviour, Option, RuleParameters, preset_specs
from simulator.fields import Section, Text, _fail, choice, number
from simulator.sources.mobility import MOBILITY_CATEGORIES


class OptionFile(Section):
    """One answer option of a behaviour."""

    label: Text
    value: number(0, 1)


class RulesFile(Section):
    """``rules``: parameters of the rules engine for one behaviour (logit shifts)."""

    baseline: number(0.001, 0.999) = RuleParameters.baseline
    policy: dict[str, number()] | None = None
    context: dict[str, number()] | None = None
    traits: dict[str, number()] | None = None


class BehaviourFile(Section):
    """One behaviour: the question, its options and the metric it maps to."""

    name: Text
    question: Text
    reverse_question: Text | None = None
    paraphrases: list[Text] | None = None
    options: Annotated[list[OptionFile], Field(min_length=2)] | None = None
    metric: choice(*MOBILITY_CATEGORIES) | None = None
    expected_response: choice(-1, 0, 1) = 0
    rules: RulesFile | None = None

    def to_behaviour(self) -> Behaviour:
        """The behaviour."""
        rules = self.rules or RulesFile()
        options = tuple(Option(o.label, o.value) for o in self.options) if self.options else \
            Behaviour.__dataclass_fields__["options"].default
        return Behaviour(self.name, self.question, self.reverse_question, options, self.metric,
                         int(self.expected_response),
                         RuleParameters(rules.baseline, dict(rules.policy or {}),
                                        dict(rules.context or {}), dict(rules.traits or {})),
                         tuple(self.paraphrases or ()))

    @model_validator(mode="after")
    def _options_fit(self) -> BehaviourFile:
        behaviour = self.to_behaviour()
        labels = [option.label for option in behaviour.options]
        if len(set(labels)) != len(labels):
            raise _fail("labels", f"repeated option labels {labels}", "each label once",
                        at=("options",))
        if behaviour.reverse_question:
            try:
                behaviour.opposite_options()
            except ValueError:
                raise _fail("symmetry", f"option values {behaviour.option_values.tolist()} are "
                            "not symmetric", "option values v and 1 - v, so that each answer "
                            "to the reverse question has an opposite",
                            at=("reverse_question",)) from None
        return self


_KNOWN_BEHAVIOURS = {item["name"]: item for preset in PRESETS for item in preset_specs(preset)}


def behaviour_entries(value: Any) -> list:
    """A preset name, or a list of behaviour names and mappings, as a list of mappings."""
    if isinstance(value, str):
        if value not in PRESETS:
            raise _fail("choice", f"{value!r} is not allowed", PRESETS)
        return preset_specs(value)
    if not isinstance(value, list) or not value:
        raise _fail("behaviours", "must be a preset name or a non-empty list",
                    f"{', '.join(PRESETS)}, or a list of behaviours")
    entries = []
    for index, entry in enumerate(value):
        if isinstance(entry, str):
            if entry not in _KNOWN_BEHAVIOURS:
                raise _fail("behaviour", f"unknown behaviour {entry!r}",
                            [*_KNOWN_BEHAVIOURS, "a mapping with name and question"],
                            at=(index,))
            entry = _KNOWN_BEHAVIOURS[entry]
        entries.append(entry)
    return entries


_RULE_NAMES = {"policy": "indicator", "traits": "trait", "context": "context feature"}


def check_rule_names(behaviours: Sequence[BehaviourFile],
                     known: Mapping[str, Sequence[str]]) -> None:
    """Refuse a rules weight on a name outside ``known`` (``policy``, ``traits``, ``context``)."""
    for index, behaviour in enumerate(behaviours):
        rules = behaviour.rules or RulesFile()
        for part, allowed in known.items():
            for name in getattr(rules, part) or {}:
                if name not in allowed:
                    raise _fail("choice", f"unknown {_RULE_NAMES[part]} {name!r}", allowed,
                                at=("behaviours", index, "rules", part, name))
