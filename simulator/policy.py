"""Policy timeline: the policy levels and exogenous context the population receives at every tick.

Policy comes from OxCGRT (the shipped weekly table or a raw OxCGRT file) or from hand-written
interventions; context (epidemic, vaccination, season, holidays) comes from the observed weekly
tables, from constants, or is absent. The timeline's context is exogenous: with
``context.epidemic: observed`` (the default) a counterfactual policy keeps the observed epidemic;
with ``simulated`` the twin replaces the cases tick by tick with those of an epidemic driven by
its agents' contacts (:mod:`simulator.epidemic.loop`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulator.errors import ScenarioError
from simulator.sources import load_observed, load_oxcgrt
from simulator.sources.context import CONTEXT_INPUTS
from simulator.sources.indicators import (
    DEFAULT_SHOWN,
    OXCGRT_INDICATORS,
    Indicator,
    stringency_index,
)

if TYPE_CHECKING:
    from simulator.scenario import Scenario
    from simulator.scenario_sections import PolicySpec

RESTRICTION_THRESHOLD = 40.0
"""Stringency index at or above which a day counts towards ``weeks_under_restrictions``."""
EPIDEMIC_CONTEXT = ("new_cases_per_100k", "case_growth", "new_deaths_per_100k",
                    "vaccinated_pct", "holiday", "weeks_under_restrictions")
"""Context values at zero in the routine before the epidemic (:meth:`PolicyTimeline.routine`)."""


@dataclass(frozen=True)
class Signals:
    """What the population is told at one tick.

    Attributes:
        tick: tick number, 0-based.
        date: first day of the tick.
        days: number of days the tick covers.
        policy: indicator name -> level (mean over the tick's days, may be fractional).
        stringency: OxCGRT stringency index (0-100) of the tick.
        context: context feature -> value (e.g. ``new_cases_per_100k``, ``temperature_f``).
    """

    tick: int
    date: dt.date
    days: int
    policy: Mapping[str, float]
    stringency: float
    context: Mapping[str, float]


def tick_dates(start: dt.date, end: dt.date, tick: str) -> pd.DatetimeIndex:
    """First days of the ticks covering ``start``..``end``.

    Daily ticks are every day. Weekly ticks are the Mondays whose whole week (Monday-Sunday)
    lies inside the period, so each tick matches one observed ISO week.
    """
    if tick == "day":
        return pd.date_range(start, end, freq="D")
    first = pd.Timestamp(start) + pd.Timedelta(days=(7 - start.weekday()) % 7)
    return pd.date_range(first, pd.Timestamp(end) - pd.Timedelta(days=6), freq="W-MON")


class PolicyTimeline:
    """Signals for every tick of a scenario.

    Args:
        dates: first day of each tick.
        days: days per tick.
        policy: frame of shape (n_ticks, n_indicators), indicator levels per tick.
        context: frame of shape (n_ticks, n_features), exogenous context per tick.
        indicators: the indicator catalogue (names -> :class:`Indicator`).
        shown: indicators put to the agents.
        stringency: observed stringency index per tick; computed from the indicators when None.
        missing: messages naming the observed inputs the region lacks (left out of the context).
    """

    def __init__(
        self,
        dates: pd.DatetimeIndex,
        days: int,
        policy: pd.DataFrame,
        context: pd.DataFrame,
        indicators: Mapping[str, Indicator],
        shown: tuple[str, ...] = (),
        stringency: np.ndarray | None = None,
        missing: tuple[str, ...] = (),
    ) -> None:
        self.dates = pd.DatetimeIndex(dates)
        self.days = days
        self.policy = policy.reset_index(drop=True).astype(float)
        self.indicators = dict(indicators)
        columns = tuple(name for name in self.policy.columns if name in self.indicators)
        self.shown = shown_indicators(shown, columns)
        if stringency is None:
            stringency = np.array([stringency_index(row) for row in self.policy.to_dict("records")])
        self.stringency = np.asarray(stringency, dtype=float)
        self.missing = tuple(missing)
        self.context = context.reset_index(drop=True).astype(float)
        self.context["weeks_under_restrictions"] = (
            np.cumsum(self.stringency >= RESTRICTION_THRESHOLD) * days / 7.0
        )

    def __len__(self) -> int:
        return len(self.dates)

    def __iter__(self) -> Iterator[Signals]:
        return (self.at(tick) for tick in range(len(self)))

    def at(self, tick: int) -> Signals:
        """The signals of one tick."""
        return Signals(
            tick=tick,
            date=self.dates[tick].date(),
            days=self.days,
            policy={k: float(v) for k, v in self.policy.iloc[tick].items()},
            stringency=float(self.stringency[tick]),
            context={k: float(v) for k, v in self.context.iloc[tick].items()},
        )

    def routine(self, start: dt.date) -> Signals:
        """The pre-policy situation, tick -1, dated one tick before the first.

        No policy, no epidemic (cases, vaccination, holidays at zero) and the first tick's
        season: the routine each agent starts from, and the reference situation that
        ``reference`` debiasing divides out.

        Args:
            start: the scenario's first day (the date of an empty timeline's routine).
        """
        first = self.at(0) if len(self) else None
        context = {k: (0.0 if k in EPIDEMIC_CONTEXT else v)
                   for k, v in (first.context if first else {}).items()}
        date = first.date - dt.timedelta(days=first.days) if first else start
        return Signals(tick=-1, date=date, days=first.days if first else 0,
                       policy={k: 0.0 for k in (first.policy if first else {})},
                       stringency=0.0, context=context)

    def with_policy(self, policy: pd.DataFrame) -> PolicyTimeline:
        """The same timeline under other indicator levels (the index is recomputed from them)."""
        context = self.context.drop(columns="weeks_under_restrictions")
        return PolicyTimeline(self.dates, self.days, policy, context, self.indicators, self.shown,
                              missing=self.missing)

    def to_frame(self) -> pd.DataFrame:
        """One row per tick: date, indicator levels, stringency index and context."""
        frame = pd.concat([self.policy, self.context], axis=1)
        frame.insert(0, "stringency_index", self.stringency)
        frame.insert(0, "date", self.dates)
        return frame

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> PolicyTimeline:
        """Build the timeline a scenario describes (reads shipped tables or the files it names)."""
        dates = tick_dates(scenario.start, scenario.end, scenario.tick)
        if len(dates) == 0:
            raise ScenarioError(scenario.source, "period", "contains no whole tick",
                                "a period of at least one whole Monday-Sunday week")
        days = 1 if scenario.tick == "day" else 7
        spec = scenario.policy
        stringency = None
        if spec.source == "interventions":
            policy = _interventions_frame(spec.interventions, dates, days)
        else:
            policy, stringency = _oxcgrt_frame(scenario, dates, days)
        context, missing = _context_frame(scenario, dates)
        return cls(dates, days, policy, context, spec.indicators, spec.shown, stringency, missing)


def shown_indicators(shown: Sequence[str], columns: Sequence[str]) -> tuple[str, ...]:
    """The indicators put to agents.

    The scenario's ``shown`` list, else the default ones (:data:`DEFAULT_SHOWN`) among the
    policy's columns, else every column.
    """
    return tuple(shown) or tuple(n for n in DEFAULT_SHOWN if n in columns) or tuple(columns)


def policy_columns(spec: PolicySpec) -> tuple[str, ...]:
    """The indicators a scenario's policy sets, known before any data is read.

    Those its interventions name, or the OxCGRT indicators it declares.
    """
    if spec.source == "interventions":
        return tuple(sorted({item.indicator for item in spec.interventions}))
    return tuple(name for name in OXCGRT_INDICATORS if name in spec.indicators)


def _interventions_frame(interventions, dates: pd.DatetimeIndex, days: int) -> pd.DataFrame:
    """Indicator levels per tick: the mean over each tick's days of the hand-written levels."""
    used = sorted({item.indicator for item in interventions})
    daily_index = pd.date_range(dates[0], dates[-1] + pd.Timedelta(days=days - 1), freq="D")
    daily = pd.DataFrame(0.0, index=daily_index, columns=used)
    for item in interventions:
        last = pd.Timestamp(item.end) if item.end else daily_index[-1]
        window = (daily_index >= pd.Timestamp(item.start)) & (daily_index <= last)
        daily.loc[window, item.indicator] = np.maximum(daily.loc[window, item.indicator],
                                                       item.level)
    return _per_tick(daily, dates, days)


