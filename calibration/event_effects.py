"""Observed effects of policy events: a stacked difference-in-differences with clean controls.

For an event of region ``r`` in week 0 and a mobility category ``k``, the observed effect is

    effect = [mean y_r(+1..+4) - mean y_r(-2..-1)] - mean over controls c of the same change

where the controls are the *clean* regions of the event's stack: regions of the same kind (other
countries for a country or the US nation; other states of the same country for a state) whose
levels of the event's indicators did not change at all over weeks -3..+4 and whose stringency
index made no jump of :data:`~calibration.events.STRINGENCY_JUMP` points in that window, and that
have the category observed in every week read. With one treated region per stack and two periods,
this is the estimate of the stacked regression of Cengiz, Dube, Lindner and Zipperer (2019,
*QJE* 134(3)) with stack-specific region and week effects, which avoids the bias of two-way fixed
effects under staggered timing (Baker, Larcker and Wang 2022, *J. Financial Economics* 144(2));
Askitas, Tatsiramos and Verheyden (2021, *Scientific Reports* 11) ran such a multiple-event study
of NPIs on Google mobility over 175 countries. The event week itself is left out (it holds a part
of the change).

Its noise is measured by a placebo: the same estimator at random region-weeks with no change of
any event indicator and no stringency jump in weeks -3..+4, each borrowing the indicator set of a
random real event (so its controls are chosen as a real event's are). The placebo's spread per
category is the estimator's noise; an observed effect is *above the noise* when its magnitude
exceeds the 95th percentile of the placebo's magnitudes (a one-in-twenty false alarm rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.events import (
    POST_WEEKS,
    PRE_WEEKS,
    STRINGENCY_JUMP,
    TOLERANCE,
    WINDOW,
    PolicyEvent,
)
from simulator.sources.regions import region_table

MIN_CONTROLS = 3
"""Fewest clean control regions an event needs; events with fewer are set aside and counted."""
NOISE_QUANTILE = 0.95
"""Quantile of the placebo's absolute effects above which an observed effect counts as signal."""
PLACEBO_DRAWS = 2000
"""Most placebo dates drawn."""


