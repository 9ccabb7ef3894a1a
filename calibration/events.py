"""Policy events: the real changes of policy indicators that the event protocol scores.

An event is a week in which a region changed its containment policy: a change of an OxCGRT
containment indicator (C1-C8, and H6 when the scenario uses it) by at least one level that holds
for at least two weeks, tightening or loosening, or a week-on-week jump of the stringency index of
:data:`STRINGENCY_JUMP` points or more. Changes are read from the weekly tables (weekly means of
the daily levels), so a change made mid-week shows as a fractional level in its week:

- the *event week* (week 0) is the first week whose level differs from the week before, where
  the level of week -1 had held since week -2 (so the later weeks of one transition, or the
  return from a one-week change, are not changes of their own);
- the change *holds* when weeks +1 and +2 both lie at least one level away from the level of
  week -1, on the same side;
- a stringency jump names the indicators (the index's components: C1-C8 and H1) whose level
  moved between week -1 and week 0; a jump in which no level moved (a change of the targeted or
  general flags only) names none and is set aside.

A change opens an event only where the table holds weeks -3 to +4 around it (changes of the
table's first three or last four weeks are counted and set aside: they could never be scored,
and must not absorb the changes after them). Overlapping changes are one event: the first change
of a region opens an event, and every change of the same region from its week to week +4 (the
window over which the twin's counterfactual holds the policy) joins it. Such an event has several
indicators; its counterfactual undoes all of them together and its effect is attributed to the
bundle, not split between them (the table per indicator lists an event under every indicator it
changed, and counts those that changed alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.sources.indicators import OXCGRT_INDICATORS

CONTAINMENT = tuple(name for name in OXCGRT_INDICATORS if name.startswith("c"))
"""The OxCGRT containment and closure indicators, C1-C8."""
FACIAL_COVERINGS = "h6_facial_coverings"
STRINGENCY_COMPONENTS = tuple(name for name, ind in OXCGRT_INDICATORS.items() if ind.in_stringency)
STRINGENCY_JUMP = 15.0
"""Week-on-week change of the stringency index (points) that makes an event by itself."""
HOLD_WEEKS = 2
"""Weeks after the event week over which a change must stay at least one level away."""
PRE_WEEKS = (-2, -1)
"""Weeks whose mean is the level before an event."""
POST_WEEKS = (1, 2, 3, 4)
"""Weeks whose mean is the level after an event."""
WINDOW = (-3, 4)
"""First and last week, relative to the event week, that must be observed (and, in a control
region, free of changes)."""
TOLERANCE = 1e-6
"""Levels closer than this are equal (weekly means of whole levels are multiples of 1/7)."""


@dataclass(frozen=True)
class PolicyChange:
    """A change of one indicator in one region.

    Attributes:
        region: region code.
        week: the event week (Monday): the first week whose level differs from the week before.
        indicator: canonical indicator name.
        before: the level of the week before.
        after: the mean level of the weeks after the event week (those the effect is read on).
        source: ``level`` (a change of at least one level that holds) or ``stringency`` (part of
            a jump of the stringency index).
    """

    region: str
    week: pd.Timestamp
    indicator: str
    before: float
    after: float
    source: str = "level"

    @property
    def direction(self) -> str:
        """``tighten`` or ``loosen``."""
        return "tighten" if self.after > self.before else "loosen"


@dataclass(frozen=True)
class PolicyEvent:
    """One event: the changes a region made from its event week to week +4.

    Attributes:
        region: region code.
        week: the event week (Monday).
        changes: the changes that make it (one or more indicators).
        held: indicator -> level of week -1, at which the counterfactual holds it from week 0 to
            week +4.
        after: indicator -> its mean level over weeks +1..+4.
        stringency_change: the observed stringency index, mean of weeks +1..+4 minus mean of
            weeks -2..-1 (NaN where the index is not recorded).
    """

    region: str
    week: pd.Timestamp
    changes: tuple[PolicyChange, ...]
    held: dict[str, float]
    after: dict[str, float]
    stringency_change: float

    @property
    def key(self) -> str:
        """A short unique name: ``FRA 2020-03-16``."""
        return f"{self.region} {self.week.date()}"

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicators the event changed, in catalogue order."""
        return tuple(name for name in OXCGRT_INDICATORS if name in self.held)

    def directions(self) -> dict[str, str]:
        """Indicator -> ``tighten`` or ``loosen`` (the direction of its first change)."""
        found: dict[str, str] = {}
        for change in self.changes:
            found.setdefault(change.indicator, change.direction)
        return found

    @property
    def direction(self) -> str:
        """The event's overall direction: the sign of its stringency change (else of its levels)."""
        if np.isfinite(self.stringency_change) and abs(self.stringency_change) > TOLERANCE:
            return "tighten" if self.stringency_change > 0 else "loosen"
        moves = sum(1 if d == "tighten" else -1 for d in self.directions().values())
        return "tighten" if moves >= 0 else "loosen"