def _per_tick(daily: pd.DataFrame, dates: pd.DatetimeIndex, days: int) -> pd.DataFrame:
    """Mean of a daily frame over each tick."""
    if days == 1:
        return daily.reindex(dates).reset_index(drop=True)
    labels = np.repeat(np.arange(len(dates)), days)
    offsets = np.arange(days).astype("timedelta64[D]")
    index = (dates.to_numpy()[:, None] + offsets[None, :]).ravel()
    values = daily.reindex(pd.DatetimeIndex(index)).to_numpy()
    frame = pd.DataFrame(values, columns=daily.columns).groupby(labels).mean()
    return frame.reset_index(drop=True)


def _oxcgrt_frame(scenario: Scenario, dates: pd.DatetimeIndex, days: int):
    """OxCGRT indicator levels and stringency index per tick for the scenario's region."""
    spec = scenario.policy
    region = spec.region or scenario.region
    indicators = [name for name in OXCGRT_INDICATORS if name in spec.indicators]
    if spec.file is not None:
        data = load_oxcgrt(spec.file)
        data = data[data["region"] == region]
        if data.empty:
            raise ScenarioError(scenario.source, "policy.file",
                                f"{spec.file} has no rows for region {region}",
                                "a file containing the region, or another policy.region")
        daily = data.set_index("date").sort_index()
        daily = daily[[c for c in indicators + ["stringency_index"] if c in daily.columns]]
        frame = _per_tick(daily.ffill(), dates, days)
        missing_dates = frame.isna().all(axis=1)
    else:
        if scenario.tick != "week":
            raise ScenarioError(scenario.source, "policy.file",
                                "daily ticks need a raw OxCGRT file (the shipped table is weekly)",
                                "a path to OxCGRT_latest.csv or an OxCGRT v1 file, or tick: week")
        weekly = load_observed(spec.data_dir, regions=[region]).policy
        weekly = weekly[weekly["region"] == region].set_index("week")
        if weekly.empty:
            where = "the shipped tables" if spec.data_dir is None else str(spec.data_dir)
            raise ScenarioError(scenario.source, "policy.source",
                                f"no OxCGRT data for {region} in {where}",
                                "a region with policy data (`socialtwin regions`), or upstream "
                                "OxCGRT files given with --data-dir, policy.data_dir or "
                                "policy.file")
        frame = weekly.reindex(dates)[[c for c in indicators + ["stringency_index"]
                                       if c in weekly.columns]].reset_index(drop=True)
        missing_dates = frame.isna().all(axis=1)
    if missing_dates.any():
        first = dates[int(np.argmax(missing_dates.to_numpy()))].date()
        raise ScenarioError(scenario.source, "period",
                            f"no OxCGRT data for {region} from {first}",
                            "a period covered by the policy data")
    stringency = frame.pop("stringency_index").to_numpy() if "stringency_index" in frame else None
    return frame.fillna(0.0), stringency


