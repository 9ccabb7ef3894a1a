"""The variants file format, declared: explicit variants and grid axes, read into a VariantSet.

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
``intervention``), ``set`` (``indicator``, ``level``, ``start``, ``end``); see
:mod:`simulator.sweep.transforms`. An ``intervention`` is an index into the scenario's
interventions or an indicator name (all its interventions). A grid axis fills the main parameter
of its kind (factor, ticks or level) with each of its values.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, model_validator

from simulator.fields import (
    AnyText,
    Date,
    Flag,
    Section,
    Text,
    _fail,
    at_most,
    choice,
    nested,
    number,
    validated,
    whole,
)
from simulator.scenario import MAX_SEED
from simulator.sweep.transforms import (
    EDGES,
    KINDS,
    STRINGENCY,
    Remove,
    RemoveIntervention,
    Scale,
    SetLevel,
    Shift,
    ShiftIntervention,
    Transform,
)
from simulator.sweep.variants import MAX_DOSE, MAX_SEEDS, MAX_VARIANTS, Variant, VariantSet
from simulator.yaml_files import read_yaml

MAX_TICKS = 10_000
Dose = number(-MAX_DOSE, MAX_DOSE)
"""A variant's dose, and a grid axis value (which is the dose of its variants on a dose axis)."""
_MAIN = {"scale": "factor", "shift": "ticks", "set": "level"}
_FIELDS = {
    "scale": ("factor", "indicators"),
    "shift": ("ticks", "indicators", "intervention", "edge"),
    "remove": ("indicators", "intervention"),
    "set": ("indicator", "level", "start", "end"),
}


def _indicators(value: Any) -> tuple[str, ...] | None:
    """Indicator names of a transform; ``None`` (or ``stringency``) means the stringency set."""
    if value is None or value == STRINGENCY:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail("indicators", f"{value!r} is not a list of indicators",
                    f"{STRINGENCY}, an indicator name, or a list of names")
    return tuple(value)


def _intervention(value: Any) -> int | str | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
        raise _fail("intervention", f"{value!r} is not an index or an indicator name",
                    "an index into policy.interventions, or an indicator name")
    return value


def _kind(data: Any, kinds: tuple[str, ...]) -> str:
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise _fail("choice", f"{kind!r} is not allowed", kinds, at=("kind",))
    return kind


class TransformFile(Section):
    """One transform; the fields allowed depend on its ``kind``."""

    kind: choice(*KINDS)
    factor: number(0) | None = None
    ticks: whole(-MAX_TICKS, MAX_TICKS) | None = None
    indicators: Annotated[tuple[str, ...] | None, BeforeValidator(_indicators)] = None
    intervention: Annotated[int | str | None, BeforeValidator(_intervention)] = None
    edge: choice(*EDGES) | None = None
    indicator: Text | None = None
    level: number(0) | None = None
    start: Date | None = None
    end: Date | None = None

    @classmethod
    def allowed_fields(cls, data: Mapping) -> tuple[str, ...]:
        """``kind`` and the fields of that kind."""
        return ("kind", *_FIELDS[_kind(data, KINDS)])

    @model_validator(mode="after")
    def _complete(self) -> TransformFile:
        for name in {"scale": ("factor",), "shift": ("ticks",),
                     "set": ("indicator", "level")}.get(self.kind, ()):
            if getattr(self, name) is None:
                raise _fail("missing", "missing required field", at=(name,))
        given = self.model_fields_set
        if self.intervention is not None and "indicators" in given:
            raise _fail("both", "give indicators or intervention, not both",
                        at=("intervention",))
        if self.edge is not None and self.intervention is None:
            raise _fail("edge", "edge applies to an intervention only", "intervention",
                        at=("edge",))
        return self

    def to_transform(self) -> Transform:
        """The transform."""
        if self.kind == "scale":
            return Scale(self.factor, self.indicators)
        if self.kind == "shift":
            if self.intervention is None:
                return Shift(self.ticks, self.indicators)
            return ShiftIntervention(self.ticks, self.intervention, self.edge or "both")
        if self.kind == "remove":
            if self.intervention is not None:
                return RemoveIntervention(self.intervention)
            return Remove(self.indicators)
        return SetLevel(self.indicator, self.level, self.start, self.end)


class VariantFile(Section):
    """An explicit variant: a name, its transforms and, optionally, its policy dose."""

    name: Text
    dose: Dose | None = None
    transforms: list[TransformFile] = []
    description: AnyText = ""


