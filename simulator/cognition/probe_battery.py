"""Probe batteries: contrasts with expected signs, declared in data, that any engine is graded by.

A battery (YAML; the shipped one is ``simulator/data/probes_google_mobility.yaml``) names
situations (the routine with some policy levels or context values changed), persona changes, a
panel of personas, the sources of its expectations and the probes. A ``policy`` or ``context``
probe compares two situations, asked through every panel persona; a ``persona`` probe compares
two changes of each panel persona, in one situation. The expected sign of ``a - b`` comes from
the literature the probe cites, never from what a model answers. A scenario can bring its own
battery (``probes:``), e.g. for transport behaviours.

The file format is declared like the scenario's (:class:`BatteryFile` and its sections, built
from :mod:`simulator.fields`): unknown fields are refused, numbers must be finite, and every
name a probe uses (its source, its arms, a persona probe's situation) must be declared in the
battery; every problem is a :class:`~simulator.errors.ScenarioError` naming the file and the
field. Whether the probes fit a scenario (its behaviours, its indicators and their levels) is
checked by :meth:`ProbeBattery.check`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, model_validator

from simulator.behaviours import Behaviour
from simulator.errors import ScenarioError
from simulator.fields import (
    AnyText,
    Section,
    Text,
    _fail,
    choice,
    number,
    repeated,
    validated,
)
from simulator.policy import Signals
from simulator.sources.indicators import Indicator, stringency_index
from simulator.yaml_files import read_yaml

KINDS = ("policy", "context", "persona")
SHIPPED = "probes_google_mobility.yaml"
_PROBE_DATE = dt.date(2020, 4, 6)
"""A date for the probe situations (prompts carry no date; signals need one)."""


@dataclass(frozen=True)
class Probe:
    """One contrast.

    Attributes:
        name: identifier.
        kind: ``policy``, ``context`` or ``persona``.
        behaviour: the behaviour compared.
        a, b: situation names (policy, context) or persona change names (persona).
        expected_sign: the sign of ``answer(a) - answer(b)`` the literature expects.
        source: key of the reference in the battery's ``sources``.
        situation: the situation of a persona probe (``None`` otherwise).
    """

    name: str
    kind: str
    behaviour: str
    a: str
    b: str
    expected_sign: int
    source: str
    situation: str | None = None


@dataclass(frozen=True)
class ProbeBattery:
    """A validated probe battery.

    Attributes:
        source: where it was read (for messages).
        routine: policy levels and context of the routine every situation starts from.
        situations: name -> (policy levels, context), each already merged onto the routine.
        personas: name -> attribute changes.
        panel: the panel personas (attribute -> label).
        sources: reference key -> citation.
        probes: the probes, in file order.
    """

    source: str
    routine: tuple[Mapping[str, float], Mapping[str, float]]
    situations: Mapping[str, tuple[Mapping[str, float], Mapping[str, float]]]
    personas: Mapping[str, Mapping[str, str]]
    panel: tuple[Mapping[str, str], ...]
    sources: Mapping[str, str]
    probes: tuple[Probe, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> ProbeBattery:
        """Read and validate a battery (the shipped one when ``path`` is ``None``).

        Raises:
            ScenarioError: naming the file, the field and what is allowed.
        """
        if path is None:
            with resources.as_file(resources.files("simulator") / "data" / SHIPPED) as shipped:
                data, _ = read_yaml(shipped)
            source = f"simulator/data/{SHIPPED}"
        else:
            data, source = read_yaml(Path(path))
        return validated(BatteryFile, data, source).to_battery(source)

    def of_behaviours(self, names: Sequence[str]) -> ProbeBattery | None:
        """The battery's probes of the behaviours ``names`` (``None`` if it has none)."""
        probes = tuple(probe for probe in self.probes if probe.behaviour in names)
        return dataclasses.replace(self, probes=probes) if probes else None

    def signals(self, name: str | None) -> Signals:
        """The signals of a named situation (``None``: the routine)."""
        policy, context = self.routine if name is None else self.situations[name]
        return Signals(tick=0, date=_PROBE_DATE, days=7, policy=dict(policy),
                       stringency=stringency_index(policy), context=dict(context))

    def check(self, behaviours: Sequence[Behaviour], indicators: Mapping[str, Indicator]
              ) -> None:
        """Raise ScenarioError if a probe names a behaviour or an indicator the scenario lacks."""
        names = {b.name for b in behaviours}
        for index, probe in enumerate(self.probes):
            if probe.behaviour not in names:
                raise ScenarioError(self.source, f"probes[{index}].behaviour",
                                    f"{probe.behaviour!r} is not a behaviour of the scenario",
                                    sorted(names))
        for name, (policy, _) in self.situations.items():
            for indicator, level in policy.items():
                if indicator not in indicators:
                    raise ScenarioError(self.source, f"situations.{name}.policy",
                                        f"unknown indicator {indicator!r}", sorted(indicators))
                if not indicators[indicator].accepts(level):
                    raise ScenarioError(self.source, f"situations.{name}.policy.{indicator}",
                                        f"{level:g} is out of range",
                                        indicators[indicator].allowed_levels)


