"""Transforms of a policy timeline: the building blocks of counterfactual variants.

``Scale`` multiplies indicator levels, ``Shift`` moves indicator series in time, ``Remove`` sets
indicators to 0 and ``SetLevel`` sets one to a level over a date range; ``ShiftIntervention`` and
``RemoveIntervention`` edit a scenario's hand-written interventions instead (a
:class:`~simulator.sweep.variants.Variant` applies those first and rebuilds the levels from
them). ``indicators`` may be omitted (or ``stringency``) for the indicators the OxCGRT stringency
index counts. A transform that does not fit the timeline raises :class:`Invalid`, naming its own
field; the variant turns it into an error naming the variants file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from simulator.policy import PolicyTimeline
from simulator.scenario_sections import Intervention
from simulator.sources.indicators import OXCGRT_INDICATORS

STRINGENCY = "stringency"
"""Indicator selector meaning every indicator the stringency index counts."""

EDGES = ("start", "end", "both")
KINDS = ("scale", "shift", "remove", "set")


class Invalid(Exception):
    """A transform does not fit the timeline or scenario (a variant names the file and field)."""

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
            raise Invalid("factor", f"{self.factor:g} is negative", "a number >= 0")
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
        indicator = timeline.indicators[name]
        if not indicator.accepts(self.level):
            raise Invalid("level", f"{self.level:g} is out of range for {name}",
                          indicator.allowed_levels)
        dates = timeline.dates
        inside = np.ones(len(dates), dtype=bool)
        if self.start is not None:
            inside &= dates >= pd.Timestamp(self.start)
        if self.end is not None:
            inside &= dates <= pd.Timestamp(self.end)
        if not inside.any():
            raise Invalid("start", f"no tick starts between {self.start} and {self.end}",
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
            raise Invalid("edge", f"{self.edge!r} is not allowed", EDGES)
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
                    raise Invalid("ticks", f"moving intervention {index} ({item.indicator}) by "
                                   f"{self.ticks} ticks makes it end before it starts",
                                   "a shift that keeps end after start")
                item = item.model_copy(update={"start": start, "end": end})
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
ON_INTERVENTIONS = (ShiftIntervention, RemoveIntervention)


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
            raise Invalid(field_name, "the scenario has no stringency indicators",
                           "name the indicators")
        return names
    unknown = [n for n in indicators if n not in timeline.indicators]
    if unknown:
        raise Invalid(field_name, f"unknown indicator {unknown[0]!r}",
                       [STRINGENCY, *timeline.indicators])
    for name in indicators:
        if name not in policy.columns:
            policy[name] = 0.0
    return list(indicators)


def _chosen(selector: int | str, items: list[Intervention]) -> set[int]:
    """Indices of the interventions a selector names."""
    if isinstance(selector, int):
        if not 0 <= selector < len(items):
            raise Invalid("intervention", f"index {selector} is out of range",
                           f"from 0 to {len(items) - 1}")
        return {selector}
    chosen = {i for i, item in enumerate(items) if item.indicator == selector}
    if not chosen:
        raise Invalid("intervention", f"no intervention on {selector!r}",
                       sorted({item.indicator for item in items}))
    return chosen


def indicators_of(transform: Transform, timeline: PolicyTimeline,
                  interventions: Sequence[Intervention] = ()) -> tuple[str, ...]:
    """The indicators a transform changes (those the stringency index counts, when unnamed).

    Args:
        transform: the transform.
        timeline: the baseline timeline.
        interventions: the scenario's hand-written interventions (for the transforms on them).
    """
    if isinstance(transform, ON_INTERVENTIONS):
        items = list(interventions)
        try:
            chosen = _chosen(transform.intervention, items)
        except Invalid:
            return ()
        return tuple(sorted({items[i].indicator for i in chosen}))
    if isinstance(transform, SetLevel):
        return (transform.indicator,)
    try:
        return tuple(_targets(transform.indicators, timeline.policy.copy(), timeline))
    except Invalid:
        return ()


def describe(transform: Transform) -> dict:
    """A JSON-friendly record of a transform."""
    record = {"kind": transform.kind}
    for key, value in dataclasses.asdict(transform).items():
        record[key] = value.isoformat() if isinstance(value, dt.date) else value
    return record

