"""Fitted parameter files: the values ``socialtwin fit`` estimated, read by a scenario.

A scenario names one with ``engine.parameters: FILE``; its values then replace the priors the
scenario declares (the behaviours' ``rules`` blocks, the engine's options, the ``dynamics``),
and the run's manifest and report record the file, its checksum and every value beside its
prior. A parameter is named by its place in the scenario:

* ``behaviours.<behaviour>.baseline``, ``behaviours.<behaviour>.<policy|context|traits>.<name>``
* ``engine.<option>`` (e.g. ``engine.fatigue_weeks``; ``engine.logit_scale`` of a language
  engine), ``engine.<option>.<key>`` for an option that is a mapping (e.g.
  ``engine.contrast_weights.age_band``)
* ``dynamics.<field>`` (e.g. ``dynamics.habit``)
* ``regions.<code>.<name>``: a region's own value of ``<name>`` (partial pooling), used by a
  scenario of that region in place of the pooled one

A file may set only what the scenario declares: a weight the scenario's behaviours do not list,
or a behaviour it does not have, is refused by name (a file fitted to another mechanism).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "socialtwin.FittedParameters/1"
RULE_BLOCKS = ("policy", "context", "traits")


class ParameterFileError(ValueError):
    """A parameter file that cannot be read or does not fit the scenario (one clear line)."""


@dataclass(frozen=True)
class FittedValue:
    """One parameter's estimate.

    Attributes:
        name: its place in the scenario (see the module docstring).
        value: the fitted value.
        prior: the scenario's value the fit started from and was pulled towards.
        sd: posterior standard deviation (Laplace approximation at the optimum), in the
            parameter's units; ``None`` if not computed.
        contraction: ``1 - posterior variance / prior variance`` in the fitted coordinate: near
            1 the data pin the value down, near 0 it stays where the prior put it.
        identified: whether ``contraction`` reaches the fit's threshold.
        restarts: the value reached from each further start (spread across restarts).
    """

    name: str
    value: float
    prior: float
    sd: float | None = None
    contraction: float | None = None
    identified: bool | None = None
    restarts: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        """Plain data for the file."""
        return {"name": self.name, "value": self.value, "prior": self.prior, "sd": self.sd,
                "contraction": self.contraction, "identified": self.identified,
                "restarts": list(self.restarts)}


@dataclass(frozen=True)
class FittedParameters:
    """A parameter file's content.

    Attributes:
        engine: the engine whose parameters these are (``rules``, ``local``,
            ``litellm:<model>``).
        values: every fitted parameter.
        fit: how they were fitted (scenario, regions, window, objective, optimiser, times).
    """

    engine: str
    values: tuple[FittedValue, ...]
    fit: dict = field(default_factory=dict)

    def by_name(self) -> dict[str, float]:
        """Parameter name -> fitted value."""
        return {v.name: v.value for v in self.values}

    def for_region(self, region: str) -> dict[str, float]:
        """Parameter name -> value for a scenario of ``region``.

        The pooled values, with the region's own (``regions.<code>.<name>``, from a fit with
        partial pooling) in place of the pooled ones; other regions' own values are left out,
        so a region the fit did not see runs with the pooled mechanism: the regions' common
        prior (the pool's centre) in place of any region's own.
        """
        prefix = f"regions.{region}."
        found = {v.name: v.value for v in self.values if not v.name.startswith("regions.")}
        found.update({v.name.split(".", 2)[2]: v.prior for v in self.values
                      if v.name.startswith("regions.")})
        found.update({v.name[len(prefix):]: v.value for v in self.values
                      if v.name.startswith(prefix)})
        return found

    @property
    def regional(self) -> bool:
        """Whether regions have values of their own (a fit with partial pooling)."""
        return any(v.name.startswith("regions.") for v in self.values)

    def to_dict(self) -> dict:
        """Plain data for the file."""
        return {"format": FORMAT, "engine": self.engine, "fit": self.fit,
                "parameters": [v.to_dict() for v in self.values]}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the file (:func:`simulator.run_folder.replace_file` writes it whole)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    def changes_for(self, scenario, label: str = "parameters") -> dict[str, Any]:
        """The scenario fields that carry these values: ``behaviours``, ``dynamics``, ``engine``.

        Args:
            scenario: the scenario whose priors they replace.
            label: how the engine mismatch names these parameters (a file names itself).

        Raises:
            ParameterFileError: the scenario's engine is not :attr:`engine`, or it does not
                declare a parameter.
        """
        if self.engine != scenario.engine.name:
            raise ParameterFileError(f"{label} of the {self.engine} engine, and the "
                                     f"scenario's engine is {scenario.engine.name}")
        changes = scenario_changes(self.for_region(scenario.region), scenario.behaviours,
                                   scenario.engine.options, scenario.dynamics)
        engine = {**dict(scenario.engine), "options": changes.pop("engine_options")}
        return {**changes, "engine": engine}

    def applied_to(self, scenario):
        """The scenario with these values in place of its priors (no file involved).

        Raises:
            ParameterFileError: as :meth:`changes_for`.
        """
        changes = self.changes_for(scenario)
        changes["engine"] = {**changes["engine"], "parameters": None}
        return scenario.replace(**changes)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FittedParameters:
        """Read a file written by :meth:`save`.

        Raises:
            ParameterFileError: not such a file, or a value that is not a finite number.
        """
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ParameterFileError(f"cannot read {path} as a parameter file: {error}") from None
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ParameterFileError(f"{path} is not a parameter file (expected format {FORMAT}, "
                                     "as `socialtwin fit` writes)")
        values = []
        for item in data.get("parameters") or []:
            value, prior = item.get("value"), item.get("prior")
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in (value, prior)):
                raise ParameterFileError(f"{path}: parameter {item.get('name')!r} has no finite "
                                         "value and prior")
            values.append(FittedValue(str(item["name"]), float(value), float(prior),
                                      item.get("sd"), item.get("contraction"),
                                      item.get("identified"), tuple(item.get("restarts") or ())))
        return cls(str(data.get("engine")), tuple(values), dict(data.get("fit") or {}))


def read_parameters(path: str | os.PathLike) -> FittedParameters:
    """:meth:`FittedParameters.load`, read once per version of the file.

    A scenario is validated again at every change (once per region in an evaluation); the file
    is read again only when its modification time or size changed.

    Raises:
        ParameterFileError: as :meth:`FittedParameters.load`.
    """
    try:
        stat = os.stat(path)
    except OSError as error:
        raise ParameterFileError(f"cannot read {path} as a parameter file: {error}") from None
    return _read(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read(path: str, modified: int, size: int) -> FittedParameters:
    return FittedParameters.load(path)


def checksum(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def scenario_changes(values: Mapping[str, float], behaviours: Sequence, options: Any,
                     dynamics: Any) -> dict[str, Any]:
    """The scenario fields that carry a set of parameter values.

    Args:
        values: parameter name -> value.
        behaviours: the scenario's behaviours.
        options: the engine's options (a section with the fields the file may set).
        dynamics: the scenario's ``dynamics`` section.

    Returns:
        ``{"behaviours": ..., "engine_options": {...}, "dynamics": {...}}`` with the values in
        place (sections left as they are when no value touches them).

    Raises:
        ParameterFileError: a name the scenario does not declare.
    """
    rules = {b.name: b.rules.model_dump() for b in behaviours}
    option_values, dynamic_values = options.model_dump(), dynamics.model_dump()
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "behaviours" and len(parts) >= 3 and parts[1] in rules:
            block = rules[parts[1]]
            if parts[2] == "baseline" and len(parts) == 3:
                block["baseline"] = value
                continue
            if len(parts) == 4 and parts[2] in RULE_BLOCKS and parts[3] in block[parts[2]]:
                block[parts[2]][parts[3]] = value
                continue
        elif parts[0] == "engine" and len(parts) == 2 and parts[1] in option_values:
            option_values[parts[1]] = value
            continue
        elif (parts[0] == "engine" and len(parts) == 3
              and isinstance(option_values.get(parts[1]), dict)
              and parts[2] in option_values[parts[1]]):
            option_values[parts[1]][parts[2]] = value
            continue
        elif parts[0] == "dynamics" and len(parts) == 2 and parts[1] in dynamic_values:
            dynamic_values[parts[1]] = value
            continue
        raise ParameterFileError(f"the parameter file sets {name}, which the scenario does not "
                                 "declare (a file fitted to another scenario's mechanism)")
    changed = tuple(b.model_copy(update={"rules": type(b.rules).model_validate(rules[b.name])})
                    for b in behaviours)
    return {"behaviours": changed, "engine_options": option_values, "dynamics": dynamic_values}


def parameters_table(fitted: FittedParameters) -> list[str]:
    """Markdown lines: every parameter's fitted value beside its prior, with its spread."""
    lines = ["| parameter | prior | fitted | sd | contraction | pinned down by the data |",
             "|---|---|---|---|---|---|"]
    for v in fitted.values:
        sd = "" if v.sd is None else f"{v.sd:.3g}"
        contraction = "" if v.contraction is None else f"{v.contraction:.2f}"
        pinned = "" if v.identified is None else ("yes" if v.identified else "no")
        lines.append(f"| {v.name} | {v.prior:.4g} | {v.value:.4g} | {sd} | {contraction} | "
                     f"{pinned} |")
    return lines
