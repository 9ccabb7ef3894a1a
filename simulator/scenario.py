"""Scenario files: load a YAML scenario, validate every field before any work, and hold it typed.

A scenario says who is simulated (region, population), when (period, tick), what they are asked
(behaviours), what they are told (policy signals and context), who answers (engine) and where
results go. Every error names the file, the field, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.behaviours import PRESETS, Behaviour, behaviour_from_dict, preset_specs
from simulator.errors import ScenarioError
from simulator.fields import TOP, FieldReader, checked_region, plain, read_yaml
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator

TICKS = ("day", "week")
POLICY_SOURCES = ("oxcgrt", "interventions")
CONTEXT_SOURCES = ("observed", "none", "constant")
ENGINE_NAMES = ("local", "rules", "litellm:<model>")
MAX_POPULATION = 50_000_000


@dataclass(frozen=True)
class Intervention:
    """A hand-written policy: ``indicator`` at ``level`` from ``start`` to ``end`` inclusive."""

    indicator: str
    level: float
    start: dt.date
    end: dt.date | None = None


@dataclass(frozen=True)
class PolicySpec:
    """Where the policy signals come from.

    Attributes:
        source: ``oxcgrt`` (observed indicators) or ``interventions`` (hand-written).
        file: raw OxCGRT CSV (classic or v1 layout); ``None`` uses the weekly table.
        data_dir: raw upstream files from which the weekly table is built (any OxCGRT file of
            the folder); ``None`` uses the shipped table.
        region: region whose OxCGRT record is used (defaults to the scenario region).
        indicators: the indicator catalogue available to this scenario.
        interventions: hand-written interventions (``source: interventions``).
        shown: indicators put to the agents (all of the catalogue when empty).
    """

    source: str = "oxcgrt"
    file: Path | None = None
    data_dir: Path | None = None
    region: str | None = None
    indicators: Mapping[str, Indicator] = field(default_factory=lambda: dict(OXCGRT_INDICATORS))
    interventions: tuple[Intervention, ...] = ()
    shown: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextSpec:
    """Exogenous context (epidemic, season) told to agents alongside the policy.

    Attributes:
        source: ``observed`` (weekly context of the region: cases, vaccination, temperature,
            holidays), ``constant`` (fixed ``values``) or ``none``.
        data_dir: raw upstream files to read instead of the shipped weekly tables.
        values: fixed values for ``constant``, or overrides on top of ``observed``.
    """

    source: str = "observed"
    data_dir: Path | None = None
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineSpec:
    """Which cognition engine answers, and how.

    Attributes:
        name: ``local``, ``rules`` or ``litellm:<model>``.
        archetypes: the most personas a language model is asked per tick (the factorial design
            adds persona attributes in priority order while they fit; see
            :mod:`simulator.cognition.personas`).
        options: engine-specific options (e.g. ``concurrency``, ``api_base``, ``temperature``).
        cache: path of the SQLite response cache; ``None`` uses the per-user cache folder.
    """

    name: str = "rules"
    archetypes: int = 24
    options: Mapping[str, Any] = field(default_factory=dict)
    cache: Path | None = None


@dataclass(frozen=True)
class NetworkSpec:
    """Shape of the social network (see simulator/network.py)."""

    workplace_size: int = 12
    community_degree: int = 6
    homophily: float = 0.7


@dataclass(frozen=True)
class DynamicsSpec:
    """Individual dynamics around the archetype answers (see TwinModel.step).

    Attributes:
        habit: mean weight of last tick's behaviour in this tick's (inertia).
        peer_weight: mean weight of the neighbours' behaviour against the agent's own answer.
        heterogeneity: SD of each agent's fixed logit offset from its archetype's answer.
        noise: SD of the per-tick individual noise on the probability scale.
    """

    habit: float = 0.4
    peer_weight: float = 0.25
    heterogeneity: float = 0.35
    noise: float = 0.02


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build it with :func:`load_scenario` or :func:`scenario_from_dict`."""

    name: str
    region: str
    start: dt.date
    end: dt.date
    tick: str
    population_size: int
    seed: int
    behaviours: tuple[Behaviour, ...]
    policy: PolicySpec
    context: ContextSpec
    engine: EngineSpec
    description: str = ""
    marginals: Path | None = None
    network: NetworkSpec = field(default_factory=NetworkSpec)
    dynamics: DynamicsSpec = field(default_factory=DynamicsSpec)
    prompts: Mapping[str, str] = field(default_factory=dict)
    probes: Path | None = None
    output: Path = Path("runs")
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (the raw mapping records the overrides)."""
        raw = dict(self.raw)
        raw.setdefault("overrides", {})
        raw["overrides"] = {**raw["overrides"], **{k: plain(v) for k, v in changes.items()}}
        return dataclasses.replace(self, raw=raw, **changes)

    def with_engine(self, name: str) -> Scenario:
        """A copy answering with another engine (validated like the scenario field)."""
        _check_engine_name(self.source, "engine.name", name)
        return self.replace(engine=dataclasses.replace(self.engine, name=name))

    @property
    def behaviour_names(self) -> tuple[str, ...]:
        """Names of the behaviours, in scenario order."""
        return tuple(b.name for b in self.behaviours)

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
            "archetypes": self.engine.archetypes,
            "raw": plain(self.raw),
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
    """
    read = FieldReader(source, Path(base_dir) if base_dir is not None else None)
    top = read.mapping(data, TOP)
    read.known(top, TOP, _TOP_KEYS)
    name = read.text(read.required(top, "name"), "name")
    region = _region(read, read.text(read.required(top, "region"), "region"), "region")
    period = read.mapping(read.required(top, "period"), "period")
    read.known(period, "period", ("start", "end"))
    start = read.date(read.required(period, "start", "period.start"), "period.start")
    end = read.date(read.required(period, "end", "period.end"), "period.end")
    if end <= start:
        raise read.fail("period.end", f"{end} is not after period.start {start}",
                        "a date after period.start")
    tick = read.choice(top.get("tick", "week"), "tick", TICKS)
    if tick == "week" and (end - start).days < 6:
        raise read.fail("period", "shorter than one weekly tick", "at least 7 days")

    population = read.mapping(read.required(top, "population"), "population")
    read.known(population, "population", ("size", "marginals"))
    size = read.whole(read.required(population, "size", "population.size"), "population.size",
                      low=1, high=MAX_POPULATION)
    marginals = read.path(population.get("marginals"), "population.marginals")
    seed = read.whole(top.get("seed", 0), "seed", low=0, high=2**63 - 1)

    behaviours = _behaviours(read, read.required(top, "behaviours"))
    policy = _policy(read, top.get("policy", {"source": "oxcgrt"}))
    context = _context(read, top.get("context"), policy)
    engine = _engine(read, top.get("engine", {"name": "rules"}))
    network = _section(read, top.get("network"), "network", NetworkSpec)
    dynamics = _section(read, top.get("dynamics"), "dynamics", DynamicsSpec)
    prompts = read.mapping(top.get("prompts") or {}, "prompts")
    read.known(prompts, "prompts", ("preamble", "persona", "signals", "options", "question"))
    probes = read.path(top.get("probes"), "probes")
    output = Path(top.get("output") or Path("runs") / name)

    return Scenario(
        name=name,
        description=str(top.get("description", "")),
        region=region,
        start=start,
        end=end,
        tick=tick,
        population_size=size,
        marginals=marginals,
        seed=seed,
        behaviours=behaviours,
        policy=policy,
        context=context,
        engine=engine,
        network=network,
        dynamics=dynamics,
        prompts={k: str(v) for k, v in prompts.items()},
        probes=probes,
        output=output,
        source=source,
        raw=data,
    )


