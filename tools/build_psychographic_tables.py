"""Build the psychographic model tables that ship in ``simulator/data`` from raw public data.

The Big Five norms (SAPA BFI-25), the party ID model and the model of trust in government
(ANES). Only fitted coefficients are written; sources: ``simulator/data/SOURCES.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.population.psychographics import (
    BIG_FIVE_TERMS,
    PARTY_ID_LEVELS,
    TRAITS,
    big_five_design,
)
from simulator.population.targets import (
    ANES_RACES,
    CATEGORIES,
    age_band_of,
)
from tools.build_population_tables import build_national_marginals, build_population_ages
from tools.tables import write_tables
from tools.us_raw_files import (
    ANES_INCOME_BAND,
    BFI,
    BFI_DICTIONARY,
    SEED_YEARS,
    anes_respondents,
    education_shares,
    fit_ordered_logit,
    read_raw,
    treatment_dummies,
    us_demographics,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "data"


def build_big_five_coefficients(raw_dir: Path) -> pd.DataFrame:
    """Regression of Big Five z-scores on age, sex and education (rows: terms, columns: traits).

    See :func:`_big_five_fit`.
    """
    coefficients, _ = _big_five_fit(Path(raw_dir))
    table = pd.DataFrame(coefficients, columns=list(TRAITS))
    table.insert(0, "term", BIG_FIVE_TERMS)
    return table


def build_big_five_residual_covariance(raw_dir: Path) -> pd.DataFrame:
    """Covariance of the Big Five z-scores around their regression means (5 x 5).

    See :func:`_big_five_fit`.
    """
    _, covariance = _big_five_fit(Path(raw_dir))
    table = pd.DataFrame(covariance, columns=list(TRAITS))
    table.insert(0, "trait", TRAITS)
    return table


def build_party_id_model(raw_dir: Path) -> pd.DataFrame:
    """Ordered logit of ANES 7-point party ID (1 strong Democrat .. 7 strong Republican).

    Source: ANES 1996-2012 respondents with party ID and income. Covariates: age band, race,
    education, income band (percentile groups 0-33 low, 34-67 middle, 68-100 high) and
    urbanicity, with survey-year effects; urbanicity is recorded only until 2000, so later rows
    carry an "unknown residence" indicator. Shipped: the demographic effects and the six
    cutpoints for an average survey year (year and unknown-residence terms are not shipped).
    """
    anes = anes_respondents(raw_dir, 1996, 2012, required=("pid7", "incomeperc"))
    anes["income_band"] = anes["incomeperc"].map(ANES_INCOME_BAND)
    known = anes["urbanism"].notna()
    anes["urbanicity"] = np.where(known, anes["urbanism"].fillna(1) - 1, -1).astype(int)
    dummies, terms = treatment_dummies(
        anes,
        {
            "age_band": CATEGORIES["age_band"],
            "race": ANES_RACES,
            "education": CATEGORIES["education"],
            "income_band": CATEGORIES["income_band"],
            "urbanicity": CATEGORIES["urbanicity"],
        },
    )
    years = np.sort(anes["year"].unique())
    year_dummies = anes["year"].to_numpy()[:, None] == years[None, 1:]
    design = np.column_stack([dummies, ~known.to_numpy(), year_dummies]).astype(float)
    coefficients, cutpoints = fit_ordered_logit(
        design, anes["pid7"].to_numpy(int) - 1, PARTY_ID_LEVELS
    )
    average_year = np.concatenate([[0.0], coefficients[len(terms) + 1 :]]).mean()
    return pd.DataFrame(
        {
            "term": [*terms, *(f"cut_{k}" for k in range(1, PARTY_ID_LEVELS))],
            "value": [*coefficients[: len(terms)], *(cutpoints - average_year)],
        }
    )


def build_trust_government_model(raw_dir: Path) -> pd.DataFrame:
    """Linear model of trust in the federal government (0 = never .. 1 = just about always).

    Source: ANES 2000-2012 ``distrust_govt`` (1-4, reversed and rescaled to [0, 1]) regressed
    on party (from the 7-point ID: 1-3, 4, 5-7), age band and education with survey-year
    effects. Shipped: the intercept for an average survey year, the effects, and the beta
    ``precision`` whose variance matches the residual variance.
    """
    anes = anes_respondents(raw_dir, *SEED_YEARS, required=("pid7", "distrust_govt"))
    anes["party"] = np.sign(anes["pid7"].to_numpy(int) - 4) + 1
    dummies, terms = treatment_dummies(
        anes,
        {
            "party": CATEGORIES["party"],
            "age_band": CATEGORIES["age_band"],
            "education": CATEGORIES["education"],
        },
    )
    years = np.sort(anes["year"].unique())
    year_dummies = anes["year"].to_numpy()[:, None] == years[None, 1:]
    design = np.column_stack([np.ones(len(anes)), dummies, year_dummies]).astype(float)
    trust = (4 - anes["distrust_govt"].to_numpy(float)) / 3
    coefficients, *_ = np.linalg.lstsq(design, trust, rcond=None)
    fitted = design @ coefficients
    precision = np.mean(fitted * (1 - fitted)) / np.var(trust - fitted) - 1
    intercept = coefficients[0] + np.concatenate([[0.0], coefficients[1 + len(terms) :]]).mean()
    return pd.DataFrame(
        {
            "term": ["intercept", *terms, "precision"],
            "value": [intercept, *coefficients[1 : 1 + len(terms)], precision],
        }
    )



@lru_cache(maxsize=2)
def _big_five_fit(raw_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Fit the Big Five norm model on the BFI-25 sample and standardise it to US adults.

    Source: ``persona/bfi25_big5_items_n2800_psych.csv`` (SAPA project), respondents 18+ with
    education. Scale scores are item means (reverse-keyed items as 7 - x; at least 3 of 5
    items). Each trait is regressed by least squares on :func:`big_five_design` (age, sex,
    education: 1 "in high school" -> less than high school, 2 high school, 3 some college,
    4-5 bachelor or higher). The scores are then rescaled so that, over US adults (the shipped
    age, sex and education targets, education independent of age and sex), each trait has
    mean 0 and variance 1.

    Returns:
        Coefficients (terms x traits) and the residual covariance, both on the z scale.
    """
    bfi = read_raw(raw_dir, BFI)
    keying = read_raw(raw_dir, BFI_DICTIONARY, index_col=0)["Keying"]
    bfi = bfi[(bfi["age"] >= 18) & bfi["education"].notna()]
    scores = []
    for trait in TRAITS:
        items = [f"{trait[0].upper()}{k}" for k in range(1, 6)]
        # The dictionary keys the N items for emotional stability; neuroticism is its reverse.
        direction = keying[items].to_numpy() * (-1 if trait == "neuroticism" else 1)
        answers = bfi[items].to_numpy(float)
        keyed = np.where(direction > 0, answers, 7 - answers)
        enough = np.sum(~np.isnan(keyed), axis=1) >= 3
        scores.append(np.where(enough, np.nanmean(keyed, axis=1), np.nan))
    scores = np.column_stack(scores)
    complete = ~np.isnan(scores).any(axis=1)
    bfi, scores = bfi[complete], scores[complete]
    education = bfi["education"].astype(int).map({1: 0, 2: 1, 3: 2, 4: 3, 5: 3}).to_numpy()
    design = big_five_design(bfi["age"].to_numpy(float), bfi["gender"].to_numpy() == 1, education)
    coefficients, *_ = np.linalg.lstsq(design, scores, rcond=None)
    covariance = np.cov((scores - design @ coefficients).T)

    grid_design, grid_weights = _us_adult_grid(raw_dir)
    means = grid_design @ coefficients
    mean = grid_weights @ means
    sd = np.sqrt(grid_weights @ (means - mean) ** 2 + np.diag(covariance))
    coefficients = coefficients / sd
    coefficients[0] -= mean / sd
    return coefficients, covariance / np.outer(sd, sd)


