"""The policy events inside a fit's training weeks: their observed effects and the twin's.

The second part of a fit's objective (:mod:`calibration.fit_objective`). The events are those of
the event protocol (:func:`calibration.events.find_events`, the scenario's event indicators) in the
fit's regions, and their observed effects its difference-in-differences
(:mod:`calibration.event_effects`) on a panel of the fit's regions and training weeks only: the
controls are other regions of the fit, and an event whose weeks -3..+4 are not all training weeks
is left out, so no test week and no region outside the fit is read.

The twin's effect of an event is the protocol's, on the mean field: the region's observed path
(the one the weeks part simulates) forks at the event week
(:meth:`calibration.mean_field.RegionCells.forked_changes`) into the path with the event undone
(:func:`calibration.event_runs.undo`: its indicators held at week -1's level to week +4). The
undone path is the observed one moved by the undo's change alone
(:meth:`~calibration.mean_field.RegionCells.shifted`: the undone timeline, rebuilt as a sweep's
variant is, minus the same timeline rebuilt without the change), so the stringency index keeps the
observed series' values wherever the event leaves it alone, and the fit simulates each region's
path once for both parts. Both paths' aggregates are mapped to metric units by
the calibrator fitted on every training row, with the region's own offset and scale left out
(the calibrator's mean region effects, as for a region the protocol holds out), and the effect is
the mean over weeks +1..+4 of the factual minus the undone prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.calibrator import BehaviourCalibrator
from calibration.event_effects import EventPanel, observed_effects
from calibration.event_runs import undo
from calibration.events import (
    POST_WEEKS,
    STRINGENCY_COMPONENTS,
    find_events,
    scenario_event_indicators,
)
from calibration.mean_field import MeanFieldTwin, Mechanism, RegionCells
from calibration.protocol import TRAIN_WINDOW
from simulator.sources import MOBILITY_CATEGORIES, ObservedData

LAST = POST_WEEKS[-1]


@dataclass
class TrainingEvents:
    """The scored events of a fit's regions and what the mean field needs to fork for them.

    Attributes:
        keys: the events' keys (``FRA 2020-03-16``).
        region: each event's index into the twin's regions.
        start: each event's week as a tick of its region's timeline.
        branches: each event's region on the path with the event undone.
        observed: the observed effects, shape (events, categories); NaN where not scored.
        counts: events found, and set aside by reason.
    """

    keys: list[str]
    region: np.ndarray
    start: np.ndarray
    branches: list[RegionCells]
    observed: np.ndarray
    counts: dict

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(cls, scenario, observed: ObservedData, twin: MeanFieldTwin) -> TrainingEvents:
        """The training events of the twin's regions.

        Args:
            scenario: the fit's scenario (the regions' timelines are rebuilt from it).
            observed: the observed tables.
            twin: the fit's mean-field twin.
        """
        from simulator.policy import PolicyTimeline

        codes = [cells.region for cells in twin.regions]
        indicators = scenario_event_indicators(scenario)
        policy, mobility = (_training(frame, codes) for frame in (observed.policy,
                                                                   observed.mobility))
        events, counts = find_events(policy, indicators, codes)
        panel = EventPanel.build(policy, mobility, sorted({*indicators, *STRINGENCY_COMPONENTS}),
                                 MOBILITY_CATEGORIES)
        effects, set_aside = observed_effects(panel, events)
        counts = {"found": len(events), **counts, **set_aside, "outside_scenario_period": 0}
        wide = effects.pivot(index="event", columns="category", values="observed")
        keys, region, start, branches, paths = [], [], [], [], {}
        for event in (e for e in events if e.key in wide.index):
            r = codes.index(event.region)
            tick = twin.regions[r].dates.get_indexer([event.week])[0]
            if tick < 0 or tick + LAST + 1 > len(twin.regions[r].dates):
                counts["outside_scenario_period"] += 1
                continue
            keys.append(event.key)
            region.append(r)
            start.append(tick)
            if r not in paths:
                timeline = PolicyTimeline.from_scenario(scenario.replace(region=event.region))
                paths[r] = (timeline, timeline.with_policy(timeline.policy),
                            timeline.routine(scenario.start))
            timeline, reference, routine = paths[r]
            branches.append(twin.regions[r].shifted(undo(event).apply(timeline), reference,
                                                    routine))
        table = wide.reindex(index=keys, columns=list(MOBILITY_CATEGORIES)).to_numpy(float)
        counts["scored"] = len(keys)
        return cls(keys, np.array(region, dtype=int), np.array(start, dtype=int), branches,
                   table.reshape(len(keys), len(MOBILITY_CATEGORIES)), counts)

    def simulate(self, twin: MeanFieldTwin, mechanism: Mechanism | Sequence[Mechanism],
                 ticks: int) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Every region's first ``ticks`` ticks, and both paths of every event.

        Each region's path is simulated once: its events' branches fork from it.

        Args:
            twin: the fit's mean-field twin.
            mechanism: the parameter values (one, or one per region).
            ticks: the ticks of the factual paths returned (the training weeks').

        Returns:
            ``(factual, paths)``: shape (regions, ticks, behaviours); per event, its region's
            path to week +4 (ticks ``0..start + 4``) and its undone weeks ``0..+4``.
        """
        factual, paths = [], [None] * len(self)
        for r, (cells, own) in enumerate(zip(twin.regions, twin.each(mechanism), strict=True)):
            events = np.flatnonzero(self.region == r)
            forks = [(self.branches[e], int(self.start[e]), int(self.start[e]) + LAST + 1)
                     for e in events]
            path, branches = cells.forked_changes(
                own, max([ticks, *(stop for _, _, stop in forks)]), forks)
            factual.append(path[:ticks])
            for e, branch in zip(events, branches, strict=True):
                paths[e] = (path[:self.start[e] + LAST + 1], branch)
        return np.stack(factual), paths

    def effects(self, model: BehaviourCalibrator,
                paths: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """The twin's calibrated effect of every event, shape (events, metrics).

        Args:
            model: the calibrator fitted on every training row.
            paths: per event, as :meth:`simulate` gives them.
        """
        if not len(self):
            return np.empty((0, len(MOBILITY_CATEGORIES)))
        rows, groups, post = [], [], []
        for e, (s, (path, undone)) in enumerate(zip(self.start, paths, strict=True)):
            first = max(0, s - model.lags)  # enough earlier weeks for every lag of week +1
            for side, frame in ((0, path[first:]), (1, np.vstack([path[first:s], undone]))):
                rows.append(frame)
                groups += [f"{e}|{side}"] * len(frame)
                post.append(np.arange(first, s + LAST + 1) > s)
        predicted = model.predict(np.vstack(rows), groups=np.array(groups, dtype=object))
        after = np.concatenate(post)
        parts = np.split(np.arange(len(predicted)), np.cumsum([len(r) for r in rows])[:-1])
        means = np.stack([predicted[rows_][after[rows_]].mean(axis=0) for rows_ in parts])
        return means[0::2] - means[1::2]


def _training(frame: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The rows of the fit's regions inside the training window."""
    weeks = pd.to_datetime(frame["week"])
    inside = ((weeks >= pd.Timestamp(TRAIN_WINDOW[0])) & (weeks <= pd.Timestamp(TRAIN_WINDOW[1]))
              & frame["region"].isin(codes))
    return frame[inside.to_numpy()].reset_index(drop=True)

