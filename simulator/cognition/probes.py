"""Probe batteries: contrasts with expected signs, declared in data, that any engine is graded by.

A battery (YAML; the shipped one is ``simulator/data/probes_google_mobility.yaml``) names
situations (the routine with some policy levels or context values changed), persona changes, a
panel of personas, the sources of its expectations and the probes. A ``policy`` or ``context``
probe compares two situations, asked through every panel persona; a ``persona`` probe compares
two changes of each panel persona, in one situation. The expected sign of ``a - b`` comes from
the literature the probe cites, never from what a model answers. A scenario can bring its own
battery (``probes:``), e.g. for transport behaviours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from simulator.behaviours import Behaviour
from simulator.errors import ScenarioError
from simulator.fields import read_yaml
from simulator.policy import Signals
from simulator.sources.indicators import Indicator, stringency_index

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
            return _parse(f"simulator/data/{SHIPPED}", data)
        data, source = read_yaml(Path(path))
        return _parse(source, data)

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
                if not 0 <= level <= indicators[indicator].max_level:
                    raise ScenarioError(self.source, f"situations.{name}.policy.{indicator}",
                                        f"{level} is out of range",
                                        f"0 to {indicators[indicator].max_level}")


def _parse(source: str, data: object) -> ProbeBattery:
    """Validate the parsed YAML of a battery."""
    def fail(field: str, problem: str, allowed: str | Sequence[str] | None = None):
        return ScenarioError(source, field, problem, allowed)

    if not isinstance(data, Mapping):
        raise fail("(top)", "must be a mapping", "routine, situations, personas, panel, "
                   "sources, probes")
    unknown = sorted(set(data) - {"routine", "situations", "personas", "panel", "sources",
                                  "probes"})
    if unknown:
        raise fail(unknown[0], "unknown field", "routine, situations, personas, panel, sources, "
                   "probes")
    routine = _situation(fail, "routine", data.get("routine") or {}, ({}, {}))
    situations = {str(name): _situation(fail, f"situations.{name}", spec, routine)
                  for name, spec in _mapping(fail, "situations", data.get("situations")).items()}
    personas = {str(name): _labels(fail, f"personas.{name}", spec)
                for name, spec in _mapping(fail, "personas", data.get("personas") or {}).items()}
    panel = data.get("panel")
    if not isinstance(panel, list) or not panel:
        raise fail("panel", "needs at least one persona", "a list of attribute mappings")
    sources = {str(k): str(v) for k, v in _mapping(fail, "sources", data.get("sources")).items()}
    probes = data.get("probes")
    if not isinstance(probes, list) or not probes:
        raise fail("probes", "needs at least one probe", "a list of probes")
    parsed = tuple(_probe(fail, f"probes[{i}]", spec, situations, personas, sources)
                   for i, spec in enumerate(probes))
    names = [p.name for p in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise fail("probes", f"repeated names {repeated}", "each probe name once")
    return ProbeBattery(source, routine, situations, personas,
                        tuple(_labels(fail, f"panel[{i}]", p) for i, p in enumerate(panel)),
                        sources, parsed)


def _mapping(fail, field: str, value: object) -> Mapping:
    if not isinstance(value, Mapping) or not value:
        raise fail(field, "must be a non-empty mapping")
    return value


def _labels(fail, field: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise fail(field, "must be a mapping of persona attributes to labels")
    return {str(k): str(v) for k, v in value.items()}


def _situation(fail, field: str, spec: object, base: tuple[Mapping, Mapping]
               ) -> tuple[dict[str, float], dict[str, float]]:
    """A situation's policy and context, merged onto ``base``."""
    if not isinstance(spec, Mapping) or set(spec) - {"policy", "context"}:
        raise fail(field, "must be a mapping with policy and/or context", "policy, context")
    merged = []
    for part, start in zip(("policy", "context"), base, strict=True):
        values = spec.get(part) or {}
        if not isinstance(values, Mapping):
            raise fail(f"{field}.{part}", "must be a mapping of names to numbers")
        numbers = dict(start)
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or value != value or value in (float("inf"), float("-inf")):
                raise fail(f"{field}.{part}.{key}", f"{value!r} is not a finite number")
            numbers[str(key)] = float(value)
        merged.append(numbers)
    return merged[0], merged[1]


def _probe(fail, field: str, spec: object, situations: Mapping, personas: Mapping,
           sources: Mapping) -> Probe:
    """One validated probe."""
    if not isinstance(spec, Mapping):
        raise fail(field, "must be a mapping")
    allowed = ("name", "kind", "behaviour", "a", "b", "expected_sign", "source", "situation")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise fail(f"{field}.{unknown[0]}", "unknown field", allowed)
    for key in ("name", "kind", "behaviour", "a", "b", "expected_sign", "source"):
        if key not in spec:
            raise fail(f"{field}.{key}", "is required")
    kind = spec["kind"]
    if kind not in KINDS:
        raise fail(f"{field}.kind", f"{kind!r}", KINDS)
    if spec["expected_sign"] not in (-1, 1) or isinstance(spec["expected_sign"], bool):
        raise fail(f"{field}.expected_sign", f"{spec['expected_sign']!r}", ("-1", "1"))
    if spec["source"] not in sources:
        raise fail(f"{field}.source", f"{spec['source']!r} is not in sources", sorted(sources))
    arms = personas if kind == "persona" else situations
    for arm in ("a", "b"):
        if spec[arm] not in arms:
            what = "persona" if kind == "persona" else "situation"
            raise fail(f"{field}.{arm}", f"unknown {what} {spec[arm]!r}", sorted(arms))
    situation = spec.get("situation")
    if kind == "persona" and situation not in situations:
        raise fail(f"{field}.situation", f"unknown situation {situation!r}", sorted(situations))
    if kind != "persona" and situation is not None:
        raise fail(f"{field}.situation", "only persona probes have one")
    return Probe(str(spec["name"]), kind, str(spec["behaviour"]), str(spec["a"]),
                 str(spec["b"]), int(spec["expected_sign"]), str(spec["source"]),
                 None if situation is None else str(situation))
