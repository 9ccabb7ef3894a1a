"""The scenario file format, declared: every field's type, bounds and default, checked on reading.

:class:`ScenarioFile` and its sections are pydantic models (unknown fields refused, numbers
finite, bounds declared once: :func:`simulator.run.apply_overrides` checks command-line flags
against the same fields). :meth:`ScenarioFile.to_scenario` builds the typed
:class:`~simulator.scenario.Scenario` the simulator runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, model_validator

from simulator.behaviours import PRESETS, Behaviour, Option, RuleParameters, preset_specs
from simulator.cognition.options import options_model
from simulator.fields import (
    AnyText,
    Date,
    Region,
    Section,
    Text,
    _fail,
    choice,
    nested,
    number,
    repeated,
    whole,
)
from simulator.scenario import (
    ContextSpec,
    DynamicsSpec,
    EngineSpec,
    Intervention,
    NetworkSpec,
    PolicySpec,
    Scenario,
)
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator

MAX_POPULATION = 50_000_000
MAX_SEED = 2**63 - 1
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


InputPath = Annotated[Path | None, BeforeValidator(_input_path)]
EngineName = Annotated[str, BeforeValidator(engine_name)]


class PeriodFile(Section):
    """``period``: first and last day."""

    start: Date
    end: Date

    @model_validator(mode="after")
    def _ordered(self) -> PeriodFile:
        if self.end <= self.start:
            raise _fail("order", f"{self.end} is not after period.start {self.start}",
                        "a date after period.start", at=("end",))
        return self


class PopulationFile(Section):
    """``population``: how many agents, and the marginals they are drawn from."""

    size: whole(1, MAX_POPULATION)
    marginals: InputPath = None


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
    metric: str | None = None
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


def _behaviour_entries(value: Any) -> list:
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


class IndicatorFile(Section):
    """A policy indicator of the scenario's own: its title and plain-language levels."""

    title: AnyText | None = None
    levels: Annotated[list[AnyText], Field(min_length=2)]


class InterventionFile(Section):
    """A hand-written intervention: an indicator at a level from start to end inclusive."""

    indicator: Text
    level: number(0)
    start: Date
    end: Date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> InterventionFile:
        if self.end is not None and self.end < self.start:
            raise _fail("order", f"{self.end} is before start {self.start}",
                        "a date on or after start", at=("end",))
        return self


class PolicyFile(Section):
    """``policy``: observed OxCGRT indicators or hand-written interventions."""

    source: choice("oxcgrt", "interventions") = "oxcgrt"
    file: InputPath = None
    data_dir: InputPath = None
    region: Region | None = None
    indicators: dict[str, IndicatorFile] | None = None
    interventions: list[InterventionFile] | None = None
    shown: list[str] | None = None

    def catalogue(self) -> dict[str, Indicator]:
        """OxCGRT's indicators and the scenario's own."""
        catalogue = dict(OXCGRT_INDICATORS)
        for name, entry in (self.indicators or {}).items():
            catalogue[str(name)] = Indicator(str(name), entry.title or str(name),
                                             tuple(entry.levels))
        return catalogue

    @model_validator(mode="after")
    def _consistent(self) -> PolicyFile:
        catalogue = self.catalogue()
        if self.source == "interventions" and not self.interventions:
            raise _fail("interventions", "source is interventions but none are listed",
                        "a list of {indicator, level, start, end}", at=("interventions",))
        if self.source == "oxcgrt" and self.interventions:
            raise _fail("interventions", "interventions are listed but policy.source is oxcgrt",
                        "set policy.source: interventions, or remove the list",
                        at=("interventions",))
        for index, item in enumerate(self.interventions or []):
            if item.indicator not in catalogue:
                raise _fail("choice", f"{item.indicator!r} is not allowed", catalogue,
                            at=("interventions", index, "indicator"))
            indicator = catalogue[item.indicator]
            if not indicator.accepts(item.level):
                raise _fail("range", f"{item.level:g} is out of range", indicator.allowed_levels,
                            at=("interventions", index, "level"))
        for index, name in enumerate(self.shown or []):
            if name not in catalogue:
                raise _fail("choice", f"{name!r} is not allowed", catalogue,
                            at=("shown", index))
        return self

    def to_spec(self) -> PolicySpec:
        """The policy part of a scenario."""
        return PolicySpec(
            source=self.source, file=self.file, data_dir=self.data_dir, region=self.region,
            indicators=self.catalogue(),
            interventions=tuple(Intervention(i.indicator, i.level, i.start, i.end)
                                for i in self.interventions or ()),
            shown=tuple(self.shown or ()))


