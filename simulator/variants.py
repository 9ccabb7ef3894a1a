"""Counterfactual variants: named transforms of a scenario's policy timeline, in Python or YAML.

A :class:`Variant` turns the baseline :class:`~simulator.policy.PolicyTimeline` into the timeline
of a "what if": scale the stringency or any indicator, shift an indicator's series or an
intervention, remove one, or set an indicator to a level. A :class:`VariantSet` is what a sweep
runs: explicit variants and/or the cartesian product of grid axes, the seeds, the baseline, and
a dose per variant for the dose-response checks.

Every variant's timeline is rebuilt by :meth:`PolicyTimeline.with_policy`, the baseline's
included, so the stringency index (and the weeks under restrictions it counts) follows the same
formula in every variant; differences between variants then come from the transforms alone.
Transforms of hand-written interventions (``ShiftIntervention``, ``RemoveIntervention``) edit
``scenario.policy.interventions`` and rebuild the levels from them, so they are applied first;
the other transforms then apply in the order given.

The variants file::

    seeds: 3                        # a count (from the scenario's seed on) or a list of seeds
    baseline: strength=1            # optional: the variant the calibrator is fitted on
    variants:                       # explicit variants ...
      - name: no_stay_at_home
        transforms: [{kind: remove, indicators: [c6_stay_at_home_requirements]}]
    grid:                           # ... and/or axes whose cartesian product makes variants
      - {axis: timing, kind: shift, values: [-2, 0, 2]}
      - {axis: strength, kind: scale, values: [0.5, 1, 1.5], dose: true}

Transform kinds: ``scale`` (``factor``, ``indicators``), ``shift`` (``ticks``, and
``indicators`` or ``intervention`` with ``edge``), ``remove`` (``indicators`` or
``intervention``), ``set`` (``indicator``, ``level``, ``start``, ``end``). ``indicators`` may be
omitted (or ``stringency``) for the indicators the OxCGRT stringency index counts; an
``intervention`` is an index into the scenario's interventions or an indicator name (all its
interventions). A grid axis fills the main parameter of its kind (factor, ticks or level).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from simulator.errors import ScenarioError
from simulator.fields import TOP, FieldReader, read_yaml
from simulator.policy import PolicyTimeline
from simulator.scenario import Intervention, Scenario
from simulator.sources.indicators import OXCGRT_INDICATORS

STRINGENCY = "stringency"
"""Indicator selector meaning every indicator the stringency index counts."""

EDGES = ("start", "end", "both")
KINDS = ("scale", "shift", "remove", "set")
BASELINE = "baseline"


class _Invalid(Exception):
    """A transform does not fit the timeline or scenario (turned into a ScenarioError)."""

    def __init__(self, field_name: str, problem: str, allowed: str | Sequence[str] | None = None):
        super().__init__(problem)
        self.field_name = field_name
        self.problem = problem
        self.allowed = allowed


@dataclass(frozen=True)
class Scale:
    """Multiply indicator levels by ``factor`` (clipped to [0, max_level]).

    Attributes:
        factor: the multiplier, at least 0.
        indicators: the indicators scaled; ``None`` scales those the stringency index counts.
    """

    kind: ClassVar[str] = "scale"

    factor: float
    indicators: tuple[str, ...] | None = None

    @property
    def is_identity(self) -> bool:
        """Whether the transform leaves every timeline as it is."""
        return self.factor == 1.0

    def edit(self, policy: pd.DataFrame, timeline: PolicyTimeline) -> pd.DataFrame:
        """The levels after the transform."""
        if self.factor < 0:
            raise _Invalid("factor", f"{self.factor:g} is negative", "a number >= 0")
        for name in _targets(self.indicators, policy, timeline):
            top = timeline.indicators[name].max_level
            policy[name] = np.clip(policy[name].to_numpy() * self.factor, 0.0, top)
        return policy


@dataclass(frozen=True)
class Shift:
    """Move indicator series ``ticks`` later (negative: earlier).

    A series moved later starts at level 0; one moved earlier holds its last level at the end.

    Attributes:
        ticks: ticks to move by.
        indicators: the indicators moved; ``None`` moves those the stringency index counts.
    """

    kind: ClassVar[str] = "shift"

    ticks: int
    indicators: tuple[str, ...] | None = None

    @property
    def is_identity(self) -> bool:
        """Whether the transform leaves every timeline as it is."""
        return self.ticks == 0

    def edit(self, policy: pd.DataFrame, timeline: PolicyTimeline) -> pd.DataFrame:
        """The levels after the transform."""
        k, n = int(self.ticks), len(policy)
        for name in _targets(self.indicators, policy, timeline):
            values = policy[name].to_numpy()
            if k > 0:
                moved = np.concatenate([np.zeros(min(k, n)), values[:max(n - k, 0)]])
            elif k < 0:
                moved = np.concatenate([values[min(-k, n):], np.full(min(-k, n), values[-1])])
            else:
                moved = values
            policy[name] = moved
        return policy


@dataclass(frozen=True)
class Remove:
    """Set indicators to level 0 at every tick.

    Attributes:
        indicators: the indicators removed; ``None`` removes those the stringency index counts.
    """

    kind: ClassVar[str] = "remove"
    is_identity: ClassVar[bool] = False

    indicators: tuple[str, ...] | None = None

    def edit(self, policy: pd.DataFrame, timeline: PolicyTimeline) -> pd.DataFrame:
        """The levels after the transform."""
        for name in _targets(self.indicators, policy, timeline):
            policy[name] = 0.0
        return policy


@dataclass(frozen=True)
class SetLevel:
    """Set an indicator to ``level`` at the ticks starting from ``start`` to ``end`` inclusive.

    Attributes:
        indicator: the indicator.
        level: the level, from 0 to the indicator's maximum.
        start: first day of the first tick set (``None``: from the first tick).
        end: last first-day of a tick set (``None``: to the last tick).
    """

    kind: ClassVar[str] = "set"
    is_identity: ClassVar[bool] = False

    indicator: str
    level: float
    start: dt.date | None = None
    end: dt.date | None = None

    def edit(self, policy: pd.DataFrame, timeline: PolicyTimeline) -> pd.DataFrame:
        """The levels after the transform."""
        (name,) = _targets((self.indicator,), policy, timeline, field_name="indicator")
        top = timeline.indicators[name].max_level
        if not 0 <= self.level <= top:
            raise _Invalid("level", f"{self.level:g} is out of range for {name}",
                           f"from 0 to {top}")
        dates = timeline.dates
        inside = np.ones(len(dates), dtype=bool)
        if self.start is not None:
            inside &= dates >= pd.Timestamp(self.start)
        if self.end is not None:
            inside &= dates <= pd.Timestamp(self.end)
        if not inside.any():
            raise _Invalid("start", f"no tick starts between {self.start} and {self.end}",
                           f"dates from {dates[0].date()} to {dates[-1].date()}")
        policy.loc[inside, name] = float(self.level)
        return policy


@dataclass(frozen=True)
class ShiftIntervention:
    """Move the start and/or end of hand-written interventions by ``ticks`` ticks.

    Attributes:
        ticks: ticks to move by (negative: earlier).
        intervention: index into the scenario's interventions, or an indicator name (all of
            its interventions).
        edge: ``start``, ``end`` or ``both`` (the whole intervention moves).
    """

    kind: ClassVar[str] = "shift"

    ticks: int
    intervention: int | str
    edge: str = "both"

    @property
    def is_identity(self) -> bool:
        """Whether the transform leaves every timeline as it is."""
        return self.ticks == 0

    def edit_interventions(self, items: list[Intervention], days: int) -> list[Intervention]:
        """The interventions after the transform."""
        if self.edge not in EDGES:
            raise _Invalid("edge", f"{self.edge!r} is not allowed", EDGES)
        delta = dt.timedelta(days=int(self.ticks) * days)
        chosen = _chosen(self.intervention, items)
        edited = []
        for index, item in enumerate(items):
            if index in chosen:
                start = item.start + delta if self.edge in ("start", "both") else item.start
                end = item.end
                if end is not None and self.edge in ("end", "both"):
                    end = end + delta
                if end is not None and end < start:
                    raise _Invalid("ticks", f"moving intervention {index} ({item.indicator}) by "
                                   f"{self.ticks} ticks makes it end before it starts",
                                   "a shift that keeps end after start")
                item = dataclasses.replace(item, start=start, end=end)
            edited.append(item)
        return edited


@dataclass(frozen=True)
class RemoveIntervention:
    """Drop hand-written interventions.

    Attributes:
        intervention: index into the scenario's interventions, or an indicator name.
    """

    kind: ClassVar[str] = "remove"
    is_identity: ClassVar[bool] = False

    intervention: int | str

    def edit_interventions(self, items: list[Intervention], days: int) -> list[Intervention]:
        """The interventions after the transform."""
        chosen = _chosen(self.intervention, items)
        return [item for index, item in enumerate(items) if index not in chosen]


Transform = Scale | Shift | Remove | SetLevel | ShiftIntervention | RemoveIntervention
_ON_INTERVENTIONS = (ShiftIntervention, RemoveIntervention)


@dataclass(frozen=True)
class Variant:
    """A counterfactual: named transforms of the baseline policy timeline.

    Attributes:
        name: the variant's name (unique in a sweep).
        transforms: applied in order (intervention transforms first, see the module).
        dose: the policy dose the variant stands for (e.g. the stringency factor), for the
            dose-response checks; ``None`` leaves the variant out of them.
        axes: grid axis -> value, for variants made by a grid.
        source: the variants file (for error messages).
        where: the variant's field in that file.
    """

    name: str
    transforms: tuple[Transform, ...] = ()
    dose: float | None = None
    axes: Mapping[str, float] = field(default_factory=dict)
    source: str = "<python>"
    where: str = "variant"

    @property
    def is_identity(self) -> bool:
        """Whether the variant leaves the timeline as it is (a baseline)."""
        return all(t.is_identity for t in self.transforms)

    def apply(self, timeline: PolicyTimeline, scenario: Scenario | None = None) -> PolicyTimeline:
        """The variant's timeline.

        Args:
            timeline: the baseline timeline (``PolicyTimeline.from_scenario(scenario)``).
            scenario: the scenario; needed by the transforms of hand-written interventions.

        Raises:
            ScenarioError: a transform names an unknown indicator or intervention, or a value
                out of range (the message names the variants file and the field).
        """
        on_items = [i for i, t in enumerate(self.transforms) if isinstance(t, _ON_INTERVENTIONS)]
        policy = timeline.policy.copy()
        if on_items:
            if scenario is None or scenario.policy.source != "interventions":
                raise ScenarioError(self.source, f"{self.where}.transforms[{on_items[0]}]",
                                    "the scenario has no hand-written interventions",
                                    "a scenario with policy.source: interventions")
            items = list(scenario.policy.interventions)
            for i in on_items:
                items = self._step(i, "edit_interventions", items, timeline.days)
            policy = _levels(scenario, items, policy.columns)
        for i, transform in enumerate(self.transforms):
            if not isinstance(transform, _ON_INTERVENTIONS):
                policy = self._step(i, "edit", policy, timeline)
        return timeline.with_policy(policy)

    def _step(self, index: int, method: str, *args: Any) -> Any:
        """Apply one transform, naming its field in the variants file if it does not fit."""
        try:
            return getattr(self.transforms[index], method)(*args)
        except _Invalid as error:
            raise ScenarioError(self.source,
                                f"{self.where}.transforms[{index}].{error.field_name}",
                                error.problem, error.allowed) from None


def _levels(scenario: Scenario, items: list[Intervention], columns: pd.Index) -> pd.DataFrame:
    """Indicator levels per tick rebuilt from edited interventions (every original column kept)."""
    spec = dataclasses.replace(scenario.policy, interventions=tuple(items))
    rebuilt = PolicyTimeline.from_scenario(dataclasses.replace(scenario, policy=spec)).policy
    return rebuilt.reindex(columns=columns.union(rebuilt.columns, sort=False), fill_value=0.0)


@dataclass(frozen=True)
class VariantSet:
    """The variants and seeds of a sweep.

    Build it with :meth:`of` or :func:`load_variants`.

    Attributes:
        variants: the variants, the baseline among them.
        baseline: name of the baseline variant (the calibrator is fitted on it).
        seeds: explicit seeds, a count of seeds from the scenario's seed on, or ``None`` (the
            scenario's seed only).
        axes: names of the grid axes, in order.
        dose_axis: the grid axis whose value is each variant's dose, if any.
        source: the variants file.
    """

    variants: tuple[Variant, ...]
    baseline: str
    seeds: tuple[int, ...] | int | None = None
    axes: tuple[str, ...] = ()
    dose_axis: str | None = None
    source: str = "<python>"

    @classmethod
    def of(cls, variants: Sequence[Variant], seeds: Sequence[int] | int | None = None,
           baseline: str | None = None, axes: Sequence[str] = (),
           dose_axis: str | None = None, source: str = "<python>") -> VariantSet:
        """A variant set, with a baseline found or added.

        The baseline is the variant named ``baseline`` if given, else the first variant that
        changes nothing; when there is none, an unchanged variant named ``baseline`` is added
        first.

        Raises:
            ScenarioError: duplicate names, an unknown baseline, or invalid seeds.
        """
        variants = tuple(variants)
        names = [v.name for v in variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ScenarioError(source, "variants", f"duplicate names {duplicates}",
                                "each variant name once")
        if baseline is None:
            baseline = next((v.name for v in variants if v.is_identity), None)
            if baseline is None:
                baseline = BASELINE if BASELINE not in names else "unchanged"
                variants = (Variant(baseline, source=source, where="baseline"), *variants)
        elif baseline not in names:
            raise ScenarioError(source, "baseline", f"{baseline!r} is not a variant", names)
        if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ScenarioError(source, "seeds", f"{seeds} is out of range", "at least 1")
            seeds = int(seeds)
        elif seeds is not None:
            seeds = tuple(int(s) for s in seeds)
            if not seeds or len(set(seeds)) != len(seeds):
                raise ScenarioError(source, "seeds", f"{list(seeds)} is not a list of "
                                    "distinct seeds", "a count, or a list of distinct integers")
        return cls(variants, baseline, seeds, tuple(axes), dose_axis, source)

    def __iter__(self) -> Iterator[Variant]:
        return iter(self.variants)

    def __len__(self) -> int:
        return len(self.variants)

    def __getitem__(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    def seeds_for(self, scenario: Scenario, count: int | None = None) -> tuple[int, ...]:
        """The seeds to run: ``count`` seeds from the scenario's seed on, else the set's."""
        seeds = count if count is not None else self.seeds
        if seeds is None:
            return (scenario.seed,)
        if isinstance(seeds, int):
            if seeds < 1:
                raise ScenarioError(self.source, "seeds", f"{seeds} is out of range",
                                    "at least 1")
            return tuple(scenario.seed + i for i in range(seeds))
        return seeds

    def to_records(self) -> list[dict]:
        """One JSON-friendly record per variant (name, dose, axes, transforms, baseline)."""
        return [{"name": v.name, "dose": v.dose, "axes": dict(v.axes),
                 "baseline": v.name == self.baseline,
                 "transforms": [_describe(t) for t in v.transforms]} for v in self.variants]


def load_variants(path: str | os.PathLike) -> VariantSet:
    """Read and validate a variants YAML file.

    Raises:
        ScenarioError: the file cannot be read, is not YAML, or a field is invalid.
    """
    data, source = read_yaml(path)
    return variants_from_dict(data, source)


def variants_from_dict(data: Any, source: str = "<dict>") -> VariantSet:
    """Validate a variants mapping (as read from YAML) and build a :class:`VariantSet`."""
    read = FieldReader(source)
    top = read.mapping(data, TOP)
    read.known(top, TOP, ("description", "seeds", "baseline", "variants", "grid"))
    if "variants" not in top and "grid" not in top:
        raise ScenarioError(source, "<top level>", "no variants", "variants, grid, or both")
    variants = [_variant(read, item, f"variants[{i}]")
                for i, item in enumerate(read.sequence(top.get("variants", []), "variants"))]
    axes: list[str] = []
    dose_axis = None
    if "grid" in top:
        grid, axes, dose_axis = _grid(read, top["grid"])
        variants += grid
    seeds = top.get("seeds")
    if seeds is not None and not (isinstance(seeds, int) and not isinstance(seeds, bool)) and \
            not (isinstance(seeds, list) and all(isinstance(s, int) for s in seeds)):
        raise ScenarioError(source, "seeds", f"{seeds!r} is not a count or a list of seeds",
                            "a whole number, or a list of whole numbers")
    baseline = top.get("baseline")
    return VariantSet.of(variants, seeds, None if baseline is None else str(baseline), axes,
                         dose_axis, source)


def _variant(read: FieldReader, item: Any, where: str) -> Variant:
    entry = read.mapping(item, where)
    read.known(entry, where, ("name", "dose", "transforms", "description"))
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise read.fail(f"{where}.name", f"expected a name, got {name!r}")
    dose = entry.get("dose")
    if dose is not None:
        dose = read.number(dose, f"{where}.dose")
    transforms = tuple(_transform(read, spec, f"{where}.transforms[{k}]")
                       for k, spec in enumerate(read.sequence(entry.get("transforms", []),
                                                              f"{where}.transforms")))
    return Variant(name, transforms, dose, {}, read.source, where)


_MAIN = {"scale": "factor", "shift": "ticks", "set": "level"}
_FIELDS = {
    "scale": ("factor", "indicators"),
    "shift": ("ticks", "indicators", "intervention", "edge"),
    "remove": ("indicators", "intervention"),
    "set": ("indicator", "level", "start", "end"),
}


def _transform(read: FieldReader, item: Any, where: str) -> Transform:
    entry = read.mapping(item, where)
    kind = entry.get("kind")
    if kind not in KINDS:
        raise read.fail(f"{where}.kind", f"{kind!r} is not allowed", KINDS)
    read.known(entry, where, ("kind", *_FIELDS[kind]))
    indicators = _indicators(read, entry.get("indicators"), f"{where}.indicators")
    intervention = entry.get("intervention")
    if intervention is not None and (isinstance(intervention, bool)
                                     or not isinstance(intervention, int | str)):
        raise read.fail(f"{where}.intervention",
                            f"{intervention!r} is not an index or an indicator name",
                            "an index into policy.interventions, or an indicator name")
    if intervention is not None and "indicators" in entry:
        raise read.fail(f"{where}.intervention",
                            "give indicators or intervention, not both")
    if kind == "scale":
        factor = f"{where}.factor"
        return Scale(read.number(read.required(entry, "factor", factor), factor), indicators)
    if kind == "shift":
        ticks = read.whole(read.required(entry, "ticks", f"{where}.ticks"), f"{where}.ticks")
        if intervention is None:
            if "edge" in entry:
                raise read.fail(f"{where}.edge",
                                    "edge applies to an intervention only", "intervention")
            return Shift(ticks, indicators)
        edge = entry.get("edge", "both")
        if edge not in EDGES:
            raise read.fail(f"{where}.edge", f"{edge!r} is not allowed", EDGES)
        return ShiftIntervention(ticks, intervention, edge)
    if kind == "remove":
        if intervention is not None:
            return RemoveIntervention(intervention)
        return Remove(indicators)
    indicator = read.required(entry, "indicator", f"{where}.indicator")
    if not isinstance(indicator, str):
        raise read.fail(f"{where}.indicator",
                            f"expected an indicator name, got {indicator!r}")
    return SetLevel(indicator, read.number(read.required(entry, "level", f"{where}.level"),
                                           f"{where}.level"),
                    _optional_date(read, entry.get("start"), f"{where}.start"),
                    _optional_date(read, entry.get("end"), f"{where}.end"))


def _grid(read: FieldReader, value: Any) -> tuple[list[Variant], list[str], str | None]:
    """The variants of the cartesian product of the grid axes, the axis names, the dose axis."""
    axes = []
    for i, item in enumerate(read.sequence(value, "grid")):
        where = f"grid[{i}]"
        entry = read.mapping(item, where)
        kind = entry.get("kind")
        if kind not in _MAIN:
            raise read.fail(f"{where}.kind", f"{kind!r} is not allowed",
                                tuple(_MAIN))
        read.known(entry, where, ("axis", "values", "dose", "kind",
                                  *(f for f in _FIELDS[kind] if f != _MAIN[kind])))
        name = entry.get("axis")
        if not isinstance(name, str) or not name.strip():
            raise read.fail(f"{where}.axis", f"expected a name, got {name!r}")
        values = read.sequence(read.required(entry, "values", f"{where}.values"), f"{where}.values")
        if not values:
            raise read.fail(f"{where}.values", "is empty", "a list of values")
        values = [read.number(v, f"{where}.values[{k}]") for k, v in enumerate(values)]
        if len(set(values)) != len(values):
            raise read.fail(f"{where}.values", f"{values} repeats a value",
                                "distinct values")
        template = {k: v for k, v in entry.items() if k not in ("axis", "values", "dose")}
        transforms = [_transform(read, {**template, _MAIN[kind]: v}, f"{where}.values[{k}]")
                      for k, v in enumerate(values)]
        axes.append((name, bool(entry.get("dose", False)), values, transforms))
    names = [a[0] for a in axes]
    if len(set(names)) != len(names):
        raise read.fail("grid", f"axis names {names} repeat", "distinct names")
    doses = [a[0] for a in axes if a[1]]
    if len(doses) > 1:
        raise read.fail("grid", f"more than one dose axis ({doses})",
                            "dose: true on one axis at most")
    dose_axis = doses[0] if doses else (names[0] if len(names) == 1 else None)
    variants = []
    for combination in itertools.product(*[list(zip(a[2], a[3], strict=True)) for a in axes]):
        values = {name: value for name, (value, _) in zip(names, combination, strict=True)}
        label = ",".join(f"{name}={_number(value)}" for name, value in values.items())
        variants.append(Variant(label, tuple(t for _, t in combination),
                                values[dose_axis] if dose_axis else None, values,
                                read.source, f"grid[{label}]"))
    return variants, names, dose_axis


def _targets(indicators: tuple[str, ...] | None, policy: pd.DataFrame, timeline: PolicyTimeline,
             field_name: str = "indicators") -> list[str]:
    """The indicator columns a transform acts on (missing columns of the catalogue added at 0)."""
    if indicators is None or tuple(indicators) == (STRINGENCY,):
        names = [n for n in policy.columns
                 if n in timeline.indicators and timeline.indicators[n].in_stringency]
        if not names:
            names = [n for n in policy.columns
                     if n in timeline.indicators and n not in OXCGRT_INDICATORS]
        if not names:
            raise _Invalid(field_name, "the scenario has no stringency indicators",
                           "name the indicators")
        return names
    unknown = [n for n in indicators if n not in timeline.indicators]
    if unknown:
        raise _Invalid(field_name, f"unknown indicator {unknown[0]!r}",
                       [STRINGENCY, *timeline.indicators])
    for name in indicators:
        if name not in policy.columns:
            policy[name] = 0.0
    return list(indicators)


def _chosen(selector: int | str, items: list[Intervention]) -> set[int]:
    """Indices of the interventions a selector names."""
    if isinstance(selector, int):
        if not 0 <= selector < len(items):
            raise _Invalid("intervention", f"index {selector} is out of range",
                           f"from 0 to {len(items) - 1}")
        return {selector}
    chosen = {i for i, item in enumerate(items) if item.indicator == selector}
    if not chosen:
        raise _Invalid("intervention", f"no intervention on {selector!r}",
                       sorted({item.indicator for item in items}))
    return chosen


def _describe(transform: Transform) -> dict:
    """A JSON-friendly record of a transform."""
    record = {"kind": transform.kind}
    for key, value in dataclasses.asdict(transform).items():
        record[key] = value.isoformat() if isinstance(value, dt.date) else value
    return record


def _number(value: float) -> str:
    return f"{value:g}"


def _optional_date(read: FieldReader, value: Any, field: str) -> dt.date | None:
    return None if value is None else read.date(value, field)


def _indicators(read: FieldReader, value: Any, field: str) -> tuple[str, ...] | None:
    """Indicator names of a transform; ``None`` (or ``stringency``) means the stringency set."""
    if value is None or value == STRINGENCY:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise read.fail(field, f"{value!r} is not a list of indicators",
                        f"{STRINGENCY}, an indicator name, or a list of names")
    return tuple(value)
