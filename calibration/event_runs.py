"""The twin's runs for the event protocol: each region's factual path and one branch per event.

For every region the twin runs the observed policy path once; at each event's week it forks
(:func:`simulator.branches.run_branches`) into the counterfactual that undoes the event (its
indicators held at their level of week -1 from week 0 to week +4) and runs that branch to week +4.
Both timelines are rebuilt the way a sweep rebuilds every variant's
(:meth:`~simulator.sweep.variants.Variant.apply`), so the stringency index, and the weeks under
restrictions the agents count, follow one formula in both and the runs differ only by the event.
This is the product's own counterfactual machinery (a variant of ``set`` transforms), put to the
test.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pandas as pd

from calibration.evaluate import simulated_features
from calibration.events import POST_WEEKS, PolicyEvent
from simulator.branches import Branch, run_branches
from simulator.policy import PolicyTimeline
from simulator.sweep.transforms import SetLevel
from simulator.sweep.variants import Variant


@dataclass
class EventRuns:
    """The simulated aggregates of the factual runs and of every event's branch.

    Attributes:
        factual: region-week rows with the ``sim_<behaviour>`` columns, every region.
        branches: event key -> the region's rows under the counterfactual, up to week +4.
        outside: keys of events the scenario's period does not cover from week 0 to week +4.
        totals: accounting (agents, ticks, LLM calls, cache hits, failed answers, wall time).
    """

    factual: pd.DataFrame
    branches: dict[str, pd.DataFrame]
    outside: list[str] = field(default_factory=list)
    totals: dict = field(default_factory=dict)


def undo(event: PolicyEvent) -> Variant:
    """The counterfactual of an event: its indicators held at week -1's level, weeks 0 to +4."""
    last = event.week + pd.Timedelta(weeks=POST_WEEKS[-1])
    return Variant(f"without {event.key}", tuple(
        SetLevel(name, level, event.week.date(), last.date())
        for name, level in event.held.items()))


def simulate_events(scenario, regions: Sequence[str], events: Sequence[PolicyEvent],
                    agents: int, seed: int, cache_path=None, progress: bool = True,
                    parameters=None) -> EventRuns:
    """Run every region's factual path and a branch for each of its events.

    Args:
        scenario: the case-study scenario (its region is replaced by each region in turn).
        regions: canonical region codes.
        events: the events to branch (those of other regions are ignored).
        agents: population size per region.
        seed: run seed (the same for every region and branch).
        cache_path: response cache for LLM engines.
        progress: show a progress bar over regions.
        parameters: fitted parameters applied to each region's scenario (its own values too).
    """
    from tqdm import tqdm

    from calibration.regional_parameters import regional_engine, regional_scenario
    from simulator.cognition import make_engine

    engine = make_engine(scenario.engine.name, scenario.engine.options,
                         scenario.policy.indicators, cache_path or scenario.engine.cache)
    by_region: dict[str, list[PolicyEvent]] = {}
    for event in events:
        by_region.setdefault(event.region, []).append(event)
    frames, branched, outside = [], {}, []
    totals = {"agents_per_region": agents, "branches": 0, "agent_ticks": 0, "failed_answers": 0,
              "missing_inputs": {}}
    before = copy.copy(engine.stats)
    started = time.perf_counter()
    try:
        for region in tqdm(regions, desc="simulating regions and events", disable=not progress,
                           delay=3):
            variant = regional_scenario(scenario, region, parameters, population_size=agents,
                                        seed=seed)
            base = PolicyTimeline.from_scenario(variant)
            plans = _branches(base, by_region.get(region, []), outside)
            with regional_engine(variant, scenario, engine, cache_path) as own:
                factual, runs = run_branches(_factual_twin(variant, own, base), plans,
                                             keep=partial(_kept, region=region))
            frames.append(factual[0])
            for key, (features, ticks, failed) in runs.items():
                branched[key] = features
                totals["agent_ticks"] += ticks
                totals["failed_answers"] += failed
            totals["agent_ticks"] += factual[1]
            totals["failed_answers"] += factual[2]
            totals["branches"] += len(runs)
            if base.missing:
                totals["missing_inputs"][region] = list(base.missing)
    finally:
        engine.close()
    stats = engine.stats.since(before)
    totals.update(llm_calls=stats.llm_calls, cache_hits=stats.cache_hits,
                  wall_s=round(time.perf_counter() - started, 1))
    totals["llm_calls_per_agent_tick"] = stats.llm_calls / max(totals["agent_ticks"], 1)
    factual = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return EventRuns(factual, branched, outside, totals)


def _factual_twin(scenario, engine, base: PolicyTimeline):
    """A region's twin on its observed path rebuilt from the levels, as every variant's is.

    With a simulated epidemic the twin carries one, fitted on the region's observed path, and
    each event's branch goes on with it under the undone policy.
    """
    from simulator.epidemic.setup import fit_scenario_epidemic
    from simulator.model import TwinModel

    model = TwinModel(scenario, engine=engine, timeline=base.with_policy(base.policy),
                      agent_views=False)
    if scenario.context.epidemic == "simulated":
        model.start_epidemic(fit_scenario_epidemic(scenario, engine).parameters)
    return model


def _branches(base: PolicyTimeline, events: Sequence[PolicyEvent], outside: list[str]
              ) -> Mapping[str, Branch]:
    """A branch per event whose weeks 0..+4 are ticks of the timeline (the others: ``outside``)."""
    position = {date: tick for tick, date in enumerate(base.dates)}
    plans = {}
    for event in events:
        start = position.get(event.week)
        stop = None if start is None else start + POST_WEEKS[-1] + 1
        if start is None or stop > len(base):
            outside.append(event.key)
            continue
        plans[event.key] = Branch(start, undo(event).apply(base), stop)
    return plans


def _kept(twin, region: str) -> tuple[pd.DataFrame, int, int]:
    """What the protocol keeps of a run: its aggregates, the agent-ticks it ran, its failures."""
    ticks = twin.tick - (twin.forked_at or 0)
    return (simulated_features(twin.trajectories(), region), len(twin.population) * ticks,
            twin.failed_answers)