@dataclass
class EventPanel:
    """The weekly observed tables as arrays: regions x weeks (x indicators or categories).

    Args:
        policy: weekly policy rows (``region``, ``week``, indicator levels, ``stringency_index``).
        mobility: weekly mobility rows (``region``, ``week``, the categories).
        indicators: the indicators whose changes disqualify a control.
        categories: the mobility categories.
    """

    regions: list[str]
    weeks: pd.DatetimeIndex
    categories: list[str]
    indicators: list[str]
    outcome: np.ndarray
    """Array of shape (n_regions, n_weeks, n_categories); NaN where unobserved."""
    changed: np.ndarray
    """Bool array of shape (n_regions, n_weeks, n_indicators): the level differs from the week
    before (or is unknown)."""
    jump: np.ndarray
    """Bool array of shape (n_regions, n_weeks): a stringency jump from the week before."""
    kind: np.ndarray
    """Array of shape (n_regions,): the pool a region belongs to (``nations`` or a country)."""

    @classmethod
    def build(cls, policy: pd.DataFrame, mobility: pd.DataFrame, indicators: Sequence[str],
              categories: Sequence[str]) -> EventPanel:
        """Arrays of the tables over every region with both policy and mobility rows."""
        regions = sorted(set(policy["region"]) & set(mobility["region"]))
        weeks = pd.date_range(min(policy["week"].min(), mobility["week"].min()),
                              max(policy["week"].max(), mobility["week"].max()), freq="7D")
        index = pd.MultiIndex.from_product([regions, weeks], names=["region", "week"])
        outcome = (mobility.set_index(["region", "week"])[list(categories)].reindex(index)
                   .to_numpy(float).reshape(len(regions), len(weeks), len(categories)))
        levels = policy.set_index(["region", "week"]).reindex(index)
        names = [n for n in indicators if n in levels.columns]
        values = levels[names].to_numpy(float).reshape(len(regions), len(weeks), len(names))
        changed = np.ones_like(values, dtype=bool)
        changed[:, 1:] = ~(np.abs(np.diff(values, axis=1)) <= TOLERANCE)
        index_values = levels["stringency_index"].to_numpy(float).reshape(len(regions), len(weeks))
        jump = np.zeros(index_values.shape, dtype=bool)
        jump[:, 1:] = np.abs(np.diff(index_values, axis=1)) >= STRINGENCY_JUMP
        return cls(regions, weeks, list(categories), names, outcome, changed, jump,
                   np.array([_pool(code) for code in regions], dtype=object))

    def row(self, region: str) -> int | None:
        """The row of a region, or None when the panel does not hold it."""
        return self._rows.get(region)

    def position(self, region: str, week: pd.Timestamp) -> tuple[int, int] | None:
        """Row and week index of a region-week, or None when outside the panel."""
        if region not in self._rows or week not in self._weeks:
            return None
        return self._rows[region], self._weeks[week]

    def __post_init__(self) -> None:
        self._rows = {code: i for i, code in enumerate(self.regions)}
        self._weeks = {week: t for t, week in enumerate(self.weeks)}

    def change(self, t: int) -> np.ndarray:
        """Every region's change, mean of weeks +1..+4 minus mean of weeks -2..-1 of week ``t``.

        Returns:
            Array of shape (n_regions, n_categories), NaN where a week read is unobserved or
            outside the panel.
        """
        pre = [t + k for k in PRE_WEEKS]
        post = [t + k for k in POST_WEEKS]
        if min(pre) < 0 or max(post) >= len(self.weeks):
            return np.full((len(self.regions), len(self.categories)), np.nan)
        return self.outcome[:, post].mean(axis=1) - self.outcome[:, pre].mean(axis=1)

    def clean(self, t: int, indicators: Sequence[str]) -> np.ndarray:
        """Regions with no change of ``indicators`` and no stringency jump in the window of ``t``.

        Returns:
            Bool array of shape (n_regions,).
        """
        first, last = t + WINDOW[0] + 1, t + WINDOW[1]
        if t + WINDOW[0] < 0 or last >= len(self.weeks):
            return np.zeros(len(self.regions), dtype=bool)
        columns = [self.indicators.index(n) for n in indicators if n in self.indicators]
        moved = self.changed[:, first:last + 1][:, :, columns].any(axis=(1, 2))
        return ~moved & ~self.jump[:, first:last + 1].any(axis=1)

    def observed_window(self, row: int, t: int) -> bool:
        """Whether the region has mobility rows from week -3 to week +4 of ``t``."""
        first, last = t + WINDOW[0], t + WINDOW[1]
        if first < 0 or last >= len(self.weeks):
            return False
        return bool(np.isfinite(self.outcome[row, first:last + 1]).any(axis=1).all())

    def effect(self, row: int, t: int, indicators: Sequence[str]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The difference-in-differences of region ``row`` at week ``t``.

        Returns:
            ``(effect, treated_change, controls)``: arrays of shape (n_categories,) with the
            estimate (NaN where the category is unobserved or has fewer than
            :data:`MIN_CONTROLS` controls), the region's own change, and the number of controls.
        """
        changes = self.change(t)
        pool = (self.kind == self.kind[row]) & self.clean(t, indicators)
        pool[row] = False
        usable = pool[:, None] & np.isfinite(changes)
        counts = usable.sum(axis=0)
        control_mean = np.where(usable, changes, 0.0).sum(axis=0) / np.maximum(counts, 1)
        effect = changes[row] - control_mean
        effect = np.where(counts >= MIN_CONTROLS, effect, np.nan)
        return effect, changes[row], counts


def _pool(code: str) -> str:
    """The control pool of a region: ``nations``, or the country of a sub-national region."""
    table = region_table()
    if code in table.index and table.loc[code, "country"] != code:
        return str(table.loc[code, "country"])
    if "_" in code:
        return code.split("_")[0]
    return "nations"


def observed_effects(panel: EventPanel, events: Sequence[PolicyEvent]
                     ) -> tuple[pd.DataFrame, dict]:
    """The observed effect of every event that the data can score.

    Returns:
        ``(effects, set_aside)``: one row per event and category (event, region, week,
        category, observed, treated_change, controls), and the counts of events set aside
        (outside the observed window, fewer than :data:`MIN_CONTROLS` clean controls).
    """
    rows, set_aside = [], {"outside_observed_window": 0, "too_few_clean_controls": 0}
    for event in events:
        where = panel.position(event.region, event.week)
        if where is None or not panel.observed_window(*where):
            set_aside["outside_observed_window"] += 1
            continue
        effect, own, controls = panel.effect(*where, event.indicators)
        if not np.isfinite(effect).any():
            set_aside["too_few_clean_controls"] += 1
            continue
        for k, category in enumerate(panel.categories):
            if np.isfinite(effect[k]):
                rows.append({"event": event.key, "region": event.region, "week": event.week,
                             "category": category, "observed": float(effect[k]),
                             "treated_change": float(own[k]), "controls": int(controls[k])})
    columns = ["event", "region", "week", "category", "observed", "treated_change", "controls"]
    return pd.DataFrame(rows, columns=columns), set_aside


def placebo_effects(panel: EventPanel, events: Sequence[PolicyEvent], regions: Sequence[str],
                    seed: int = 0, draws: int = PLACEBO_DRAWS) -> pd.DataFrame:
    """The estimator at random region-weeks of ``regions`` without any policy change.

    Each placebo date borrows the indicators of a random event (its controls are chosen as that
    event's are); its region must be free of changes of every event indicator and of stringency
    jumps over weeks -3..+4, and observed over them.

    Returns:
        One row per placebo date and category: region, week, category, placebo.
    """
    rng = np.random.default_rng(seed)
    every = list(panel.indicators)
    candidates = []
    for row in (panel.row(region) for region in regions):
        if row is None:
            continue
        for t in range(len(panel.weeks)):
            if panel.observed_window(row, t) and panel.clean(t, every)[row]:
                candidates.append((row, t))
    if not candidates or not events:
        return pd.DataFrame(columns=["region", "week", "category", "placebo"])
    chosen = rng.permutation(len(candidates))[:draws]
    borrowed = rng.integers(0, len(events), size=len(chosen))
    rows = []
    for pick, source in zip(chosen, borrowed, strict=True):
        row, t = candidates[pick]
        effect, _, _ = panel.effect(row, t, events[source].indicators)
        for k, category in enumerate(panel.categories):
            if np.isfinite(effect[k]):
                rows.append({"region": panel.regions[row], "week": panel.weeks[t],
                             "category": category, "placebo": float(effect[k])})
    return pd.DataFrame(rows, columns=["region", "week", "category", "placebo"])


def placebo_noise(placebo: pd.DataFrame) -> pd.DataFrame:
    """Per category: the placebo's standard deviation and the threshold of signal.

    Returns:
        Indexed by category: ``sd`` (standard deviation of the placebo estimates), ``threshold``
        (their :data:`NOISE_QUANTILE` quantile in absolute value) and ``n`` (placebo dates).
    """
    grouped = placebo.groupby("category")["placebo"]
    return pd.DataFrame({
        "sd": grouped.std(ddof=1),
        "threshold": grouped.apply(lambda v: float(np.quantile(np.abs(v), NOISE_QUANTILE))),
        "n": grouped.size(),
    })
