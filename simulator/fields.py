"""Declared fields of user files: typed fields with bounds, and errors that name them.

Scenario and variants files are pydantic models built from the field types here (:func:`number`,
:func:`whole`, :func:`choice`, :data:`Text`, :data:`Date`, :class:`Section`), so a bound is
declared once and checks the file and the command-line flag that overrides it alike (a flag is
applied by :meth:`simulator.scenario.Scenario.replace`, which validates again). Numbers must be
finite, unknown fields are refused, and every error is a
:class:`~simulator.errors.ScenarioError` of the form ``<file>: <field>: <problem> (allowed: ...)``.
The files themselves are read by :mod:`simulator.yaml_files`. :func:`plain` turns dates, paths,
dataclasses and numpy scalars back into JSON-friendly data for manifests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.errors import ScenarioError
from simulator.sources.regions import RegionError, resolve_region
from simulator.yaml_files import field_path


def repeated(names: list[str]) -> list[str]:
    """The names that occur more than once, sorted (each once)."""
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _fail(kind: str, problem: str, allowed: Any = None, **context: Any) -> PydanticCustomError:
    """A field error carrying our wording (turned into a ScenarioError by :func:`validated`)."""
    if allowed is not None and not isinstance(allowed, str):
        allowed = ", ".join(str(a) for a in allowed)
    return PydanticCustomError(kind, problem, {"allowed": allowed, **context})


def _range(low: float | None, high: float | None) -> str | None:
    if low is not None and high is not None:
        return f"from {_shown(low)} to {_shown(high)}"
    if low is not None:
        return f"at least {_shown(low)}"
    return None if high is None else f"at most {_shown(high)}"


def _shown(value: Any) -> str:
    """A bound or value as written: whole numbers in full, others in their shortest form."""
    if isinstance(value, int | np.integer):
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _number(low: float | None, high: float | None, whole: bool, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        kind = "a whole number" if whole else "a number"
        bounds = _range(low, high)
        allowed = f"{'an integer' if whole else 'a number'} {bounds}" if bounds else None
        raise _fail("number", f"expected {kind}, got {value!r}", allowed)
    if not math.isfinite(value):
        kind = "an integer" if whole else "a finite number"
        raise _fail("number", f"{value!r} is not a finite number",
                    f"{kind} {_range(low, high) or ''}".strip())
    if whole:
        if value != int(value):
            bounds = _range(low, high)
            raise _fail("number", f"expected a whole number, got {value!r}",
                        f"an integer {bounds}" if bounds else "an integer")
        value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail("range", f"{_shown(value)} is out of range", _range(low, high))
    return value if whole else float(value)


def number(low: float | None = None, high: float | None = None) -> Any:
    """A finite number, optionally within ``[low, high]`` (a field type)."""
    return Annotated[float, BeforeValidator(partial(_number, low, high, False))]


def whole(low: int | None = None, high: int | None = None) -> Any:
    """A whole number, optionally within ``[low, high]`` (a field type)."""
    return Annotated[int, BeforeValidator(partial(_number, low, high, True))]


def _choice(allowed: tuple, value: Any) -> Any:
    if isinstance(value, bool) or value not in allowed:
        raise _fail("choice", f"{value!r} is not allowed", allowed)
    return value


def choice(*allowed: Any) -> Any:
    """One of ``allowed`` (a field type)."""
    kind = type(allowed[0])
    return Annotated[kind, BeforeValidator(partial(_choice, allowed))]


def _at_most(limit: int, value: Any) -> Any:
    if isinstance(value, list | Mapping) and len(value) > limit:
        raise _fail("too_many", f"{len(value):,} entries", f"at most {limit:,}")
    return value


def at_most(limit: int) -> BeforeValidator:
    """A list or mapping of at most ``limit`` entries, counted before any entry is checked."""
    return BeforeValidator(partial(_at_most, limit))


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("text", f"expected non-empty text, got {value!r}")
    return value


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail("date", f"{value!r} is not a date", "YYYY-MM-DD") from None


def _any_text(value: Any) -> str:
    if isinstance(value, Mapping | list):
        raise _fail("text", f"expected text, got a {type(value).__name__}")
    return "" if value is None else str(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail("flag", f"expected true or false, got {value!r}")
    return value


Text = Annotated[str, BeforeValidator(_text)]
"""Non-empty text."""
Date = Annotated[dt.date, BeforeValidator(_date)]
"""A date: a YAML date or ``YYYY-MM-DD`` text."""
AnyText = Annotated[str, BeforeValidator(_any_text)]
"""Text, or a number or date written as text."""
Flag = Annotated[bool, BeforeValidator(_flag)]
"""``true`` or ``false`` (not 0, 1 or "yes")."""


class Section(BaseModel):
    """A mapping of a user file: unknown fields refused, every number finite.

    A section is also the runtime object: it is immutable, and it is validated again whenever it
    is used to build another (a changed scenario is checked like the file).

    A subclass may narrow the fields allowed for a given mapping (see :meth:`allowed_fields`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              arbitrary_types_allowed=True, revalidate_instances="always")
    mapping_hint: ClassVar[str] = "key: value pairs"

    @classmethod
    def allowed_fields(cls, data: Mapping) -> tuple[str, ...]:
        """The fields a mapping may have (all declared fields unless a subclass says less)."""
        return tuple(field.alias or name for name, field in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise _fail("mapping", f"expected a mapping, got {data!r}", cls.mapping_hint)
        allowed = cls.allowed_fields(data)
        for key in data:
            if key not in allowed:
                raise _fail("unknown_field", "unknown field", allowed, at=(str(key),))
        return data


_PROBLEMS = {
    "missing": "missing required field",
    "list_type": "expected a list, got {input!r}",
    "dict_type": "expected a mapping, got {input!r}",
    "string_type": "expected text, got {input!r}",
    "finite_number": "{input!r} is not a finite number",
}


def scenario_error(source: str, error: ValidationError, prefix: tuple = ()) -> ScenarioError:
    """The first problem of a pydantic validation as a :class:`ScenarioError`."""
    first = error.errors(include_url=False)[0]
    loc = prefix + tuple(first["loc"])
    context = first.get("ctx") or {}
    loc += tuple(context.get("at") or ())
    template = _PROBLEMS.get(first["type"])
    problem = template.format(input=first.get("input")) if template else first["msg"]
    return ScenarioError(source, field_path(loc), problem, context.get("allowed"))


def nested(error: ValidationError, prefix: tuple = ()) -> PydanticCustomError:
    """The first problem of a validation inside a validator, placed at ``prefix`` + its field."""
    first = error.errors(include_url=False)[0]
    found = scenario_error("", error)
    at = prefix + tuple(first["loc"]) + tuple((first.get("ctx") or {}).get("at") or ())
    return _fail("nested", found.problem, found.allowed, at=at)


def validated(model: type[BaseModel], data: Any, source: str, context: Any = None,
              prefix: tuple = ()) -> Any:
    """``model`` validated from ``data``; the first problem raised as a :class:`ScenarioError`.

    Args:
        model: the declaration.
        data: what the file holds.
        source: the file, for the message.
        context: passed to the validators (e.g. the folder relative paths start from).
        prefix: the field of ``data`` in its file (for a section checked alone).
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        raise scenario_error(source, error, prefix) from None


def plain(value: Any) -> Any:
    """JSON-friendly data from mappings, sequences, dates, paths, dataclasses and sections."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    return value


REGION_HINT = ("a region code, ISO alpha-2 code or English name such as FRA, FR, France, US_CA "
               "or Texas; `socialtwin regions` lists them")


def _region(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("text", f"expected non-empty text, got {value!r}")
    try:
        return resolve_region(value)
    except RegionError as error:
        raise _fail("region", str(error).split(";")[0], REGION_HINT) from None


Region = Annotated[str, BeforeValidator(_region)]
"""A region: code, ISO alpha-2 code or name, read as its canonical code."""