class GridAxisFile(Section):
    """A grid axis: one transform kind whose main parameter takes each of ``values``."""

    axis: Text
    kind: choice(*_MAIN)
    values: Annotated[list[Dose], Field(min_length=1), at_most(MAX_VARIANTS)]
    dose: Flag = False
    factor: Any = None
    ticks: Any = None
    indicators: Any = None
    intervention: Any = None
    edge: Any = None
    indicator: Any = None
    level: Any = None
    start: Any = None
    end: Any = None

    @classmethod
    def allowed_fields(cls, data: Mapping) -> tuple[str, ...]:
        """The axis fields and those of its kind other than the main parameter."""
        kind = _kind(data, tuple(_MAIN))
        return ("axis", "values", "dose", "kind",
                *(f for f in _FIELDS[kind] if f != _MAIN[kind]))

    @model_validator(mode="after")
    def _distinct(self) -> GridAxisFile:
        if len(set(self.values)) != len(self.values):
            raise _fail("values", f"{self.values} repeats a value", "distinct values",
                        at=("values",))
        self.transforms()
        return self

    def transforms(self) -> list[Transform]:
        """The transform of each value."""
        template = {k: getattr(self, k) for k in self.model_fields_set
                    if k not in ("axis", "values", "dose")}
        found = []
        for index, value in enumerate(self.values):
            try:
                entry = TransformFile.model_validate({**template, _MAIN[self.kind]: value})
            except ValidationError as error:
                raise nested(error, ("values", index)) from None
            found.append(entry.to_transform())
        return found


_SEED = TypeAdapter(whole(0, MAX_SEED))
"""A seed of the list, declared as the scenario's ``seed``."""


def _seeds(value: Any) -> Any:
    whole_numbers = isinstance(value, int) and not isinstance(value, bool)
    listed = isinstance(value, list) and all(isinstance(s, int) and not isinstance(s, bool)
                                             for s in value)
    if value is not None and not (whole_numbers or listed):
        raise _fail("seeds", f"{value!r} is not a count or a list of seeds",
                    "a whole number, or a list of whole numbers")
    if listed:
        if len(value) > MAX_SEEDS:
            raise _fail("too_many", f"{len(value):,} seeds", f"at most {MAX_SEEDS:,}")
        for index, seed in enumerate(value):
            try:
                _SEED.validate_python(seed)
            except ValidationError as error:
                raise nested(error, (index,)) from None
    return value


class VariantsFile(Section):
    """A variants file (see the module)."""

    mapping_hint: ClassVar[str] = "seeds, baseline, variants, grid"
    description: AnyText = ""
    seeds: Annotated[int | list[int] | None, BeforeValidator(_seeds)] = None
    baseline: AnyText | None = None
    variants: Annotated[list[VariantFile], at_most(MAX_VARIANTS)] = []
    grid: list[GridAxisFile] | None = None

    @model_validator(mode="after")
    def _some(self) -> VariantsFile:
        if not {"variants", "grid"} & self.model_fields_set:
            raise _fail("none", "no variants", "variants, grid, or both")
        names = [axis.axis for axis in self.grid or ()]
        if len(set(names)) != len(names):
            raise _fail("axes", f"axis names {names} repeat", "distinct names", at=("grid",))
        doses = [axis.axis for axis in self.grid or () if axis.dose]
        if len(doses) > 1:
            raise _fail("dose", f"more than one dose axis ({doses})",
                        "dose: true on one axis at most", at=("grid",))
        count = len(self.variants) + (math.prod(len(a.values) for a in self.grid)
                                      if self.grid else 0)
        if count > MAX_VARIANTS:
            sizes = " x ".join(str(len(axis.values)) for axis in self.grid or ())
            raise _fail("too_many", f"{count:,} variants ({len(self.variants)} listed"
                        + (f", a grid of {sizes})" if sizes else ")"),
                        f"at most {MAX_VARIANTS:,}", at=("grid" if self.grid else "variants",))
        return self

    def to_variants(self, source: str) -> VariantSet:
        """The variant set: explicit variants, then the grid's cartesian product."""
        variants = [Variant(v.name, tuple(t.to_transform() for t in v.transforms), v.dose, {},
                            source, f"variants[{i}]") for i, v in enumerate(self.variants)]
        axes = self.grid or []
        names = [axis.axis for axis in axes]
        doses = [axis.axis for axis in axes if axis.dose]
        dose_axis = doses[0] if doses else (names[0] if len(names) == 1 else None)
        columns = [list(zip(axis.values, axis.transforms(), strict=True)) for axis in axes]
        for combination in itertools.product(*columns) if axes else ():
            values = {name: value for name, (value, _) in zip(names, combination, strict=True)}
            label = ",".join(f"{name}={value:g}" for name, value in values.items())
            variants.append(Variant(label, tuple(t for _, t in combination),
                                    values[dose_axis] if dose_axis else None, values, source,
                                    f"grid[{label}]"))
        return VariantSet.of(variants, self.seeds, self.baseline, names, dose_axis, source)


def load_variants(path: str | os.PathLike) -> VariantSet:
    """Read and validate a variants YAML file.

    Raises:
        ScenarioError: the file cannot be read, is not YAML, or a field is invalid.
    """
    data, source = read_yaml(path)
    return variants_from_dict(data, source)


def variants_from_dict(data: Any, source: str = "<dict>") -> VariantSet:
    """Validate a variants mapping (as read from YAML) and build a :class:`VariantSet`.

    Raises:
        ScenarioError: the first invalid field, named with the file and what is allowed.
    """
    return validated(VariantsFile, data, source).to_variants(source)
