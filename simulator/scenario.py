"""Scenarios: what the simulator runs, typed, and reading one from a YAML file.

A scenario says who is simulated (region, population), when (period, tick), what they are asked
(behaviours), what they are told (policy signals and context), who answers (engine) and where
results go. The file format is declared in :mod:`simulator.scenario_file`: every field is checked
before any work, and every error names the file, the field, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.behaviours import Behaviour
from simulator.cognition.credentials import redacted
from simulator.fields import Section, number, plain, validated, whole
from simulator.sources.indicators import OXCGRT_INDICATORS, Indicator
from simulator.yaml_files import read_yaml


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


class NetworkSpec(Section):
    """Shape of the social network (see simulator/network.py)."""

    workplace_size: whole(0, 10_000) = 12
    community_degree: whole(0, 10_000) = 6
    homophily: number(0, 1) = 0.7


class DynamicsSpec(Section):
    """Individual dynamics around the archetype answers (see TwinModel.step).

    Attributes:
        habit: mean weight of last tick's behaviour in this tick's (inertia).
        peer_weight: mean weight of the neighbours' behaviour against the agent's own answer.
        heterogeneity: SD of each agent's fixed logit offset from its archetype's answer.
        noise: SD of the per-tick individual noise on the probability scale.
    """

    habit: number(0, 1) = 0.4
    peer_weight: number(0, 1) = 0.25
    heterogeneity: number(0, 10) = 0.35
    noise: number(0, 10) = 0.02


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
        """A copy answering with another engine (checked like the file's ``engine`` field)."""
        from simulator.scenario_file import EngineFile

        engine = validated(EngineFile, {**dataclasses.asdict(self.engine), "name": name,
                                        "cache": None}, self.source, prefix=("engine",))
        return self.replace(engine=dataclasses.replace(self.engine, name=engine.name))

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
    from simulator.scenario_file import ScenarioFile  # the format is declared on these types

    folder = Path(base_dir) if base_dir is not None else Path.cwd()
    return validated(ScenarioFile, data, source, {"base_dir": folder}).to_scenario(source, data)
