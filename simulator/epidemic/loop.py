"""The epidemic inside the tick: the cases a twin's agents are told come from their own contacts.

A twin with an :class:`EpidemicLoop` (``context.epidemic: simulated``) replaces two context
values of every tick's signals, ``new_cases_per_100k`` and ``case_growth``, by the simulated
epidemic's. Tick ``t``'s epidemic runs on the contacts of tick ``t - 1``'s behaviour (the routine
for tick 0): the agents answer the cases of their tick, and those cases were made by what they did
a tick before, as reported cases trail infections by about a week. Everything else the agents are
told (policy, deaths, vaccination, season, holidays) stays as observed.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from simulator.epidemic.contacts import ContactShares
from simulator.epidemic.seir import (
    LATENT_DAYS,
    PER_100K,
    EpidemicParameters,
    EpidemicState,
    advance,
)
from simulator.policy import Signals
from simulator.sources.context import CASE_GROWTH_CLIP

SIMULATED_CONTEXT = ("new_cases_per_100k", "case_growth")


class EpidemicLoop:
    """A region's simulated epidemic, advanced one tick at a time by the twin.

    Args:
        parameters: the region's fitted parameters.
        shares: the behaviours' shares of routine contacts.
        routine: the population's mean behaviour in the routine, shape (B,).
        population: the region's residents (case growth is read from counts, as observed).
        days: days per tick.

    Attributes:
        records: one row per tick run: tick, simulated cases and their growth, the contact
            multiplier and the transmission multiplier it makes (``contacts ** elasticity``),
            and the state's susceptible share at the tick's end.
    """

    def __init__(self, parameters: EpidemicParameters, shares: ContactShares,
                 routine: np.ndarray, population: int, days: int) -> None:
        self.parameters, self.shares, self.days = parameters, shares, days
        self.routine = np.asarray(routine, dtype=float)
        self.population = population
        self.state = EpidemicState.start(parameters)
        self._behaviour = self.routine
        self._last_cases = parameters.reporting * parameters.seed / LATENT_DAYS * PER_100K
        self.records: list[dict] = []

    def signals(self, signals: Signals) -> Signals:
        """Advance the epidemic over the signals' tick and tell its cases instead of observed.

        Args:
            signals: the tick's observed signals (temperature and vaccination are read).
        """
        contacts = float(self.shares.multiplier(self._behaviour, self.routine))
        context = signals.context
        self.state, cases = advance(self.state, self.parameters, signals.days, contacts,
                                    context.get("temperature_f"), context.get("vaccinated_pct"))
        growth = self._growth(cases)
        self._last_cases = cases
        self.records.append({"tick": signals.tick, "simulated_cases_per_100k": cases,
                             "case_growth": growth, "contact_multiplier": contacts,
                             "transmission_multiplier": contacts ** self.parameters.elasticity,
                             "susceptible": self.state.susceptible})
        told = {**context, "new_cases_per_100k": cases}
        if "case_growth" in context:
            told["case_growth"] = growth
        return replace(signals, context=told)

    def observe(self, behaviour: np.ndarray) -> None:
        """The population's mean behaviour of the tick just run (the next tick's contacts)."""
        self._behaviour = np.asarray(behaviour, dtype=float).copy()

    def _growth(self, cases: float) -> float:
        """Log ratio of this tick's to last tick's case counts, +1 smoothed, as observed."""
        scale = self.population / PER_100K * 7.0
        growth = math.log((cases * scale + 1.0) / (self._last_cases * scale + 1.0))
        return float(np.clip(growth, -CASE_GROWTH_CLIP, CASE_GROWTH_CLIP))

    def fork(self) -> EpidemicLoop:
        """A loop that goes on from this one's state (for a forked twin)."""
        clone = copy.copy(self)
        clone.records = list(self.records)
        return clone

    def frame(self, dates: pd.DatetimeIndex) -> pd.DataFrame:
        """The records with each tick's date."""
        frame = pd.DataFrame(self.records)
        if not len(frame):
            return pd.DataFrame(columns=["tick", "date", "simulated_cases_per_100k",
                                         "case_growth", "contact_multiplier",
                                         "transmission_multiplier", "susceptible"])
        frame.insert(1, "date", dates[frame["tick"].to_numpy()])
        return frame
