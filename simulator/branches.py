"""Counterfactual branches: runs that depart from a twin's path at a tick and differ from then on.

A counterfactual that changes the policy from tick ``t`` on is, under common random numbers, the
same run as the factual one up to ``t``: :func:`run_branches` runs the factual twin once and, at
each branch's departure tick, forks it (:meth:`simulator.model.TwinModel.fork`) to run only the
ticks the branch needs under its own timeline. The event protocol undoes each real policy change
this way; the result equals a whole run of the branch's timeline with the same seed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from simulator.model import TwinModel
from simulator.policy import PolicyTimeline

T = TypeVar("T")


@dataclass(frozen=True)
class Branch:
    """A counterfactual run that departs from the factual one.

    Attributes:
        start: the first tick whose signals differ (the fork is made before it is stepped).
        timeline: the branch's timeline (the factual one's ticks).
        stop: the branch runs until this many ticks have run (exclusive end).
    """

    start: int
    timeline: PolicyTimeline
    stop: int


def run_branches(model: TwinModel, branches: Mapping[Hashable, Branch],
                 keep: Callable[[TwinModel], T] = TwinModel.trajectories,
                 ) -> tuple[T, dict[Hashable, T]]:
    """Run a twin through its timeline, forking every branch at its departure tick.

    Args:
        model: a twin that has not stepped yet.
        branches: name -> branch; a branch's start lies within the twin's ticks.
        keep: what to keep of each run once it has stopped (by default its trajectories, which
            for a branch repeat the factual ticks before its start).

    Returns:
        ``(factual, {name: branch})``: ``keep`` of the factual twin and of each branch's fork.

    Raises:
        ValueError: a branch starts outside the ticks, or stops before it starts.
    """
    ticks = len(model.timeline)
    by_start: dict[int, list[Hashable]] = {}
    for name, branch in branches.items():
        if not 0 <= branch.start < ticks or branch.stop <= branch.start:
            raise ValueError(f"branch {name!r}: ticks {branch.start}..{branch.stop} do not fit "
                             f"the twin's {ticks} ticks")
        by_start.setdefault(branch.start, []).append(name)
    results: dict[Hashable, T] = {}
    while model.running:
        for name in by_start.get(model.tick, ()):
            branch = branches[name]
            fork = model.fork(branch.timeline)
            fork.run(until=min(branch.stop, ticks))
            results[name] = keep(fork)
        model.step()
    return keep(model), results
