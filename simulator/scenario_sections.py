"""The sections of a scenario, declared once: each is the file's format and the runtime object.

Every field declares its type, bounds and default here; a scenario file is validated into these
objects (unknown fields refused, numbers finite, one error naming the file, the field and what is
allowed), and the simulator reads the same objects. Where the runtime needs more than the file
says (the full indicator catalogue, behaviours expanded from presets, the engine's options as a
validated object), a field's validator builds it, and accepts what it built when the section is
validated again (:meth:`simulator.scenario.Scenario.replace`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    InstanceOf,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.behaviours import PRESETS, Behaviour, preset_specs
from simulator.cognition.options import EngineOptions, options_model
from simulator.cognition.prompts import PLACEHOLDERS, allowed_placeholders, template_problem
from simulator.fields import (
    AnyText,
    Date,
    Region,
    Section,
    Text,
    _fail,
    at_most,
    choice,
    nested,
    number,
    whole,
)
from simulator.sources.context import CONTEXT_BOUNDS
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator

MAX_POPULATION = 50_000_000
MAX_INTERVENTIONS = 2_000
"""Most hand-written interventions: a scenario writes a few dozen, and a real region's OxCGRT
record over three years changes some 500 times; 100,000 took minutes and a gigabyte to read."""
ENGINE_NAMES = ("local", "rules", "litellm:<model>")


def _input_path(value: Any, info: ValidationInfo) -> Path | None:
    """A path relative to the scenario's folder unless absolute; it must exist."""
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value).strip():
        raise _fail("path", f"expected a path, got {value!r}")
    path = Path(str(value)).expanduser()
    if not path.is_absolute():
        path = ((info.context or {}).get("base_dir", Path.cwd()) / path).resolve()
    if not path.exists():
        raise _fail("path", f"{value!r} does not exist (looked at {path})",
                    "an existing file or folder")
    return path


def engine_name(value: Any) -> str:
    """``value`` if it names an engine (``local``, ``rules``, ``litellm:<model>``)."""
    if not isinstance(value, str) or not (
        value in ("local", "rules") or (value.startswith("litellm:")
                                        and len(value) > len("litellm:"))
    ):
        raise _fail("engine", f"unknown engine {value!r}", ENGINE_NAMES)
    return value


def _cache_path(value: Any) -> Path | None:
    if value is None or isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise _fail("path", f"expected a path, got {value!r}")
    return Path(value).expanduser()


InputPath = Annotated[Path | None, BeforeValidator(_input_path)]
EngineName = Annotated[str, BeforeValidator(engine_name)]


class PeriodSpec(Section):
    """``period``: first and last day."""

    start: Date
    end: Date

    @model_validator(mode="after")
    def _ordered(self) -> PeriodSpec:
        if self.end <= self.start:
            raise _fail("order", f"{self.end} is not after period.start {self.start}",
                        "a date after period.start", at=("end",))
        return self

    @property
    def days(self) -> int:
        """Days from start to end inclusive."""
        return (self.end - self.start).days + 1


class PopulationSpec(Section):
    """``population``: how many agents, and the marginals they are drawn from."""

    size: whole(1, MAX_POPULATION)
    marginals: InputPath = None


class IndicatorDeclaration(Section):
    """A policy indicator of the scenario's own: its title and plain-language levels."""

    title: AnyText | None = None
    levels: Annotated[list[AnyText], Field(min_length=2)]


def _catalogue(value: Any) -> dict[str, Indicator]:
    """OxCGRT's indicators and the scenario's own (declared, or already in the catalogue)."""
    if value is None:
        return dict(OXCGRT_INDICATORS)
    if not isinstance(value, Mapping):
        raise _fail("mapping", f"expected a mapping, got {value!r}", "name: {title, levels}")
    catalogue = dict(OXCGRT_INDICATORS)
    for name, entry in value.items():
        if not isinstance(entry, Indicator):
            try:
                declared = IndicatorDeclaration.model_validate(entry)
            except ValidationError as error:
                raise nested(error, (str(name),)) from None
            entry = Indicator(str(name), declared.title or str(name), tuple(declared.levels))
        catalogue[str(name)] = entry
    return catalogue


class Intervention(Section):
    """A hand-written policy: ``indicator`` at ``level`` from ``start`` to ``end`` inclusive."""

    indicator: Text
    level: number(0)
    start: Date
    end: Date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Intervention:
        if self.end is not None and self.end < self.start:
            raise _fail("order", f"{self.end} is before start {self.start}",
                        "a date on or after start", at=("end",))
        return self


def _sequence(value: Any) -> Any:
    return () if value is None else value


