"""The US raw files of the shared data, and the helpers the US table builders share.

Paths are relative to the raw data directory; sources and licences: ``simulator/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, ndtr

from simulator.population.targets import (
    CATEGORIES,
    MAX_AGE,
    age_band_of,
)

DEMOGRAPHICS = "population/us_states_demographics_2018_jieyingwu_states_only.csv"
ACS = "population/acs2012_person_sample_openintro_acs12.csv"
ANES = "population/anes_partytherms_pid7_1978_2012_stevedata.csv"
MEDSL = "population/medsl_us_president_by_state_1976_2020.csv"
PUMS = "population/acs_pums_2006-2010_household_records_oregon_puma600_populationsim.csv"
BFI = "persona/bfi25_big5_items_n2800_psych.csv"
BFI_DICTIONARY = "persona/bfi25_dictionary_psych.csv"

ANES_EDUCATION = {1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 6: 3, 7: 3}
ANES_INCOME_BAND = {1: 0, 2: 0, 3: 1, 4: 2, 5: 2}
ANES_INCOME_PERCENTILE_BOUNDS = (0.165, 0.335, 0.675, 0.955)
SEED_YEARS = (2000, 2012)

EDUCATION_COUNTS = [
    "Less than a high school diploma 2014-18",
    "High school diploma only 2014-18",
    "Some college or associate's degree 2014-18",
    "Bachelor's degree or higher 2014-18",
]


def read_raw(raw_dir: Path, name: str, **kwargs: object) -> pd.DataFrame:
    """One raw file of the data directory."""
    return pd.read_csv(Path(raw_dir) / name, **kwargs)


def us_demographics(raw_dir: Path) -> pd.DataFrame:
    """The state demographics file indexed by postal abbreviation (``US`` for the nation)."""
    return read_raw(raw_dir, DEMOGRAPHICS).set_index("State")


def education_shares(demographics: pd.DataFrame) -> pd.DataFrame:
    """Education shares of adults 25+ per row, columns in category order."""
    counts = demographics[EDUCATION_COUNTS].to_numpy(float)
    return pd.DataFrame(
        counts / counts.sum(axis=1, keepdims=True),
        index=demographics.index,
        columns=list(CATEGORIES["education"]),
    )


def acs_adults(raw_dir: Path) -> pd.DataFrame:
    """ACS 2012 sample persons aged 18+ coded with the seed's labels (age capped at 90)."""
    acs = read_raw(raw_dir, ACS)
    acs = acs[acs["age"] >= 18]
    return pd.DataFrame(
        {
            "age": np.minimum(acs["age"].to_numpy(int), MAX_AGE),
            "age_band": np.asarray(CATEGORIES["age_band"])[age_band_of(acs["age"].to_numpy())],
            "sex": acs["gender"].to_numpy(),
            "race": acs["race"].to_numpy(),
            "college_degree": np.where(acs["edu"].isin(["college", "grad"]), "yes", "no"),
            "employment": acs["employment"].str.replace(" ", "_").to_numpy(),
            "disability": acs["disability"].to_numpy(),
        }
    )


def anes_respondents(
    raw_dir: Path, first_year: int, last_year: int, required: tuple[str, ...] = ()
) -> pd.DataFrame:
    """ANES respondents aged 18+ of the given years, with education and race present.

    ``age_band``, ``race`` (index into :data:`ANES_RACES`) and ``education`` are codes; the
    other columns are ANES's own.
    """
    anes = read_raw(raw_dir, ANES)
    anes = anes[anes["year"].between(first_year, last_year) & (anes["age"] >= 18)]
    anes = anes.dropna(subset=["educat", "race4", *required]).copy()
    anes["age_band"] = age_band_of(anes["age"].to_numpy())
    anes["race"] = anes["race4"].astype(int) - 1
    anes["education"] = anes["educat"].astype(int).map(ANES_EDUCATION)
    return anes


def conditional_shares(
    frame: pd.DataFrame, given: dict[str, tuple[str, ...]], outcome: tuple[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Add-one smoothed shares of an outcome within every cell of the given attributes.

    ``frame`` holds codes; the result holds labels, one row per (given..., outcome) cell.
    """
    name, labels = outcome
    names = [*given, name]
    counts = np.ones([len(levels) for levels in given.values()] + [len(labels)])
    np.add.at(counts, tuple(frame[column].to_numpy(int) for column in names), 1)
    index = pd.MultiIndex.from_product([*given.values(), labels], names=names)
    shares = counts / counts.sum(axis=-1, keepdims=True)
    return pd.DataFrame({"share": shares.ravel()}, index=index).reset_index()


def treatment_dummies(
    frame: pd.DataFrame, attributes: dict[str, tuple[str, ...]]
) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded indicator columns (first category is the reference) and their names."""
    columns, names = [], []
    for attribute, labels in attributes.items():
        codes = frame[attribute].to_numpy()
        for code, label in enumerate(labels[1:], start=1):
            columns.append(codes == code)
            names.append(f"{attribute}.{label}")
    return np.column_stack(columns).astype(float), names


def fit_ordered_logit(
    design: np.ndarray, outcome: np.ndarray, levels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood ordered logit: P(y <= k) = logistic(cut_k - design @ beta).

    Returns:
        The coefficients and the ``levels - 1`` increasing cutpoints.
    """
    n_features = design.shape[1]
    cumulative = np.cumsum(np.bincount(outcome, minlength=levels))[:-1] / len(outcome)
    start_cuts = np.log(cumulative / (1 - cumulative))
    start = np.concatenate([np.zeros(n_features), [start_cuts[0]], np.log(np.diff(start_cuts))])

    def cutpoints(params: np.ndarray) -> np.ndarray:
        tail = params[n_features:]
        return tail[0] + np.concatenate([[0.0], np.cumsum(np.exp(tail[1:]))])

    def negative_log_likelihood(params: np.ndarray) -> float:
        cuts = np.concatenate([[-np.inf], cutpoints(params), [np.inf]])
        lean = design @ params[:n_features]
        upper = expit(cuts[outcome + 1] - lean)
        lower = expit(cuts[outcome] - lean)
        return -np.sum(np.log(np.maximum(upper - lower, 1e-300)))

    result = minimize(negative_log_likelihood, start, method="BFGS")
    return result.x[:n_features], cutpoints(result.x)


def fit_interval_probit(
    design: np.ndarray, outcome: np.ndarray, bounds: np.ndarray
) -> tuple[np.ndarray, float]:
    """Maximum-likelihood normal regression observed only as the interval between fixed bounds.

    Returns:
        The coefficients and the residual standard deviation.
    """
    edges = np.concatenate([[-np.inf], bounds, [np.inf]])

    def negative_log_likelihood(params: np.ndarray) -> float:
        lean = design @ params[:-1]
        scale = np.exp(params[-1])
        upper = ndtr((edges[outcome + 1] - lean) / scale)
        lower = ndtr((edges[outcome] - lean) / scale)
        return -np.sum(np.log(np.maximum(upper - lower, 1e-300)))

    start = np.zeros(design.shape[1] + 1)
    result = minimize(negative_log_likelihood, start, method="BFGS")
    return result.x[:-1], float(np.exp(result.x[-1]))


