"""Reading user files field by field, with errors that name the file and the field; and back.

Scenario files and variants files are read through :class:`FieldReader`: every check raises a
:class:`~simulator.errors.ScenarioError` of the form ``<file>: <field>: <problem> (allowed: ...)``.
:func:`plain` turns dates, paths, dataclasses and numpy scalars back into JSON-friendly data for
manifests. :func:`checked_region` reads a region field or option the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulator.errors import ScenarioError
from simulator.sources.regions import RegionError, resolve_region

TOP = "<top level>"


def read_yaml(path: str | os.PathLike) -> tuple[Any, str]:
    """Load a YAML file; returns ``(data, source)`` with the path as the source name.

    Raises:
        ScenarioError: the file is missing, unreadable or not YAML.
    """
    source = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ScenarioError(source, "<file>", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(source, "<file>", f"cannot read the file ({error})") from None
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as error:
        raise ScenarioError(source, "<file>", f"not valid YAML ({error})") from None


class FieldReader:
    """Typed reads of the fields of one file.

    Args:
        source: the file's name, used in every error.
        base_dir: folder that relative paths in the file are relative to.
    """

    def __init__(self, source: str, base_dir: Path | None = None) -> None:
        self.source = source
        self.base_dir = base_dir if base_dir is not None else Path.cwd()

    def fail(self, field: str, problem: str, allowed: Any = None) -> ScenarioError:
        """The error for a field (to raise)."""
        return ScenarioError(self.source, field, problem, allowed)

    def required(self, data: Mapping, key: str, field: str | None = None) -> Any:
        """``data[key]``, which must be present and not null."""
        if data.get(key) is None:
            raise self.fail(field or key, "missing required field")
        return data[key]

    def mapping(self, value: Any, field: str) -> Mapping:
        """A mapping."""
        if not isinstance(value, Mapping):
            raise self.fail(field, f"expected a mapping, got {value!r}", "key: value pairs")
        return value

    def sequence(self, value: Any, field: str) -> list:
        """A list."""
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {value!r}")
        return value

    def known(self, data: Mapping, where: str, allowed: tuple[str, ...]) -> None:
        """Refuse keys of ``data`` that are not ``allowed`` (a typo is never silently ignored)."""
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise self.fail(unknown[0] if where == TOP else f"{where}.{unknown[0]}",
                            "unknown field", allowed)

    def text(self, value: Any, field: str) -> str:
        """Non-empty text."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected non-empty text, got {value!r}")
        return value

    def choice(self, value: Any, field: str, allowed: tuple) -> Any:
        """One of ``allowed``."""
        if isinstance(value, bool) or value not in allowed:
            raise self.fail(field, f"{value!r} is not allowed", allowed)
        return value

    def number(self, value: Any, field: str, low: float | None = None,
               high: float | None = None) -> float:
        """A number, optionally within ``[low, high]``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"expected a number, got {value!r}")
        return self._bounded(float(value), field, low, high)

    def whole(self, value: Any, field: str, low: int | None = None,
              high: int | None = None) -> int:
        """A whole number, optionally within ``[low, high]``."""
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            allowed = f"an integer from {low} to {high}" if low is not None and high is not None \
                else "an integer"
            raise self.fail(field, f"expected a whole number, got {value!r}", allowed)
        return int(self._bounded(int(value), field, low, high))

    def _bounded(self, value: float, field: str, low: float | None, high: float | None) -> float:
        if (low is not None and value < low) or (high is not None and value > high):
            allowed = None
            if low is not None:
                allowed = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise self.fail(field, f"{value:g} is out of range", allowed)
        return value

    def date(self, value: Any, field: str) -> dt.date:
        """A date (YAML date or ``YYYY-MM-DD`` text)."""
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(field, f"{value!r} is not a date", "YYYY-MM-DD") from None

    def path(self, value: Any, field: str, must_exist: bool = True) -> Path | None:
        """A path, relative to the file's folder unless absolute (``None`` stays ``None``)."""
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        if not path.is_absolute():
            path = (self.base_dir / path).resolve()
        if must_exist and not path.exists():
            raise self.fail(field, f"{value!r} does not exist (looked at {path})",
                            "an existing file or folder")
        return path


def plain(value: Any) -> Any:
    """JSON-friendly data from mappings, sequences, dates, paths, dataclasses and numpy scalars."""
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


def checked_region(source: str, field: str, value: str) -> str:
    """The canonical code of the region a field or option names, or its :class:`ScenarioError`.

    Args:
        source: the scenario file, for the message.
        field: the field (``region``, ``policy.region``) or option (``--region``).
        value: a code, ISO alpha-2 code or name.
    """
    try:
        return resolve_region(value)
    except RegionError as error:
        raise ScenarioError(source, field, str(error).split(";")[0], REGION_HINT) from None
