"""Household income of US places: a latent lognormal model fitted to ANES and PUMS (US only).

Income bands follow the Pew Research Center convention relative to the US median: below 2/3 of
it is low, from twice it is high. No source of the shipped data gives household incomes of other
countries, so their populations record neither ``income`` nor ``income_band`` (a marginals file
may give income band shares).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import ndtr, ndtri

from simulator.population.targets import ANES_RACES, CATEGORIES, broadcast_codes, data_table
from simulator.sources.regions import NATION

LOW_INCOME_RATIO = 2 / 3
HIGH_INCOME_RATIO = 2.0
"""Income bands relative to the US median household income (the Pew Research Center convention)."""

RACE_IN_ANES = [ANES_RACES.index(r) for r in ("white", "black", "hispanic", "other", "other")]
"""ANES race category of each of ours: ANES counts Asian Americans within "other"."""


def income_band_shares(
    median: float | np.ndarray, national_median: float, log_income_sd: float
) -> np.ndarray:
    """Low, middle and high income band shares of households with lognormal income.

    Args:
        median: median household income of the place(s), USD.
        national_median: the US median that defines the bands (below 2/3 of it is low, from
            twice it is high).
        log_income_sd: standard deviation of log household income.

    Returns:
        Shares of shape ``median.shape + (3,)``.
    """
    log_median = np.log(np.asarray(median, dtype=float))
    low = ndtr((np.log(LOW_INCOME_RATIO * national_median) - log_median) / log_income_sd)
    high = 1 - ndtr((np.log(HIGH_INCOME_RATIO * national_median) - log_median) / log_income_sd)
    return np.stack([low, 1 - low - high, high], axis=-1)


@lru_cache(maxsize=1)
def income_model() -> dict[str, np.ndarray | float]:
    """The household income model as lookup arrays by category code (see SOURCES.md)."""
    terms = data_table("household_income_model.csv").set_index("term")["value"]

    def effects(attribute: str, labels: tuple[str, ...]) -> np.ndarray:
        return np.array([0.0] + [terms[f"{attribute}.{label}"] for label in labels[1:]])

    race = effects("race", ANES_RACES)[RACE_IN_ANES]
    employment = np.array([0.0, terms["employment.unemployed"], 0.0])
    spread = terms["log_income_sd"]
    return {
        "intercept": terms["intercept"],
        "age_band": effects("age_band", CATEGORIES["age_band"]),
        "race": race,
        "education": effects("education", CATEGORIES["education"]),
        "employment": employment,
        "residual_sd": terms["residual_sd"],
        "log_income_sd": spread,
        "band_edges": np.array(
            [-np.inf, np.log(LOW_INCOME_RATIO) / spread, np.log(HIGH_INCOME_RATIO) / spread, np.inf]
        ),
        "national_median": float(
            data_table("state_marginals.csv")
            .set_index("code")
            .loc[NATION, "median_household_income"]
        ),
    }


def income_mean(codes: dict[str, np.ndarray]) -> np.ndarray:
    """Latent log income (national SD units) implied by age band, race, education, employment."""
    model = income_model()
    return model["intercept"] + sum(
        model[name][codes[name]] for name in ("age_band", "race", "education", "employment")
    )


def income_band_probabilities() -> np.ndarray:
    """P(income band | age band, race, education, employment) at the US median, (4,5,4,3,3)."""
    model = income_model()
    mean = income_mean(broadcast_codes(("age_band", "race", "education", "employment")))
    below = ndtr((model["band_edges"][1:3] - mean[..., None]) / model["residual_sd"])
    return np.stack([below[..., 0], below[..., 1] - below[..., 0], 1 - below[..., 1]], axis=-1)


def draw_income(
    medians: np.ndarray, codes: dict[str, np.ndarray], place: np.ndarray,
    rng: np.random.Generator
) -> np.ndarray:
    """Household income: lognormal around the place's median, truncated to the income band.

    Args:
        medians: median household income of each place, USD.
        codes: category codes of the agents (age band, race, education, employment, income band).
        place: place index of each agent.
        rng: the random stream.
    """
    model = income_model()
    shift = np.log(medians / model["national_median"]) / model["log_income_sd"]
    mean = income_mean(codes) + shift[place]
    scale = model["residual_sd"]
    band = codes["income_band"]
    lower, upper = model["band_edges"][band], model["band_edges"][band + 1]
    low, high = ndtr((lower - mean) / scale), ndtr((upper - mean) / scale)
    uniform = np.clip(low + rng.random(len(band)) * (high - low), 1e-12, 1 - 1e-12)
    latent = np.clip(mean + scale * ndtri(uniform), lower, upper)
    return (model["national_median"] * np.exp(model["log_income_sd"] * latent)).astype(np.float32)