def event_indicators(uses_facial_coverings: bool) -> tuple[str, ...]:
    """The indicators whose changes make events: C1-C8, and H6 when the scenario uses it."""
    return CONTAINMENT + ((FACIAL_COVERINGS,) if uses_facial_coverings else ())


def scenario_event_indicators(scenario) -> tuple[str, ...]:
    """The indicators whose changes make a scenario's events: H6 only if its agents hear of it.

    They hear of it when it is shown, or when a behaviour's rules weigh it.
    """
    from simulator.policy import policy_columns, shown_indicators

    shown = shown_indicators(scenario.policy.shown, policy_columns(scenario.policy))
    return event_indicators(FACIAL_COVERINGS in shown or any(
        FACIAL_COVERINGS in b.rules.policy for b in scenario.behaviours))


def level_changes(levels: pd.Series, region: str, indicator: str) -> list[PolicyChange]:
    """The changes of one indicator's weekly levels that make events.

    Args:
        levels: weekly levels indexed by consecutive Mondays.
        region: the region (for the records).
        indicator: the indicator's name.
    """
    values = levels.to_numpy(dtype=float)
    weeks = levels.index
    changes = []
    for t in range(2, len(values) - HOLD_WEEKS):
        before = values[t - 1]
        settled = abs(before - values[t - 2]) <= TOLERANCE
        if not np.isfinite(before) or not settled or abs(values[t] - before) <= TOLERANCE:
            continue
        held = values[t + 1:t + 1 + HOLD_WEEKS] - before
        if np.all(held >= 1 - TOLERANCE) or np.all(held <= -1 + TOLERANCE):
            after = values[t + POST_WEEKS[0]:t + POST_WEEKS[-1] + 1]
            changes.append(PolicyChange(region, weeks[t], indicator, float(before),
                                        float(np.nanmean(after))))
    return changes


def stringency_changes(policy: pd.DataFrame, region: str) -> tuple[list[PolicyChange], int]:
    """The changes that make the week-on-week jumps of a region's stringency index.

    Args:
        policy: the region's weekly rows (indexed by consecutive Mondays) with the indicator
            levels and ``stringency_index``.
        region: the region.

    Returns:
        ``(changes, unexplained)``: the level changes of the jump weeks, and the number of jumps
        in which no level moved (a change of scope flags only).
    """
    index = policy["stringency_index"].to_numpy(dtype=float)
    components = [c for c in STRINGENCY_COMPONENTS if c in policy.columns]
    changes, unexplained = [], 0
    for t in np.flatnonzero(np.abs(np.diff(index)) >= STRINGENCY_JUMP) + 1:
        found = []
        for name in components:
            values = policy[name].to_numpy(dtype=float)
            if abs(values[t] - values[t - 1]) > TOLERANCE:
                after = _mean_at(values, t, POST_WEEKS)
                found.append(PolicyChange(region, policy.index[t], name, float(values[t - 1]),
                                          after if np.isfinite(after) else float(values[t]),
                                          "stringency"))
        changes.extend(found)
        unexplained += not found
    return changes, unexplained