class PolicySpec(Section):
    """``policy``: observed OxCGRT indicators or hand-written interventions.

    Attributes:
        source: ``oxcgrt`` (observed indicators) or ``interventions`` (hand-written).
        file: raw OxCGRT CSV (classic or v1 layout); ``None`` uses the weekly table.
        data_dir: raw upstream files from which the weekly table is built; ``None`` uses the
            shipped table.
        region: region whose OxCGRT record is used (defaults to the scenario region).
        indicators: the indicator catalogue: OxCGRT's and those the file declares (a file gives
            ``name: {title, levels}`` for its own).
        interventions: hand-written interventions (``source: interventions``).
        shown: indicators put to the agents (the default ones when empty).
    """

    source: choice("oxcgrt", "interventions") = "oxcgrt"
    file: InputPath = None
    data_dir: InputPath = None
    region: Region | None = None
    indicators: Annotated[dict[str, InstanceOf[Indicator]], BeforeValidator(_catalogue)] = \
        Field(default_factory=lambda: dict(OXCGRT_INDICATORS))
    interventions: Annotated[tuple[Intervention, ...], BeforeValidator(_sequence),
                             at_most(MAX_INTERVENTIONS)] = ()
    shown: Annotated[tuple[str, ...], BeforeValidator(_sequence)] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PolicySpec:
        if self.source == "interventions" and not self.interventions:
            raise _fail("interventions", "source is interventions but none are listed",
                        "a list of {indicator, level, start, end}", at=("interventions",))
        if self.source == "oxcgrt" and self.interventions:
            raise _fail("interventions", "interventions are listed but policy.source is oxcgrt",
                        "set policy.source: interventions, or remove the list",
                        at=("interventions",))
        for index, item in enumerate(self.interventions):
            if item.indicator not in self.indicators:
                raise _fail("choice", f"{item.indicator!r} is not allowed", self.indicators,
                            at=("interventions", index, "indicator"))
            indicator = self.indicators[item.indicator]
            if not indicator.accepts(item.level):
                raise _fail("range", f"{item.level:g} is out of range", indicator.allowed_levels,
                            at=("interventions", index, "level"))
        for index, name in enumerate(self.shown):
            if name not in self.indicators:
                raise _fail("choice", f"{name!r} is not allowed", self.indicators,
                            at=("shown", index))
        return self


_CONTEXT_VALUES = {name: TypeAdapter(number(low, high))
                   for name, (low, high) in CONTEXT_BOUNDS.items()}
"""The declared bounds of the context values a scenario may give (others are its own)."""


class ContextSpec(Section):
    """``context``: exogenous context (epidemic, season) told to agents alongside the policy.

    Attributes:
        source: ``observed`` (weekly context of the region: cases, vaccination, temperature,
            holidays), ``constant`` (fixed ``values``) or ``none``; left out, ``observed`` with
            an OxCGRT policy and ``none`` with interventions (see the scenario).
        data_dir: raw upstream files to read instead of the shipped weekly tables.
        values: fixed values for ``constant``, or overrides on top of ``observed``.
        epidemic: ``observed`` (cases as reported) or ``simulated`` (cases from an epidemic
            driven by the agents' contacts, fitted to the observed cases;
            :mod:`simulator.epidemic`).
        epidemic_fit_until: last day of the ticks the epidemic is fitted on (default: the
            period's end; the case study fits on 2020 to leave 2021 as its test).
    """

    source: choice("observed", "none", "constant") | None = None
    epidemic: choice("observed", "simulated") = "observed"
    epidemic_fit_until: Date | None = None
    data_dir: InputPath = None
    values: Annotated[dict[str, number()], BeforeValidator(lambda v: {} if v is None else v)] = {}

    @model_validator(mode="after")
    def _values_given(self) -> ContextSpec:
        if self.source == "constant" and not self.values:
            raise _fail("values", "source is constant but no values given",
                        "a mapping such as {new_cases_per_100k: 20}", at=("values",))
        for name, value in self.values.items():
            if name in _CONTEXT_VALUES:
                try:
                    _CONTEXT_VALUES[name].validate_python(value)
                except ValidationError as error:
                    raise nested(error, ("values", name)) from None
        return self


