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

import yaml

from simulator.behaviours import PRESETS, Behaviour, behaviour_from_dict, preset_specs
from simulator.errors import ScenarioError
from simulator.indicators import OXCGRT_INDICATORS, Indicator
from simulator.regions import resolve_region

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
        file: raw OxCGRT CSV (classic or v1 layout); ``None`` uses the shipped weekly table.
        region: region whose OxCGRT record is used (defaults to the scenario region).
        indicators: the indicator catalogue available to this scenario.
        interventions: hand-written interventions (``source: interventions``).
        shown: indicators put to the agents (all of the catalogue when empty).
    """

    source: str = "oxcgrt"
    file: Path | None = None
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
        archetypes: the cap K on the number of archetypes asked per tick.
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
    output: Path = Path("runs")
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (the raw mapping records the overrides)."""
        raw = dict(self.raw)
        raw.setdefault("overrides", {})
        raw["overrides"] = {**raw["overrides"], **{k: _plain(v) for k, v in changes.items()}}
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
            "raw": _plain(self.raw),
        }


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises:
        ScenarioError: the file cannot be read, is not YAML, or a field is invalid.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError(source, "<file>", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(source, "<file>", f"cannot read the file ({error})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(source, "<file>", f"not valid YAML ({error})") from None
    return scenario_from_dict(data, source=source, base_dir=path.parent)


def scenario_from_dict(
    data: Any, source: str = "<dict>", base_dir: str | os.PathLike | None = None
) -> Scenario:
    """Validate a scenario mapping (as read from YAML) and build a :class:`Scenario`.

    Args:
        data: the mapping.
        source: name used in error messages (the file path).
        base_dir: folder that relative input paths (policy file, marginals) are relative to.
    """
    spec = _Spec(source, Path(base_dir) if base_dir is not None else Path.cwd())
    top = spec.mapping(data, "<top level>")
    spec.known_keys(top, "<top level>", _TOP_KEYS)
    name = spec.string(top, "name")
    try:
        region = resolve_region(spec.string(top, "region"))
    except KeyError as error:
        raise ScenarioError(source, "region", f"{top['region']!r} is not a known region",
                            error.args[0].split("allowed: ")[-1]) from None
    period = spec.mapping(spec.required(top, "period"), "period")
    spec.known_keys(period, "period", ("start", "end"))
    start = spec.date(period, "start", "period.start")
    end = spec.date(period, "end", "period.end")
    if end <= start:
        raise ScenarioError(source, "period.end", f"{end} is not after period.start {start}",
                            "a date after period.start")
    tick = spec.choice(top.get("tick", "week"), "tick", TICKS)
    if tick == "week" and (end - start).days < 6:
        raise ScenarioError(source, "period", "shorter than one weekly tick", "at least 7 days")

    population = spec.mapping(spec.required(top, "population"), "population")
    spec.known_keys(population, "population", ("size", "marginals"))
    size = spec.integer(population, "size", "population.size", low=1, high=MAX_POPULATION)
    marginals = spec.path(population.get("marginals"), "population.marginals", must_exist=True)
    seed = spec.integer(top, "seed", "seed", low=0, high=2**63 - 1, default=0)

    behaviours = _behaviours(spec, spec.required(top, "behaviours"))
    policy = _policy(spec, top.get("policy", {"source": "oxcgrt"}), start, end)
    context = _context(spec, top.get("context"), policy)
    engine = _engine(spec, top.get("engine", {"name": "rules"}))
    network = _section(spec, top.get("network"), "network", NetworkSpec)
    dynamics = _section(spec, top.get("dynamics"), "dynamics", DynamicsSpec)
    prompts = spec.mapping(top.get("prompts") or {}, "prompts")
    spec.known_keys(prompts, "prompts", ("preamble", "persona", "signals", "question"))
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
        output=output,
        source=source,
        raw=data,
    )


_TOP_KEYS = (
    "name", "description", "region", "period", "tick", "population", "seed", "behaviours",
    "policy", "context", "engine", "network", "dynamics", "prompts", "output",
)


def _behaviours(spec: _Spec, value: Any) -> tuple[Behaviour, ...]:
    if isinstance(value, str):
        if value not in PRESETS:
            raise ScenarioError(spec.source, "behaviours", f"unknown preset {value!r}",
                                PRESETS)
        entries: list[Any] = preset_specs(value)
    elif isinstance(value, list) and value:
        entries = value
    else:
        raise ScenarioError(spec.source, "behaviours", "must be a preset name or a non-empty list",
                            f"{', '.join(PRESETS)}, or a list of behaviours")
    known = {item["name"]: item for preset in PRESETS for item in preset_specs(preset)}
    behaviours = []
    for index, entry in enumerate(entries):
        where = f"behaviours[{index}]"
        if isinstance(entry, str):
            if entry not in known:
                raise ScenarioError(spec.source, where, f"unknown behaviour {entry!r}",
                                    list(known) + ["a mapping with name and question"])
            entry = known[entry]
        item = spec.mapping(entry, where)
        spec.known_keys(item, where,
                        ("name", "question", "options", "metric", "expected_response", "rules"))
        spec.string(item, "name", f"{where}.name")
        spec.string(item, "question", f"{where}.question")
        options = item.get("options")
        if options is not None:
            if not isinstance(options, list) or len(options) < 2:
                raise ScenarioError(spec.source, f"{where}.options", "needs at least two options",
                                    "a list of {label, value} with value in [0, 1]")
            for k, option in enumerate(options):
                opt = spec.mapping(option, f"{where}.options[{k}]")
                spec.string(opt, "label", f"{where}.options[{k}].label")
                spec.number(opt, "value", f"{where}.options[{k}].value", low=0.0, high=1.0)
        spec.choice(item.get("expected_response", 0), f"{where}.expected_response", (-1, 0, 1))
        rules = spec.mapping(item.get("rules") or {}, f"{where}.rules")
        spec.known_keys(rules, f"{where}.rules", ("baseline", "policy", "context", "traits"))
        if "baseline" in rules:
            spec.number(rules, "baseline", f"{where}.rules.baseline", low=0.001, high=0.999)
        for part in ("policy", "context", "traits"):
            weights = spec.mapping(rules.get(part) or {}, f"{where}.rules.{part}")
            for key in weights:
                spec.number(weights, key, f"{where}.rules.{part}.{key}")
        behaviours.append(behaviour_from_dict(item))
    names = [b.name for b in behaviours]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(spec.source, "behaviours", f"duplicate names {duplicates}",
                            "each behaviour name once")
    return tuple(behaviours)


def _policy(spec: _Spec, value: Any, start: dt.date, end: dt.date) -> PolicySpec:
    policy = spec.mapping(value, "policy")
    spec.known_keys(policy, "policy",
                    ("source", "file", "region", "indicators", "interventions", "shown"))
    source = spec.choice(policy.get("source", "oxcgrt"), "policy.source", POLICY_SOURCES)
    catalogue = dict(OXCGRT_INDICATORS)
    custom = spec.mapping(policy.get("indicators") or {}, "policy.indicators")
    for name, item in custom.items():
        where = f"policy.indicators.{name}"
        entry = spec.mapping(item, where)
        spec.known_keys(entry, where, ("title", "levels"))
        levels = entry.get("levels")
        if not isinstance(levels, list) or len(levels) < 2:
            raise ScenarioError(spec.source, f"{where}.levels", "needs at least two levels",
                                "a list of plain-language descriptions, level 0 first")
        catalogue[str(name)] = Indicator(str(name), str(entry.get("title", name)),
                                         tuple(str(level) for level in levels))
    region = policy.get("region")
    if region is not None:
        try:
            region = resolve_region(region)
        except KeyError as error:
            raise ScenarioError(spec.source, "policy.region", f"{region!r} is not a known region",
                                error.args[0].split("allowed: ")[-1]) from None
    interventions = []
    if source == "interventions":
        items = policy.get("interventions")
        if not isinstance(items, list) or not items:
            raise ScenarioError(spec.source, "policy.interventions",
                                "source is interventions but none are listed",
                                "a list of {indicator, level, start, end}")
        for index, item in enumerate(items):
            where = f"policy.interventions[{index}]"
            entry = spec.mapping(item, where)
            spec.known_keys(entry, where, ("indicator", "level", "start", "end"))
            indicator = spec.choice(spec.required(entry, "indicator", f"{where}.indicator"),
                                    f"{where}.indicator", tuple(catalogue))
            level = spec.number(entry, "level", f"{where}.level", low=0,
                                high=catalogue[indicator].max_level)
            first = spec.date(entry, "start", f"{where}.start")
            last = spec.date(entry, "end", f"{where}.end") if entry.get("end") else None
            if last is not None and last < first:
                raise ScenarioError(spec.source, f"{where}.end", f"{last} is before start {first}",
                                    "a date on or after start")
            interventions.append(Intervention(indicator, level, first, last))
    elif policy.get("interventions"):
        raise ScenarioError(spec.source, "policy.interventions",
                            "interventions are listed but policy.source is oxcgrt",
                            "set policy.source: interventions, or remove the list")
    shown = policy.get("shown") or []
    if not isinstance(shown, list):
        raise ScenarioError(spec.source, "policy.shown", "must be a list", tuple(catalogue))
    for index, name in enumerate(shown):
        spec.choice(name, f"policy.shown[{index}]", tuple(catalogue))
    return PolicySpec(
        source=source,
        file=spec.path(policy.get("file"), "policy.file", must_exist=True),
        region=region,
        indicators=catalogue,
        interventions=tuple(interventions),
        shown=tuple(shown),
    )


def _context(spec: _Spec, value: Any, policy: PolicySpec) -> ContextSpec:
    default = "observed" if policy.source == "oxcgrt" else "none"
    context = spec.mapping(value if value is not None else {"source": default}, "context")
    spec.known_keys(context, "context", ("source", "data_dir", "values"))
    source = spec.choice(context.get("source", default), "context.source", CONTEXT_SOURCES)
    values = spec.mapping(context.get("values") or {}, "context.values")
    for key in values:
        spec.number(values, key, f"context.values.{key}")
    if source == "constant" and not values:
        raise ScenarioError(spec.source, "context.values", "source is constant but no values given",
                            "a mapping such as {new_cases_per_100k: 20}")
    return ContextSpec(
        source=source,
        data_dir=spec.path(context.get("data_dir"), "context.data_dir", must_exist=True),
        values={k: float(v) for k, v in values.items()},
    )


def _check_engine_name(source: str, where: str, name: Any) -> str:
    if not isinstance(name, str) or not (
        name in ("local", "rules") or (name.startswith("litellm:") and len(name) > len("litellm:"))
    ):
        raise ScenarioError(source, where, f"unknown engine {name!r}", ENGINE_NAMES)
    return name


def _engine(spec: _Spec, value: Any) -> EngineSpec:
    if isinstance(value, str):
        value = {"name": value}
    engine = spec.mapping(value, "engine")
    spec.known_keys(engine, "engine", ("name", "archetypes", "options", "cache"))
    name = _check_engine_name(spec.source, "engine.name", engine.get("name", "rules"))
    archetypes = spec.integer(engine, "archetypes", "engine.archetypes", low=1, high=100_000,
                              default=EngineSpec.archetypes)
    options = spec.mapping(engine.get("options") or {}, "engine.options")
    if any("key" in str(k).lower() for k in options):
        raise ScenarioError(spec.source, "engine.options",
                            "API keys do not belong in scenario files",
                            "set the provider's environment variable (e.g. OPENAI_API_KEY)")
    cache = engine.get("cache")
    return EngineSpec(
        name=name,
        archetypes=archetypes,
        options=dict(options),
        cache=Path(cache).expanduser() if cache else None,
    )


def _section(spec: _Spec, value: Any, where: str, kind: type) -> Any:
    section = spec.mapping(value or {}, where)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    spec.known_keys(section, where, tuple(fields))
    values = {}
    for key in section:
        default = fields[key].default
        if isinstance(default, int) and not isinstance(default, bool):
            values[key] = spec.integer(section, key, f"{where}.{key}", low=0, high=10_000)
        else:
            values[key] = spec.number(section, key, f"{where}.{key}", low=0.0, high=1.0 if
                                      key in ("habit", "peer_weight", "homophily") else 10.0)
    return kind(**values)


def _plain(value: Any) -> Any:
    """Turn dates, paths and dataclasses into JSON-friendly values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return _plain(dataclasses.asdict(value))
    return value


class _Spec:
    """Field checkers that raise :class:`ScenarioError` naming the file and the dotted field."""

    def __init__(self, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir

    def required(self, data: Mapping, key: str, where: str | None = None) -> Any:
        if key not in data or data[key] is None:
            raise ScenarioError(self.source, where or key, "missing required field")
        return data[key]

    def mapping(self, value: Any, where: str) -> Mapping:
        if not isinstance(value, Mapping):
            raise ScenarioError(self.source, where, f"expected a mapping, got {value!r}",
                                "key: value pairs")
        return value

    def known_keys(self, data: Mapping, where: str, allowed: tuple[str, ...]) -> None:
        unknown = [k for k in data if k not in allowed]
        if unknown:
            field_name = unknown[0] if where == "<top level>" else f"{where}.{unknown[0]}"
            raise ScenarioError(self.source, field_name, "unknown field", allowed)

    def string(self, data: Mapping, key: str, where: str | None = None) -> str:
        value = self.required(data, key, where)
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(self.source, where or key,
                                f"expected non-empty text, got {value!r}")
        return value

    def choice(self, value: Any, where: str, allowed: tuple) -> Any:
        if isinstance(value, bool) or value not in allowed:
            raise ScenarioError(self.source, where, f"{value!r} is not allowed", allowed)
        return value

    def number(self, data: Mapping, key: str, where: str, low: float | None = None,
               high: float | None = None) -> float:
        value = self.required(data, key, where)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(self.source, where, f"expected a number, got {value!r}")
        return self._bounded(float(value), where, low, high)

    def integer(self, data: Mapping, key: str, where: str, low: int, high: int,
                default: int | None = None) -> int:
        if data.get(key) is None and default is not None:
            return default
        value = self.required(data, key, where)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(self.source, where, f"expected a whole number, got {value!r}",
                                f"an integer from {low} to {high}")
        return int(self._bounded(value, where, low, high))

    def _bounded(self, value: float, where: str, low: float | None, high: float | None) -> float:
        if (low is not None and value < low) or (high is not None and value > high):
            allowed = None
            if low is not None:
                allowed = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise ScenarioError(self.source, where, f"{value:g} is out of range", allowed)
        return value

    def date(self, data: Mapping, key: str, where: str) -> dt.date:
        value = self.required(data, key, where)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(self.source, where, f"{value!r} is not a date",
                                "YYYY-MM-DD") from None

    def path(self, value: Any, where: str, must_exist: bool) -> Path | None:
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        if not path.is_absolute():
            path = (self.base_dir / path).resolve()
        if must_exist and not path.exists():
            raise ScenarioError(self.source, where, f"{value!r} does not exist (looked at {path})",
                                "an existing file or folder")
        return path