_TOP_KEYS = (
    "name", "description", "region", "period", "tick", "population", "seed", "behaviours",
    "policy", "context", "engine", "network", "dynamics", "prompts", "probes", "output",
)


def _region(read: FieldReader, value: str, field: str) -> str:
    return checked_region(read.source, field, value)


def _behaviours(read: FieldReader, value: Any) -> tuple[Behaviour, ...]:
    if isinstance(value, str):
        entries: list[Any] = preset_specs(read.choice(value, "behaviours", PRESETS))
    elif isinstance(value, list) and value:
        entries = value
    else:
        raise read.fail("behaviours", "must be a preset name or a non-empty list",
                        f"{', '.join(PRESETS)}, or a list of behaviours")
    known = {item["name"]: item for preset in PRESETS for item in preset_specs(preset)}
    behaviours = []
    for index, entry in enumerate(entries):
        where = f"behaviours[{index}]"
        if isinstance(entry, str):
            if entry not in known:
                raise read.fail(where, f"unknown behaviour {entry!r}",
                                list(known) + ["a mapping with name and question"])
            entry = known[entry]
        item = read.mapping(entry, where)
        read.known(item, where,
                   ("name", "question", "reverse_question", "options", "metric",
                    "expected_response", "rules"))
        for key in ("name", "question"):
            read.text(read.required(item, key, f"{where}.{key}"), f"{where}.{key}")
        if item.get("reverse_question") is not None:
            read.text(item["reverse_question"], f"{where}.reverse_question")
        options = item.get("options")
        if options is not None:
            if not isinstance(options, list) or len(options) < 2:
                raise read.fail(f"{where}.options", "needs at least two options",
                                "a list of {label, value} with value in [0, 1]")
            for k, option in enumerate(options):
                field = f"{where}.options[{k}]"
                opt = read.mapping(option, field)
                read.text(read.required(opt, "label", f"{field}.label"), f"{field}.label")
                read.number(read.required(opt, "value", f"{field}.value"), f"{field}.value",
                            0.0, 1.0)
        read.choice(item.get("expected_response", 0), f"{where}.expected_response", (-1, 0, 1))
        rules = read.mapping(item.get("rules") or {}, f"{where}.rules")
        read.known(rules, f"{where}.rules", ("baseline", "policy", "context", "traits"))
        if "baseline" in rules:
            read.number(rules["baseline"], f"{where}.rules.baseline", 0.001, 0.999)
        for part in ("policy", "context", "traits"):
            weights = read.mapping(rules.get(part) or {}, f"{where}.rules.{part}")
            for key, weight in weights.items():
                read.number(weight, f"{where}.rules.{part}.{key}")
        behaviour = behaviour_from_dict(item)
        labels = [option.label for option in behaviour.options]
        if len(set(labels)) != len(labels):
            raise read.fail(f"{where}.options", f"repeated option labels {labels}",
                            "each label once")
        if behaviour.reverse_question:
            try:
                behaviour.opposite_options()
            except ValueError:
                raise read.fail(f"{where}.reverse_question", "option values "
                                f"{behaviour.option_values.tolist()} are not symmetric",
                                "option values v and 1 - v, so that each answer to the reverse "
                                "question has an opposite") from None
        behaviours.append(behaviour)
    names = [b.name for b in behaviours]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise read.fail("behaviours", f"duplicate names {duplicates}", "each behaviour name once")
    return tuple(behaviours)