def _context_frame(scenario: Scenario, dates: pd.DatetimeIndex
                   ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Context features per tick (observed weekly values carried to daily ticks).

    Returns:
        The frame, and one message per observed input the region lacks over the whole period
        (left out of the context rather than told as 0).
    """
    spec = scenario.context
    if spec.source == "none":
        return pd.DataFrame(index=range(len(dates))), ()
    if spec.source == "constant":
        return pd.DataFrame({k: [v] * len(dates) for k, v in spec.values.items()}), ()
    observed = load_observed(spec.data_dir, regions=[scenario.region]).context
    weekly = observed[observed["region"] == scenario.region].set_index("week").sort_index()
    weekly = weekly.drop(columns=["region"])
    if weekly.empty:
        raise ScenarioError(scenario.source, "context.source",
                            f"no observed context for region {scenario.region}",
                            "none, constant, or a region in the observed tables")
    week_of_tick = dates - pd.to_timedelta(dates.day_of_week, unit="D")
    frame = weekly.reindex(week_of_tick).reset_index(drop=True)
    uncovered = frame.isna().all(axis=1).to_numpy()
    if uncovered.any():
        first = dates[int(np.argmax(uncovered))].date()
        raise ScenarioError(scenario.source, "period",
                            f"no observed context for {scenario.region} from {first}",
                            "a period covered by the context data, or context.source: none")
    absent = [column for column in frame if frame[column].isna().all()]
    absent += [column for column in CONTEXT_INPUTS if column not in frame]
    missing = tuple(f"{scenario.region} has no observed {CONTEXT_INPUTS.get(c, c)} ({c}) in "
                    f"the period: agents are not told it" for c in absent)
    frame = frame.drop(columns=[c for c in absent if c in frame]).ffill().fillna(0.0)
    for key, value in spec.values.items():
        frame[key] = value
    return frame, missing