class EngineSpec(Section):
    """``engine``: who answers, how many personas at most, its options and response cache.

    Attributes:
        name: ``local``, ``rules`` or ``litellm:<model>``.
        personas: the most personas a language model is asked per tick (the factorial design
            adds persona attributes in priority order while they fit; see
            :mod:`simulator.cognition.personas`).
        options: the engine's options, validated against its declaration
            (:mod:`simulator.cognition.options`) and handed to the engine whole.
        cache: path of the SQLite response cache; ``None`` uses the per-user cache folder.
        parameters: a parameter file written by ``socialtwin fit``, whose values replace the
            scenario's priors (:mod:`simulator.fitted_parameters`); ``None`` keeps the priors.
    """

    name: EngineName = "rules"
    personas: whole(1, 100_000) = 24
    options: InstanceOf[EngineOptions] = Field(default_factory=lambda: options_model("rules")())
    cache: Annotated[Path | None, BeforeValidator(_cache_path)] = None
    parameters: InputPath = None

    @model_validator(mode="before")
    @classmethod
    def _options_of_the_engine(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"name": data}
        if isinstance(data, Mapping) and "archetypes" in data and "personas" not in data:
            data = {("personas" if k == "archetypes" else k): v for k, v in data.items()}
        if not isinstance(data, Mapping) or "name" not in data:
            return data
        given = data.get("options")
        if isinstance(given, EngineOptions):
            given = given.given()
        given = dict(given or {})
        if any("key" in str(k).lower() for k in given):
            raise _fail("secret", "API keys do not belong in scenario files",
                        "set the provider's environment variable (e.g. OPENAI_API_KEY)",
                        at=("options",))
        try:
            name = engine_name(data["name"])
        except PydanticCustomError:
            return data  # the name's own field says what is wrong
        try:
            options = options_model(name).model_validate(given)
        except ValidationError as error:
            raise nested(error, ("options",)) from None
        return {**data, "options": options}


class PromptsSpec(Section):
    """``prompts``: templates replacing the default prompt's parts."""

    preamble: AnyText | None = None
    persona: AnyText | None = None
    signals: AnyText | None = None
    options: AnyText | None = None
    question: AnyText | None = None

    @model_validator(mode="after")
    def _placeholders_known(self) -> PromptsSpec:
        for part in PLACEHOLDERS:
            template = getattr(self, part)
            problem = template_problem(part, template) if template is not None else None
            if problem:
                raise _fail("template", problem, allowed_placeholders(part), at=(part,))
        return self

    def templates(self) -> dict[str, str]:
        """The parts given, by name."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class NetworkSpec(Section):
    """Shape of the social network (see simulator/network.py)."""

    workplace_size: whole(0, 10_000) = 12
    community_degree: whole(0, 10_000) = 6
    homophily: number(0, 1) = 0.7


class DynamicsSpec(Section):
    """Individual dynamics around the cells' answers (see TwinModel.step).

    Attributes:
        habit: mean weight of last tick's behaviour in this tick's (inertia).
        peer_weight: mean weight of the neighbours' behaviour against the agent's own answer.
        heterogeneity: SD of each agent's fixed logit offset from its cell's answer.
        noise: SD of the per-tick individual noise on the probability scale.
    """

    habit: number(0, 1) = 0.4
    peer_weight: number(0, 1) = 0.25
    heterogeneity: number(0, 10) = 0.35
    noise: number(0, 10) = 0.02


_KNOWN_BEHAVIOURS = {item["name"]: item for preset in PRESETS for item in preset_specs(preset)}


def behaviours_of(value: Any) -> tuple[Behaviour, ...]:
    """A preset name, or a list of behaviour names, mappings and behaviours, as behaviours."""
    if isinstance(value, str):
        if value not in PRESETS:
            raise _fail("choice", f"{value!r} is not allowed", PRESETS)
        value = preset_specs(value)
    if not isinstance(value, list | tuple) or not value:
        raise _fail("behaviours", "must be a preset name or a non-empty list",
                    f"{', '.join(PRESETS)}, or a list of behaviours")
    found = []
    for index, entry in enumerate(value):
        if isinstance(entry, str):
            if entry not in _KNOWN_BEHAVIOURS:
                raise _fail("behaviour", f"unknown behaviour {entry!r}",
                            [*_KNOWN_BEHAVIOURS, "a mapping with name and question"],
                            at=(index,))
            entry = _KNOWN_BEHAVIOURS[entry]
        try:
            found.append(Behaviour.model_validate(entry))
        except ValidationError as error:
            raise nested(error, (index,)) from None
    return tuple(found)


_RULE_NAMES = {"policy": "indicator", "traits": "trait", "context": "context feature"}


def check_rule_names(behaviours: Sequence[Behaviour],
                     known: Mapping[str, Sequence[str]]) -> None:
    """Refuse a rules weight on a name outside ``known`` (``policy``, ``traits``, ``context``)."""
    for index, behaviour in enumerate(behaviours):
        for part, allowed in known.items():
            for name in getattr(behaviour.rules, part):
                if name not in allowed:
                    raise _fail("choice", f"unknown {_RULE_NAMES[part]} {name!r}", allowed,
                                at=("behaviours", index, "rules", part, name))


def ticks(period: PeriodSpec, tick: str) -> int:
    """Ticks a period holds: its days, or its whole weeks."""
    return period.days if tick == "day" else period.days // 7
