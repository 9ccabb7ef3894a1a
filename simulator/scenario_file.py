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

from pydantic import (
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from simulator.behaviour_file import BehaviourFile, behaviour_entries, check_rule_names
from simulator.cognition.archetypes import TRAITS
from simulator.cognition.options import options_model
from simulator.cognition.prompts import PLACEHOLDERS, allowed_placeholders, template_problem
from simulator.cognition.rules import DERIVED_CONTEXT
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
from simulator.sources.context import CONTEXT_BOUNDS, CONTEXT_COLUMNS
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator

MAX_POPULATION = 50_000_000
MAX_SEED = 2**63 - 1
MAX_TICKS = 5_000
"""Most ticks a scenario runs: 13 years of days or 95 years of weeks, where the observed data
span three years; a period of millennia would run for days and fill the disk with rows."""
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


def _plain_name(value: Any) -> str:
    """A name that is also a folder name (the default output is ``runs/<name>``)."""
    if isinstance(value, str) and value.strip() and not (
            set(value) & {"/", "\\", "\0"} or value.startswith(".") or value != value.strip()):
        return value
    raise _fail("name", f"{value!r} is not a plain name", "a name without path separators, "
                "a leading dot or surrounding spaces, e.g. covid_us_2020 (the default output "
                "folder is runs/<name>)")


InputPath = Annotated[Path | None, BeforeValidator(_input_path)]
PlainName = Annotated[str, BeforeValidator(_plain_name)]
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
    interventions: Annotated[list[InterventionFile] | None, at_most(MAX_INTERVENTIONS)] = None
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
        for name, value in (self.values or {}).items():
            if name in _CONTEXT_VALUES:
                try:
                    _CONTEXT_VALUES[name].validate_python(value)
                except ValidationError as error:
                    raise nested(error, ("values", name)) from None
        return self


_CONTEXT_VALUES = {name: TypeAdapter(number(low, high))
                   for name, (low, high) in CONTEXT_BOUNDS.items()}
"""The declared bounds of the context values a scenario may give (others are its own)."""


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

    @model_validator(mode="after")
    def _placeholders_known(self) -> PromptsFile:
        for part in PLACEHOLDERS:
            template = getattr(self, part)
            problem = template_problem(part, template) if template is not None else None
            if problem:
                raise _fail("template", problem, allowed_placeholders(part), at=(part,))
        return self


_TICK_WORDS = {"day": "daily", "week": "weekly"}


class ScenarioFile(Section):
    """A scenario file (see scenarios/*.yaml and the README for every field)."""

    name: PlainName
    description: AnyText = ""
    region: Region
    period: PeriodFile
    tick: choice("day", "week") = "week"
    population: PopulationFile
    seed: whole(0, MAX_SEED) = 0
    behaviours: Annotated[list[BehaviourFile], BeforeValidator(behaviour_entries)]
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
        days = (self.period.end - self.period.start).days + 1
        if self.tick == "week" and days < 7:
            raise _fail("period", "shorter than one weekly tick", "at least 7 days",
                        at=("period",))
        ticks = days if self.tick == "day" else days // 7
        if ticks > MAX_TICKS:
            raise _fail("period", f"{ticks:,} {_TICK_WORDS[self.tick]} ticks from "
                        f"{self.period.start} to {self.period.end}", f"at most {MAX_TICKS:,} ticks",
                        at=("period",))
        duplicates = repeated([b.name for b in self.behaviours])
        if duplicates:
            raise _fail("names", f"duplicate names {duplicates}", "each behaviour name once",
                        at=("behaviours",))
        self._rule_names_known()
        return self

    def _rule_names_known(self) -> None:
        context = (*CONTEXT_COLUMNS, *DERIVED_CONTEXT,
                   *((self.context.values or {}) if self.context else {}))
        check_rule_names(self.behaviours, {"policy": tuple(self.policy.catalogue()),
                                           "traits": TRAITS, "context": context})

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
