"""A compact SEIR epidemic stepped day by day, whose transmission follows the agents' contacts.

Why not Starsim or Covasim: the twin needs one number per tick from the epidemic (the reported
cases its agents are told) and must run it inside every tick of every variant and fit it per
region in about a second. A deterministic SEIR over the population's shares (susceptible,
exposed, infectious, removed), stepped daily with the tick's transmission, does that in
microseconds and has five parameters a year of weekly cases can inform; an agent-based epidemic on
the twin's own network would make every variant stochastic in a second way and cost more than the
behaviour it serves.

One day::

    beta    = transmission * contacts ** elasticity * season
    infect  = beta * S * I          (new exposures)
    onset   = E / LATENT_DAYS        (become infectious: the day's infections, as reported)
    recover = I / INFECTIOUS_DAYS
    S -= infect;  E += infect - onset;  I += onset - recover;  R += recover

- ``contacts``: the tick's contact multiplier, 1 in the routine
  (:mod:`simulator.epidemic.contacts`); ``elasticity``, fitted, says how strongly the twin's
  contacts move transmission (1: in proportion). The behaviour probabilities an engine answers
  are not visits counted by phones, and how much of transmission a fall in shopping removes
  depends on what replaced it, so the data are let to weigh the contacts rather than a constant.
- ``season``: ``exp(-season * (temperature_f - 55) / 25)`` where the region has temperature
  normals, else 1 (the same scaling as the ``temperature`` feature of the rules engine).
- Vaccination: each tick, the increase in the share with a first dose times
  :data:`VACCINE_EFFECT` moves from susceptible to removed, in proportion to the susceptible share
  of those not yet vaccinated.
- Reported cases per 100,000 per day: ``reporting * onset * 100,000``, the tick's mean.

Fixed constants (not fitted): a latent period of 3 days and an infectious period of 5 days, so
that the generation interval is about 8 days, within the 4-8 day range of early SARS-CoV-2
estimates; a first dose removing 60% of susceptibility. Variants of the virus are not modelled:
the data have no variant shares, so a new variant's growth shows as the model's error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LATENT_DAYS = 3.0
INFECTIOUS_DAYS = 5.0
VACCINE_EFFECT = 0.6
"""Share of a vaccinated susceptible's susceptibility removed (first dose)."""
NEUTRAL_TEMPERATURE = 55.0
TEMPERATURE_SCALE = 25.0
PER_100K = 100_000.0


@dataclass(frozen=True)
class EpidemicParameters:
    """What is fitted per region (:mod:`simulator.epidemic.fitting`).

    Attributes:
        transmission: infections per infectious person per day at routine contacts and neutral
            season (``transmission * INFECTIOUS_DAYS`` is the basic reproduction number).
        reporting: share of infections reported as cases.
        seed: infectious share of the population on the first day.
        season: transmission falls by a factor ``exp(-season)`` per 25 F above 55 F.
        elasticity: transmission moves as the contact multiplier to this power.
    """

    transmission: float
    reporting: float
    seed: float
    season: float = 0.0
    elasticity: float = 1.0

    @property
    def reproduction_number(self) -> float:
        """The basic reproduction number at routine contacts and neutral season."""
        return self.transmission * INFECTIOUS_DAYS


@dataclass(frozen=True)
class EpidemicState:
    """The population's shares on one day, and the share vaccinated so far (%)."""

    susceptible: float
    exposed: float
    infectious: float
    removed: float
    vaccinated_pct: float = 0.0

    @classmethod
    def start(cls, parameters: EpidemicParameters) -> EpidemicState:
        """The first day: the seed infectious (and as many exposed), the rest susceptible."""
        seed = parameters.seed
        return cls(1.0 - 2.0 * seed, seed, seed, 0.0)


def season_factor(parameters: EpidemicParameters, temperature_f: float | None) -> float:
    """The transmission multiplier of the season (1 without a temperature)."""
    if temperature_f is None or math.isnan(temperature_f):
        return 1.0
    return math.exp(-parameters.season * (temperature_f - NEUTRAL_TEMPERATURE)
                    / TEMPERATURE_SCALE)


def advance(state: EpidemicState, parameters: EpidemicParameters, days: int, contacts: float,
            temperature_f: float | None = None, vaccinated_pct: float | None = None
            ) -> tuple[EpidemicState, float]:
    """One tick of ``days`` days.

    Args:
        state: the state at the tick's start.
        parameters: the region's parameters.
        days: days in the tick.
        contacts: the tick's contact multiplier (1 = routine).
        temperature_f: the tick's temperature normal (``None``: no season).
        vaccinated_pct: share with a first dose by the tick (``None``: no vaccination).

    Returns:
        ``(state, cases)``: the state at the tick's end and the tick's reported cases per
        100,000 per day.
    """
    s, e, i, r = state.susceptible, state.exposed, state.infectious, state.removed
    done = state.vaccinated_pct
    if vaccinated_pct is not None and vaccinated_pct > done:
        unvaccinated = max(1.0 - done / 100.0, 1e-9)
        moved = s * min(1.0, VACCINE_EFFECT * (vaccinated_pct - done) / 100.0 / unvaccinated)
        s, r, done = s - moved, r + moved, vaccinated_pct
    beta = (parameters.transmission * max(contacts, 1e-9) ** parameters.elasticity
            * season_factor(parameters, temperature_f))
    onsets = 0.0
    for _ in range(days):
        infect = min(beta * s * i, s)
        onset, recover = e / LATENT_DAYS, i / INFECTIOUS_DAYS
        s, e, i, r = s - infect, e + infect - onset, i + onset - recover, r + recover
        onsets += onset
    cases = parameters.reporting * onsets / days * PER_100K
    return EpidemicState(s, e, i, r, done), cases


