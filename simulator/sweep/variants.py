"""Counterfactual variants: named transforms of a scenario's policy timeline, and sweep sets.

A :class:`Variant` turns the baseline :class:`~simulator.policy.PolicyTimeline` into the timeline
of a "what if" through its :mod:`~simulator.sweep.transforms`. A :class:`VariantSet` is what a
sweep runs: the variants (the baseline among them), the seeds, the grid axes, and a dose per
variant for the dose-response checks. Variants files are read by
:func:`simulator.sweep.variants_file.load_variants`.

Every variant's timeline is rebuilt by :meth:`PolicyTimeline.with_policy`, the baseline's
included, so the stringency index (and the weeks under restrictions it counts) follows the same
formula in every variant; differences between variants then come from the transforms alone.
Transforms of hand-written interventions edit ``scenario.policy.interventions`` and rebuild the
levels from them, so they are applied first; the other transforms then apply in the order given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import ScenarioError
from simulator.fields import repeated
from simulator.policy import PolicyTimeline
from simulator.scenario import Scenario
from simulator.scenario_sections import Intervention
from simulator.sweep.transforms import (
    ON_INTERVENTIONS,
    Invalid,
    Transform,
    describe,
    indicators_of,
)

BASELINE = "baseline"
MAX_SEEDS = 1_000
"""Most seeds a sweep runs (each seed is a run of every variant)."""
MAX_VARIANTS = 1_000
"""Most variants a sweep runs, counted before a grid is expanded: each is a whole run per seed
(a few seconds each on the rules engine, minutes on a language model), and a 1,000 x 1,000 grid
took 22 s to expand before its first run."""
MAX_DOSE = 1e6
"""Largest dose (in absolute value): doses are factors, shifts in ticks or levels, within
+-10,000 in any real sweep; the dose-response fits square them, so 1e308 overflowed."""


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
        on_items = [i for i, t in enumerate(self.transforms) if isinstance(t, ON_INTERVENTIONS)]
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
            if not isinstance(transform, ON_INTERVENTIONS):
                policy = self._step(i, "edit", policy, timeline)
        return timeline.with_policy(policy)

    def _step(self, index: int, method: str, *args: Any) -> Any:
        """Apply one transform, naming its field in the variants file if it does not fit."""
        try:
            return getattr(self.transforms[index], method)(*args)
        except Invalid as error:
            raise ScenarioError(self.source,
                                f"{self.where}.transforms[{index}].{error.field_name}",
                                error.problem, error.allowed) from None


def _levels(scenario: Scenario, items: list[Intervention], columns: pd.Index) -> pd.DataFrame:
    """Indicator levels per tick rebuilt from edited interventions (every original column kept)."""
    edited = scenario.replace(policy={**dict(scenario.policy), "interventions": tuple(items)})
    rebuilt = PolicyTimeline.from_scenario(edited).policy
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
        for variant in variants:
            if variant.dose is not None and not np.isfinite(variant.dose):
                raise ScenarioError(source, f"{variant.where}.dose",
                                    f"{variant.dose!r} is not a finite number", "a number")
        names = [v.name for v in variants]
        duplicates = repeated(names)
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
            seeds = _seed_count(int(seeds), source, "seeds")
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
            field = "seeds" if count is None else "seeds (--seeds)"
            return tuple(scenario.seed + i for i in range(_seed_count(seeds, self.source, field)))
        return seeds

    def indicators(self, timeline: PolicyTimeline, scenario: Scenario) -> tuple[str, ...]:
        """The indicators the variants change, in the timeline's catalogue order."""
        found = {name for variant in self.variants for transform in variant.transforms
                 for name in indicators_of(transform, timeline, scenario.policy.interventions)}
        return tuple(name for name in timeline.indicators if name in found)

    def to_records(self) -> list[dict]:
        """One JSON-friendly record per variant (name, dose, axes, transforms, baseline)."""
        return [{"name": v.name, "dose": v.dose, "axes": dict(v.axes),
                 "baseline": v.name == self.baseline,
                 "transforms": [describe(t) for t in v.transforms]} for v in self.variants]


def _seed_count(count: int, source: str, field: str) -> int:
    if not 1 <= count <= MAX_SEEDS:
        raise ScenarioError(source, field, f"{count} is out of range", f"from 1 to {MAX_SEEDS}")
    return count