def _policy(read: FieldReader, value: Any) -> PolicySpec:
    policy = read.mapping(value, "policy")
    read.known(policy, "policy",
               ("source", "file", "data_dir", "region", "indicators", "interventions", "shown"))
    source = read.choice(policy.get("source", "oxcgrt"), "policy.source", POLICY_SOURCES)
    catalogue = dict(OXCGRT_INDICATORS)
    custom = read.mapping(policy.get("indicators") or {}, "policy.indicators")
    for name, item in custom.items():
        where = f"policy.indicators.{name}"
        entry = read.mapping(item, where)
        read.known(entry, where, ("title", "levels"))
        levels = entry.get("levels")
        if not isinstance(levels, list) or len(levels) < 2:
            raise read.fail(f"{where}.levels", "needs at least two levels",
                            "a list of plain-language descriptions, level 0 first")
        catalogue[str(name)] = Indicator(str(name), str(entry.get("title", name)),
                                         tuple(str(level) for level in levels))
    region = policy.get("region")
    if region is not None:
        region = _region(read, region, "policy.region")
    interventions = []
    if source == "interventions":
        items = policy.get("interventions")
        if not isinstance(items, list) or not items:
            raise read.fail("policy.interventions", "source is interventions but none are listed",
                            "a list of {indicator, level, start, end}")
        for index, item in enumerate(items):
            where = f"policy.interventions[{index}]"
            entry = read.mapping(item, where)
            read.known(entry, where, ("indicator", "level", "start", "end"))
            indicator = read.choice(read.required(entry, "indicator", f"{where}.indicator"),
                                    f"{where}.indicator", tuple(catalogue))
            level = read.number(read.required(entry, "level", f"{where}.level"),
                                f"{where}.level", 0, catalogue[indicator].max_level)
            first = read.date(read.required(entry, "start", f"{where}.start"), f"{where}.start")
            last = read.date(entry["end"], f"{where}.end") if entry.get("end") else None
            if last is not None and last < first:
                raise read.fail(f"{where}.end", f"{last} is before start {first}",
                                "a date on or after start")
            interventions.append(Intervention(indicator, level, first, last))
    elif policy.get("interventions"):
        raise read.fail("policy.interventions",
                        "interventions are listed but policy.source is oxcgrt",
                        "set policy.source: interventions, or remove the list")
    shown = read.sequence(policy.get("shown") or [], "policy.shown")
    for index, name in enumerate(shown):
        read.choice(name, f"policy.shown[{index}]", tuple(catalogue))
    return PolicySpec(
        source=source,
        file=read.path(policy.get("file"), "policy.file"),
        data_dir=read.path(policy.get("data_dir"), "policy.data_dir"),
        region=region,
        indicators=catalogue,
        interventions=tuple(interventions),
        shown=tuple(shown),
    )