def _filled(problem: str, allowed: str) -> BeforeValidator:
    """A field that must hold something (a non-empty mapping or list)."""
    def check(value: Any) -> Any:
        if isinstance(value, Mapping | list) and not value:
            raise _fail("empty", problem, allowed)
        return value
    return BeforeValidator(check)


def _labels(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise _fail("labels", f"expected a mapping, got {value!r}",
                    "persona attributes and their labels, e.g. {age_band: 65+}")
    return value


Numbers = dict[AnyText, number()] | None
Labels = Annotated[dict[AnyText, AnyText], BeforeValidator(_labels)]
"""Persona attributes and their labels (numbers are read as text, as in ``household: 2``)."""


class SituationFile(Section):
    """A situation (or the routine): the policy levels and context values it changes."""

    mapping_hint: ClassVar[str] = "policy, context"
    policy: Numbers = None
    context: Numbers = None

    def merged(self, base: tuple[Mapping[str, float], Mapping[str, float]]
               ) -> tuple[dict[str, float], dict[str, float]]:
        """Policy levels and context values: ``base`` with this situation's changes."""
        return {**base[0], **(self.policy or {})}, {**base[1], **(self.context or {})}


class ProbeFile(Section):
    """One probe (see :class:`Probe`); its names are checked against the battery's."""

    name: Text
    kind: choice(*KINDS)
    behaviour: Text
    a: Text
    b: Text
    expected_sign: choice(-1, 1)
    source: Text
    situation: Text | None = None

    @model_validator(mode="after")
    def _situation_of_persona_probes(self) -> ProbeFile:
        if self.kind != "persona" and self.situation is not None:
            raise _fail("situation", "only persona probes have one", at=("situation",))
        return self

    def to_probe(self) -> Probe:
        """The probe."""
        return Probe(self.name, self.kind, self.behaviour, self.a, self.b,
                     int(self.expected_sign), self.source, self.situation)


class BatteryFile(Section):
    """A probe battery file (see the module and the shipped battery)."""

    mapping_hint: ClassVar[str] = "routine, situations, personas, panel, sources, probes"
    routine: SituationFile | None = None
    situations: Annotated[dict[AnyText, SituationFile],
                          _filled("needs at least one situation", "name: {policy, context}")]
    personas: Annotated[dict[AnyText, Labels],
                        _filled("needs at least one persona change", "name: {attribute: label}")]
    panel: Annotated[list[Labels],
                     _filled("needs at least one persona", "a list of attribute mappings")]
    sources: Annotated[dict[AnyText, Text], _filled("needs at least one source", "key: citation")]
    probes: Annotated[list[ProbeFile], _filled("needs at least one probe", "a list of probes")]

    @model_validator(mode="after")
    def _names_known(self) -> BatteryFile:
        for index, probe in enumerate(self.probes):
            if probe.source not in self.sources:
                raise _fail("choice", f"{probe.source!r} is not in sources", sorted(self.sources),
                            at=("probes", index, "source"))
            persona = probe.kind == "persona"
            arms, what = (self.personas, "persona") if persona else (self.situations, "situation")
            for arm in ("a", "b"):
                if getattr(probe, arm) not in arms:
                    raise _fail("choice", f"unknown {what} {getattr(probe, arm)!r}", sorted(arms),
                                at=("probes", index, arm))
            if persona and probe.situation not in self.situations:
                problem = "a persona probe needs one" if probe.situation is None else \
                    f"unknown situation {probe.situation!r}"
                raise _fail("choice", problem, sorted(self.situations),
                            at=("probes", index, "situation"))
        twice = repeated([p.name for p in self.probes])
        if twice:
            raise _fail("names", f"repeated names {twice}", "each probe name once",
                        at=("probes",))
        return self

    def to_battery(self, source: str) -> ProbeBattery:
        """The battery, each situation merged onto the routine."""
        routine = (self.routine or SituationFile()).merged(({}, {}))
        return ProbeBattery(source, routine,
                            {name: s.merged(routine) for name, s in self.situations.items()},
                            dict(self.personas), tuple(self.panel), dict(self.sources),
                            tuple(p.to_probe() for p in self.probes))