def _us_adult_grid(raw_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Big Five design rows of every (age, sex, education) of US adults, and their weights."""
    ages = build_population_ages(raw_dir)
    national = build_national_marginals(raw_dir).set_index(["attribute", "category"])["share"]
    education = education_shares(us_demographics(raw_dir)).loc["US"].to_numpy()
    age = ages["age"].to_numpy()
    band = age_band_of(age)
    within_band = ages["share"].to_numpy() / np.bincount(band, ages["share"].to_numpy())[band]
    labels = np.asarray(CATEGORIES["age_band"])[band]
    age_grid, sex_grid, education_grid = np.meshgrid(
        np.arange(len(age)), np.arange(2), np.arange(len(education)), indexing="ij"
    )
    age_grid, sex_grid, education_grid = (g.ravel() for g in (age_grid, sex_grid, education_grid))
    sex_labels = np.asarray(CATEGORIES["sex"])
    age_sex = np.array(
        [
            national["age_band_sex", f"{labels[a]}|{sex_labels[s]}"]
            for a, s in zip(age_grid, sex_grid, strict=True)
        ]
    )
    weights = age_sex * within_band[age_grid] * education[education_grid]
    design = big_five_design(age[age_grid].astype(float), sex_grid == 1, education_grid)
    return design, weights / weights.sum()




BUILDERS = {
    "big_five_coefficients.csv": build_big_five_coefficients,
    "big_five_residual_covariance.csv": build_big_five_residual_covariance,
    "party_id_model.csv": build_party_id_model,
    "trust_government_model.csv": build_trust_government_model,
}


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Run every builder on ``raw_dir`` and write its table into ``out_dir``."""
    return write_tables(BUILDERS, raw_dir, out_dir, float_format="%.6g")
