"""Scenarios: what the simulator runs, declared once, and reading one from a YAML file.

A scenario says who is simulated (region, population), when (period, tick), what they are asked
(behaviours), what they are told (policy signals and context), who answers (engine) and where
results go. :class:`Scenario` is both the file's format and the object the simulator reads (its
sections are in :mod:`simulator.scenario_sections`): every field is checked before any work, every
error names the file, the field, the bad value and what is allowed, and a changed scenario
(:meth:`Scenario.replace`, a command-line override) is validated again by the same declaration.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, InstanceOf, PrivateAttr, ValidationError, model_validator

from simulator.behaviours import Behaviour
from simulator.cognition.cells import TRAITS
from simulator.cognition.credentials import redacted
from simulator.cognition.rules import DERIVED_CONTEXT
from simulator.epidemic.checks import check_simulated_epidemic
from simulator.errors import ScenarioError
from simulator.fields import (
    AnyText,
    Region,
    Section,
    _fail,
    choice,
    plain,
    repeated,
    scenario_error,
    validated,
    whole,
)
from simulator.fitted_parameters import ParameterFileError, read_parameters
from simulator.scenario_sections import (
    ContextSpec,
    DynamicsSpec,
    EngineSpec,
    InputPath,
    NetworkSpec,
    PeriodSpec,
    PolicySpec,
    PopulationSpec,
    PromptsSpec,
    behaviours_of,
    check_rule_names,
    ticks,
)
from simulator.sources.context import CONTEXT_COLUMNS
from simulator.yaml_files import read_yaml

MAX_SEED = 2**63 - 1
MAX_TICKS = 5_000
"""Most ticks a scenario runs: 13 years of days or 95 years of weeks, where the observed data
span three years; a period of millennia would run for days and fill the disk with rows."""
_TICK_WORDS = {"day": "daily", "week": "weekly"}
_NESTED = {"start": ("period", "start"), "end": ("period", "end"),
           "population_size": ("population", "size"), "marginals": ("population", "marginals")}
"""Scenario attributes that live in a section of the file."""


def _plain_name(value: Any) -> str:
    """A name that is also a folder name (the default output is ``runs/<name>``)."""
    if isinstance(value, str) and value.strip() and not (
            set(value) & {"/", "\\", "\0"} or value.startswith(".") or value != value.strip()):
        return value
    raise _fail("name", f"{value!r} is not a plain name", "a name without path separators, "
                "a leading dot or surrounding spaces, e.g. covid_us_2020 (the default output "
                "folder is runs/<name>)")


def _templates(value: Any) -> dict[str, str]:
    """The prompt templates a scenario gives (checked by :class:`PromptsSpec`)."""
    return PromptsSpec.model_validate({} if value is None else value).templates()


class Scenario(Section):
    """A validated scenario. Build it with :func:`load_scenario` or :func:`scenario_from_dict`.

    The fields are the file's (see scenarios/*.yaml and the README for every one); ``start``,
    ``end``, ``population_size`` and ``marginals`` read their sections, ``source`` is the file
    it came from and ``raw`` what the file held (and the overrides applied since).
    """

    name: Annotated[str, BeforeValidator(_plain_name)]
    description: AnyText = ""
    region: Region
    period: PeriodSpec
    tick: choice("day", "week") = "week"
    population: PopulationSpec
    seed: whole(0, MAX_SEED) = 0
    behaviours: Annotated[tuple[InstanceOf[Behaviour], ...], BeforeValidator(behaviours_of)]
    policy: PolicySpec = PolicySpec()
    context: ContextSpec = ContextSpec()
    engine: EngineSpec = EngineSpec()
    network: NetworkSpec = NetworkSpec()
    dynamics: DynamicsSpec = DynamicsSpec()
    prompts: Annotated[dict[str, str], BeforeValidator(_templates)] = {}
    probes: InputPath = None
    output: Annotated[Path, BeforeValidator(lambda v: Path(v))] = Path("runs")
    _source: str = PrivateAttr(default="<dict>")
    _raw: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _defaults_that_depend(cls, data: Any) -> Any:
        """Context defaults to the policy's kind; the output folder to ``runs/<name>``."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        policy = data.get("policy")
        source = policy.source if isinstance(policy, PolicySpec) else (
            policy.get("source", "oxcgrt") if isinstance(policy, Mapping) else "oxcgrt")
        context = data.get("context")
        if context is None or isinstance(context, Mapping) and context.get("source") is None:
            default = "observed" if source == "oxcgrt" else "none"
            data["context"] = {**(context or {}), "source": default}
        if data.get("output") is None and isinstance(data.get("name"), str):
            data["output"] = Path("runs") / data["name"]
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _fitted_parameters(cls, data: Any, handler) -> Scenario:
        """A parameter file's values (``engine.parameters``) in place of the priors."""
        scenario = handler(data)
        path = scenario.engine.parameters
        if path is None:
            return scenario
        try:
            changes = read_parameters(path).changes_for(scenario, f"{path} holds parameters")
        except ParameterFileError as error:
            raise _fail("parameters", str(error), "a file written by `socialtwin fit` for "
                        "this scenario's engine and behaviours",
                        at=("engine", "parameters")) from None
        engine = changes["engine"]
        changed = {**{name: getattr(scenario, name) for name in cls.model_fields}, **changes}
        if all(changed[name] == getattr(scenario, name) for name in ("behaviours", "dynamics")) \
                and scenario.engine.options.model_dump() == engine["options"]:
            return scenario
        return handler(changed)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        count = ticks(self.period, self.tick)
        if self.tick == "week" and self.period.days < 7:
            raise _fail("period", "shorter than one weekly tick", "at least 7 days",
                        at=("period",))
        if count > MAX_TICKS:
            raise _fail("period", f"{count:,} {_TICK_WORDS[self.tick]} ticks from "
                        f"{self.period.start} to {self.period.end}",
                        f"at most {MAX_TICKS:,} ticks", at=("period",))
        duplicates = repeated([b.name for b in self.behaviours])
        if duplicates:
            raise _fail("names", f"duplicate names {duplicates}", "each behaviour name once",
                        at=("behaviours",))
        if self.context.epidemic == "simulated":
            check_simulated_epidemic(self)
        context = (*CONTEXT_COLUMNS, *DERIVED_CONTEXT, *self.context.values)
        check_rule_names(self.behaviours, {"policy": tuple(self.policy.indicators),
                                           "traits": TRAITS, "context": context})
        return self

    @property
    def start(self) -> dt.date:
        """First day of the period."""
        return self.period.start

    @property
    def end(self) -> dt.date:
        """Last day of the period."""
        return self.period.end

    @property
    def population_size(self) -> int:
        """Number of agents."""
        return self.population.size

    @property
    def marginals(self) -> Path | None:
        """The population's marginals file, if the scenario gives one."""
        return self.population.marginals

    @property
    def source(self) -> str:
        """The file the scenario was read from (``<dict>`` when built in Python)."""
        return self._source

    @property
    def raw(self) -> Mapping[str, Any]:
        """What the file held, and the overrides applied since (under ``overrides``)."""
        return self._raw

    @property
    def behaviour_names(self) -> tuple[str, ...]:
        """Names of the behaviours, in scenario order."""
        return tuple(b.name for b in self.behaviours)

    def replace(self, labels: Mapping[str, str] | None = None, **changes: Any) -> Scenario:
        """A copy with some fields changed, validated again by the same declaration.

        Args:
            labels: field path -> how an error names it (e.g. ``population.size`` ->
                ``population.size (--agents)`` for a command-line override).
            **changes: fields (or ``start``, ``end``, ``population_size``, ``marginals``) and
                their new values; sections may be given as sections or mappings.

        Raises:
            ScenarioError: a changed value is invalid, named with the scenario's file.
            TypeError: an unknown field.
        """
        data = {name: getattr(self, name) for name in type(self).model_fields}
        for key, value in changes.items():
            if key in _NESTED:
                section, field = _NESTED[key]
                data[section] = {**dict(getattr(self, section)), field: value}
            elif key in data:
                data[key] = value
            else:
                raise TypeError(f"Scenario has no field {key!r}")
        try:
            changed = type(self).model_validate(data)
        except ValidationError as error:
            found = scenario_error(self.source, error)
            raise ScenarioError(self.source, (labels or {}).get(found.field, found.field),
                                found.problem, found.allowed) from None
        overrides = {**self._raw.get("overrides", {}),
                     **{k: plain(v) for k, v in changes.items()}}
        return changed._with_origin(self.source, {**self._raw, "overrides": overrides})

    def with_engine(self, name: str) -> Scenario:
        """A copy answering with another engine (checked like the file's ``engine`` field)."""
        engine = {"name": name, "personas": self.engine.personas,
                  "options": self.engine.options.given()}
        return self.replace(labels={"engine.name": "engine (--engine)"}, engine=engine)

    def _with_origin(self, source: str, raw: Mapping[str, Any]) -> Scenario:
        self._source, self._raw = source, dict(raw)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly record of the scenario (for manifests)."""
        return {
            "name": self.name,
            "source": self.source,
            "region": self.region,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tick": self.tick,
            "population_size": self.population_size,
            "seed": self.seed,
            "behaviours": list(self.behaviour_names),
            "policy_source": self.policy.source,
            "context_source": self.context.source,
            "engine": self.engine.name,
            "personas": self.engine.personas,
            "raw": redacted(plain(self.raw)),
        }


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises:
        ScenarioError: the file cannot be read, is not YAML, or a field is invalid.
    """
    data, source = read_yaml(path)
    return scenario_from_dict(data, source=source, base_dir=Path(path).parent)


def scenario_from_dict(
    data: Any, source: str = "<dict>", base_dir: str | os.PathLike | None = None
) -> Scenario:
    """Validate a scenario mapping (as read from YAML) and build a :class:`Scenario`.

    Args:
        data: the mapping.
        source: name used in error messages (the file path).
        base_dir: folder that relative input paths (policy file, marginals) are relative to.

    Raises:
        ScenarioError: the first invalid field, named with the file and what is allowed.
    """
    folder = Path(base_dir) if base_dir is not None else Path.cwd()
    scenario = validated(Scenario, data, source, {"base_dir": folder})
    return scenario._with_origin(source, data if isinstance(data, Mapping) else {})