class ContextFile(Section):
    """``context``: observed weekly context, constant values, or none."""

    source: choice("observed", "none", "constant") | None = None
    data_dir: InputPath = None
    values: dict[str, number()] | None = None

    @model_validator(mode="after")
    def _values_given(self) -> ContextFile:
        if self.source == "constant" and not self.values:
            raise _fail("values", "source is constant but no values given",
                        "a mapping such as {new_cases_per_100k: 20}", at=("values",))
        return self


def _engine_mapping(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class EngineFile(Section):
    """``engine``: who answers, how many personas at most, its options and response cache."""

    name: EngineName = EngineSpec.name
    archetypes: whole(1, 100_000) = EngineSpec.archetypes
    options: dict[str, Any] | None = None
    cache: AnyText | None = None

    @model_validator(mode="after")
    def _options_fit(self) -> EngineFile:
        options = self.options or {}
        if any("key" in str(k).lower() for k in options):
            raise _fail("secret", "API keys do not belong in scenario files",
                        "set the provider's environment variable (e.g. OPENAI_API_KEY)",
                        at=("options",))
        checked_options(self.name, options)
        return self

    def to_spec(self) -> EngineSpec:
        """The engine part of a scenario."""
        return EngineSpec(self.name, self.archetypes, dict(self.options or {}),
                          Path(self.cache).expanduser() if self.cache else None)


def checked_options(engine: str, options: Mapping) -> None:
    """Raise the field error of the first option that ``engine`` does not accept."""
    try:
        options_model(engine).model_validate(dict(options))
    except ValidationError as error:
        raise nested(error, ("options",)) from None


class PromptsFile(Section):
    """``prompts``: templates replacing the default prompt's parts."""

    preamble: AnyText | None = None
    persona: AnyText | None = None
    signals: AnyText | None = None
    options: AnyText | None = None
    question: AnyText | None = None


class ScenarioFile(Section):
    """A scenario file (see scenarios/*.yaml and the README for every field)."""

    name: Text
    description: AnyText = ""
    region: Region
    period: PeriodFile
    tick: choice("day", "week") = "week"
    population: PopulationFile
    seed: whole(0, MAX_SEED) = 0
    behaviours: Annotated[list[BehaviourFile], BeforeValidator(_behaviour_entries)]
    policy: PolicyFile = PolicyFile()
    context: ContextFile | None = None
    engine: Annotated[EngineFile, BeforeValidator(_engine_mapping)] = EngineFile()
    network: NetworkSpec = NetworkSpec()
    dynamics: DynamicsSpec = DynamicsSpec()
    prompts: PromptsFile = PromptsFile()
    probes: InputPath = None
    output: AnyText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioFile:
        if self.tick == "week" and (self.period.end - self.period.start).days < 6:
            raise _fail("period", "shorter than one weekly tick", "at least 7 days",
                        at=("period",))
        duplicates = repeated([b.name for b in self.behaviours])
        if duplicates:
            raise _fail("names", f"duplicate names {duplicates}", "each behaviour name once",
                        at=("behaviours",))
        return self

    def to_scenario(self, source: str, raw: Mapping) -> Scenario:
        """The typed scenario."""
        policy = self.policy.to_spec()
        context = self.context or ContextFile()
        default = "observed" if policy.source == "oxcgrt" else "none"
        return Scenario(
            name=self.name, description=self.description, region=self.region,
            start=self.period.start, end=self.period.end, tick=self.tick,
            population_size=self.population.size, marginals=self.population.marginals,
            seed=self.seed, behaviours=tuple(b.to_behaviour() for b in self.behaviours),
            policy=policy,
            context=ContextSpec(context.source or default, context.data_dir,
                                dict(context.values or {})),
            engine=self.engine.to_spec(), network=self.network, dynamics=self.dynamics,
            prompts={k: v for k, v in self.prompts.model_dump().items() if v is not None},
            probes=self.probes,
            output=Path(self.output) if self.output else Path("runs") / self.name,
            source=source, raw=raw)