def _context(read: FieldReader, value: Any, policy: PolicySpec) -> ContextSpec:
    default = "observed" if policy.source == "oxcgrt" else "none"
    context = read.mapping(value if value is not None else {"source": default}, "context")
    read.known(context, "context", ("source", "data_dir", "values"))
    source = read.choice(context.get("source", default), "context.source", CONTEXT_SOURCES)
    values = read.mapping(context.get("values") or {}, "context.values")
    for key, item in values.items():
        read.number(item, f"context.values.{key}")
    if source == "constant" and not values:
        raise read.fail("context.values", "source is constant but no values given",
                        "a mapping such as {new_cases_per_100k: 20}")
    return ContextSpec(
        source=source,
        data_dir=read.path(context.get("data_dir"), "context.data_dir"),
        values={k: float(v) for k, v in values.items()},
    )


def _check_engine_name(source: str, where: str, name: Any) -> str:
    if not isinstance(name, str) or not (
        name in ("local", "rules") or (name.startswith("litellm:") and len(name) > len("litellm:"))
    ):
        raise ScenarioError(source, where, f"unknown engine {name!r}", ENGINE_NAMES)
    return name


def _engine(read: FieldReader, value: Any) -> EngineSpec:
    if isinstance(value, str):
        value = {"name": value}
    engine = read.mapping(value, "engine")
    read.known(engine, "engine", ("name", "archetypes", "options", "cache"))
    name = _check_engine_name(read.source, "engine.name", engine.get("name", "rules"))
    archetypes = read.whole(engine.get("archetypes", EngineSpec.archetypes), "engine.archetypes",
                            low=1, high=100_000)
    options = read.mapping(engine.get("options") or {}, "engine.options")
    if any("key" in str(k).lower() for k in options):
        raise read.fail("engine.options", "API keys do not belong in scenario files",
                        "set the provider's environment variable (e.g. OPENAI_API_KEY)")
    cache = engine.get("cache")
    return EngineSpec(
        name=name,
        archetypes=archetypes,
        options=dict(options),
        cache=Path(cache).expanduser() if cache else None,
    )


def _section(read: FieldReader, value: Any, where: str, kind: type) -> Any:
    section = read.mapping(value or {}, where)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    read.known(section, where, tuple(fields))
    values = {}
    for key, item in section.items():
        default = fields[key].default
        if isinstance(default, int) and not isinstance(default, bool):
            values[key] = read.whole(item, f"{where}.{key}", low=0, high=10_000)
        else:
            high = 1.0 if key in ("habit", "peer_weight", "homophily") else 10.0
            values[key] = read.number(item, f"{where}.{key}", 0.0, high)
    return kind(**values)