def find_events(policy: pd.DataFrame, indicators: Sequence[str],
                regions: Iterable[str] | None = None) -> tuple[list[PolicyEvent], dict]:
    """Every policy event of the regions, from the weekly policy table.

    Args:
        policy: weekly policy rows (``region``, ``week``, indicator levels, ``stringency_index``).
        indicators: the indicators whose changes of a level make events (:func:`event_indicators`).
        regions: the regions to search (default: every region of the table).

    Returns:
        ``(events, set_aside)``: the events in region and week order, and counts of what was not
        made an event (stringency jumps in which no level moved; changes of indicators too close
        to the table's ends).
    """
    events: list[PolicyEvent] = []
    set_aside = {"stringency_jump_without_level_change": 0,
                 "too_close_to_the_ends_of_the_table": 0}
    chosen = set(regions) if regions is not None else None
    for region, rows in policy.groupby("region", sort=True):
        if chosen is not None and region not in chosen:
            continue
        rows = _weekly(rows)
        changes = [change for name in indicators if name in rows.columns
                   for change in level_changes(rows[name], region, name)]
        from_jumps, unexplained = stringency_changes(rows, region)
        set_aside["stringency_jump_without_level_change"] += unexplained
        first = rows.index[0] - pd.Timedelta(weeks=WINDOW[0])
        last = rows.index[-1] - pd.Timedelta(weeks=WINDOW[1])
        inside = [c for c in changes + from_jumps if first <= c.week <= last]
        set_aside["too_close_to_the_ends_of_the_table"] += len(
            {(c.week, c.indicator) for c in changes + from_jumps} -
            {(c.week, c.indicator) for c in inside})
        events.extend(group_changes(inside, rows))
    return events, set_aside


def group_changes(changes: Sequence[PolicyChange], policy: pd.DataFrame) -> list[PolicyEvent]:
    """One region's changes grouped into events (see the module docstring).

    Args:
        changes: the region's changes.
        policy: the region's weekly rows, indexed by consecutive Mondays.
    """
    events = []
    pending = sorted(changes, key=lambda c: (c.week, c.indicator))
    last = POST_WEEKS[-1]
    while pending:
        start = pending[0].week
        members = [c for c in pending if c.week <= start + pd.Timedelta(weeks=last)]
        pending = pending[len(members):]
        t = policy.index.get_loc(start)
        held = {c.indicator: float(policy[c.indicator].iloc[t - 1]) for c in members}
        after = {name: _mean_at(policy[name].to_numpy(dtype=float), t, POST_WEEKS)
                 for name in held}
        index = policy["stringency_index"].to_numpy(dtype=float)
        change = _mean_at(index, t, POST_WEEKS) - _mean_at(index, t, PRE_WEEKS)
        events.append(PolicyEvent(members[0].region, start, tuple(members), held, after, change))
    return events


def _mean_at(values: np.ndarray, t: int, offsets: Sequence[int]) -> float:
    """Mean of ``values`` at ``t + offsets`` (NaN where any is outside or missing)."""
    positions = [t + k for k in offsets]
    if min(positions) < 0 or max(positions) >= len(values):
        return float("nan")
    return float(np.mean(values[positions]))


def _weekly(rows: pd.DataFrame) -> pd.DataFrame:
    """A region's rows indexed by every Monday from its first to its last week (gaps as NaN)."""
    rows = rows.set_index("week").sort_index()
    weeks = pd.date_range(rows.index.min(), rows.index.max(), freq="7D")
    return rows.reindex(weeks)


def events_frame(events: Sequence[PolicyEvent]) -> pd.DataFrame:
    """One row per event: event, region, week, indicators, directions, held levels, stringency."""
    return pd.DataFrame([{
        "event": e.key,
        "region": e.region,
        "week": e.week,
        "indicators": "+".join(e.indicators),
        "n_indicators": len(e.indicators),
        "direction": e.direction,
        "directions": "+".join(f"{k}:{v}" for k, v in e.directions().items()),
        "held": "+".join(f"{k}={v:g}" for k, v in e.held.items()),
        "stringency_change": e.stringency_change,
    } for e in events], columns=["event", "region", "week", "indicators", "n_indicators",
                                 "direction", "directions", "held", "stringency_change"])
