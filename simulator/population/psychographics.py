"""Psychographic attributes of synthetic adults, drawn conditionally on their demographics."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import expit

from simulator.population.targets import CATEGORIES, data_table, national_education

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
PARTY_ID_LEVELS = 7

BIG_FIVE_TERMS = (
    "intercept",
    "age_decades",
    "male",
    "education.high_school",
    "education.some_college",
    "education.bachelor_or_higher",
)
_NORM_AGE_RANGE = (18, 70)
"""Ages outside the norm sample's support (few respondents over 70) use the nearest edge."""

# The four modelled attributes below are NOT fitted to data: they are logistic functions of
# traits and demographics whose coefficients (logit units per trait SD or per stated unit) were
# chosen to reproduce the direction and rough size of published associations.
TRUST_SCIENCE = {"intercept": 0.3, "education": 0.35, "republican_lean": -0.45, "openness": 0.15}
"""Assumed logit of trust in science: education per level, ``republican_lean`` is
(party_id - 4) / 3 in [-1, 1], openness per SD. Direction: Pew Research Center surveys of
trust in scientists, 2019-2020 (higher with education, lower among Republicans)."""
RISK_TOLERANCE = {
    "extraversion": 0.30,
    "openness": 0.25,
    "neuroticism": -0.30,
    "agreeableness": -0.15,
    "conscientiousness": -0.15,
    "age_15y": -0.25,
    "male": 0.25,
}
"""Assumed logit of risk tolerance: traits per SD, age per 15 years from 45. Directions:
Nicholson et al. (2005, J. Risk Research) for the traits, Dohmen et al. (2011, JEEA) for age
and sex."""
PERCEIVED_VULNERABILITY = {"intercept": -0.3, "age_15y": 0.6, "disability": 0.8, "neuroticism": 0.3}
"""Assumed logit of perceived (health) vulnerability: age per 15 years from 45, disability,
neuroticism per SD."""
CONFORMITY = {"agreeableness": 0.35, "conscientiousness": 0.30, "openness": -0.25}
"""Assumed logit of conformity: traits per SD. Directions: Roccas et al. (2002, PSPB), conformity
values and the Big Five."""
MODELLED_NOISE_SD = 0.8
"""Assumed individual variation (logit units) of the modelled attributes around their means."""


def big_five_design(age: np.ndarray, male: np.ndarray, education: np.ndarray | None
                    ) -> np.ndarray:
    """Design matrix of the Big Five norm model, columns as :data:`BIG_FIVE_TERMS`.

    Args:
        age: years, shape (n,).
        male: 1 for men, 0 for women, shape (n,).
        education: codes into ``CATEGORIES["education"]``, shape (n,); None where the population
            does not record education: the education terms then take their mean over US adults
            (the norms are US norms), an assumption.

    Returns:
        Array of shape (n, 6).
    """
    age = np.asarray(age)
    design = np.empty((len(age), len(BIG_FIVE_TERMS)))
    design[:, 0] = 1.0
    design[:, 1] = (np.clip(age, *_NORM_AGE_RANGE) - 45.0) / 10.0
    design[:, 2] = male
    for column, level in enumerate((1, 2, 3), start=3):
        design[:, column] = (national_education()[level] if education is None
                             else np.asarray(education) == level)
    return design


def big_five(
    age: np.ndarray, sex: np.ndarray, education: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """Draw Big Five z-scores conditional on age, sex and education (data-fitted).

    A conditional multivariate normal: the means are a regression on age, sex and education
    fitted to the SAPA BFI-25 sample, the covariance that sample's residual covariance. The
    fit is post-stratified to US age, sex and education shares, so the traits are z-scores
    against US adults (mean 0, SD 1 over the US population). For other countries the same
    norms are applied to their own age, sex and education (an assumption: no source here gives
    the Big Five of other populations).

    Args:
        age: years, shape (n,).
        sex: codes into ``CATEGORIES["sex"]`` (1 = male), shape (n,).
        education: codes into ``CATEGORIES["education"]``, shape (n,), or None where not
            recorded (see :func:`big_five_design`).
        rng: the random stream.

    Returns:
        float32 array of shape (n, 5), columns in :data:`TRAITS` order.
    """
    coefficients, cholesky = _big_five_model()
    # einsum rather than @: BLAS is several times slower on these tall, narrow products.
    traits = np.einsum("nt,tk->nk", big_five_design(age, sex == 1, education), coefficients)
    traits += np.einsum("nk,jk->nj", rng.standard_normal(traits.shape), cholesky)
    return traits.astype(np.float32)


@lru_cache(maxsize=1)
def _big_five_model() -> tuple[np.ndarray, np.ndarray]:
    """Regression coefficients (6, 5) and Cholesky factor of the residual covariance (5, 5)."""
    coefficients = data_table("big_five_coefficients.csv").set_index("term")
    covariance = data_table("big_five_residual_covariance.csv").set_index("trait")
    return (
        coefficients.loc[list(BIG_FIVE_TERMS), list(TRAITS)].to_numpy(),
        np.linalg.cholesky(covariance.loc[list(TRAITS), list(TRAITS)].to_numpy()),
    )


@dataclass(frozen=True)
class PartyModel:
    """Ordered logit of ANES 7-point party ID (data-fitted); higher means more Republican.

    Fitted to ANES 1996-2012 on age band, race, education, income band and urbanicity (ANES
    has no sex here, so party ID does not depend on sex). :meth:`calibrate` shifts the lean of
    each place so that Republicans make up its two-party vote share of two-party identifiers.

    Attributes:
        effects: per attribute, the effect of each category (codes as in ``CATEGORIES``) on the
            latent Republican lean; the first category is the reference (0).
        cutpoints: the six increasing thresholds between the seven levels.
    """

    effects: dict[str, np.ndarray]
    cutpoints: np.ndarray

    ATTRIBUTES = ("age_band", "race", "education", "income_band", "urbanicity")

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> PartyModel:
        """The model shipped in ``data/party_id_model.csv``.

        ANES codes Asian Americans within "other", so ``asian`` and ``other`` share an effect.
        """
        terms = data_table("party_id_model.csv").set_index("term")["value"]
        effects = {}
        for attribute in cls.ATTRIBUTES:
            labels = CATEGORIES[attribute]
            if attribute == "race":
                labels = tuple("other" if label == "asian" else label for label in labels)
            effects[attribute] = np.array(
                [0.0] + [terms[f"{attribute}.{label}"] for label in labels[1:]]
            )
        cutpoints = terms[[f"cut_{k}" for k in range(1, PARTY_ID_LEVELS)]].to_numpy()
        return cls(effects=effects, cutpoints=cutpoints)

    def lean(self, **codes: np.ndarray) -> np.ndarray:
        """Latent Republican lean from category codes of :attr:`ATTRIBUTES` (broadcastable)."""
        return sum(self.effects[name][codes[name]] for name in self.ATTRIBUTES)

    def party_shares(self, lean: np.ndarray) -> np.ndarray:
        """Probabilities of democrat (1-3), independent (4), republican (5-7); shape (..., 3)."""
        below = expit(self.cutpoints[[2, 3]] - lean[..., None])
        return np.stack([below[..., 0], below[..., 1] - below[..., 0], 1 - below[..., 1]], -1)

    def calibrate(
        self, lean: np.ndarray, weights: np.ndarray, republican_share: np.ndarray
    ) -> np.ndarray:
        """Per-place shift of the lean matching the two-party Republican share of identifiers.

        Args:
            lean: latent lean of each demographic cell, shape (places, cells).
            weights: population weight of each cell, shape (places, cells).
            republican_share: target republican / (democrat + republican), shape (places,).

        Returns:
            The shift to add to every lean of each place, shape (places,).
        """
        low = np.full(len(republican_share), -10.0)
        high = np.full(len(republican_share), 10.0)
        for _ in range(60):
            shift = (low + high) / 2
            shares = np.einsum("pc,pck->pk", weights, self.party_shares(lean + shift[:, None]))
            too_republican = shares[:, 2] / (shares[:, 0] + shares[:, 2]) > republican_share
            high = np.where(too_republican, shift, high)
            low = np.where(too_republican, low, shift)
        return (low + high) / 2

    def draw(self, lean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw 7-point party IDs (int8, 1 = strong Democrat .. 7 = strong Republican)."""
        below = expit(self.cutpoints[None, :] - lean[:, None])
        return (1 + (rng.random(len(lean))[:, None] > below).sum(axis=1)).astype(np.int8)


def party_of(party_id: np.ndarray) -> np.ndarray:
    """Party codes (democrat 0, independent 1, republican 2) of 7-point party IDs."""
    return (np.sign(party_id.astype(np.int8) - 4) + 1).astype(np.int8)


def trust_government(
    party: np.ndarray, age_band: np.ndarray, education: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw trust in the federal government in [0, 1] (data-fitted mean, beta spread).

    The mean is a regression of ANES 2000-2012 trust in the federal government (rescaled to
    [0, 1]) on party, age band and education, for an average survey year; the beta precision
    matches the residual variance of that regression.

    Args:
        party: codes into ``CATEGORIES["party"]``.
        age_band: codes into ``CATEGORIES["age_band"]``.
        education: codes into ``CATEGORIES["education"]``.
        rng: the random stream.
    """
    terms = data_table("trust_government_model.csv").set_index("term")["value"]
    mean = terms["intercept"] + sum(
        np.array([0.0] + [terms[f"{name}.{label}"] for label in CATEGORIES[name][1:]])[codes]
        for name, codes in (("party", party), ("age_band", age_band), ("education", education))
    )
    mean = np.clip(mean, 0.02, 0.98)
    precision = terms["precision"]
    return rng.beta(mean * precision, (1 - mean) * precision).astype(np.float32)


def trust_science(
    education: np.ndarray | None, party_id: np.ndarray | None, openness: np.ndarray,
    rng: np.random.Generator
) -> np.ndarray:
    """Draw trust in science in [0, 1] (modelled assumption, see :data:`TRUST_SCIENCE`).

    A term whose attribute the population does not record (education; party ID outside the US)
    is left out, as for the middle of its range.
    """
    c = TRUST_SCIENCE
    # Summed in this order so that a population recording every term keeps its exact values.
    lean = c["intercept"]
    if education is not None:
        lean = lean + c["education"] * (education - 1.5)
    if party_id is not None:
        lean = lean + c["republican_lean"] * (party_id - 4) / 3
    lean = lean + c["openness"] * openness
    return _logistic_score(lean, rng)


def risk_tolerance(
    traits: np.ndarray, age: np.ndarray, sex: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw risk tolerance in [0, 1] (modelled assumption, see :data:`RISK_TOLERANCE`).

    Args:
        traits: Big Five z-scores, shape (n, 5) in :data:`TRAITS` order.
        age: years.
        sex: codes into ``CATEGORIES["sex"]``.
        rng: the random stream.
    """
    c = RISK_TOLERANCE
    lean = c["age_15y"] * (age - 45) / 15 + c["male"] * (sex == 1)
    lean = lean + _trait_sum(traits, c)
    return _logistic_score(lean, rng)


def perceived_vulnerability(
    age: np.ndarray, disability: np.ndarray | None, neuroticism: np.ndarray,
    rng: np.random.Generator
) -> np.ndarray:
    """Draw perceived vulnerability in [0, 1] (modelled, see :data:`PERCEIVED_VULNERABILITY`).

    Where the population does not record disability, its term is left out.
    """
    c = PERCEIVED_VULNERABILITY
    lean = c["intercept"] + c["age_15y"] * (age - 45) / 15
    if disability is not None:
        lean = lean + c["disability"] * disability
    lean = lean + c["neuroticism"] * neuroticism
    return _logistic_score(lean, rng)


def conformity(traits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw conformity in [0, 1] (modelled assumption, see :data:`CONFORMITY`)."""
    return _logistic_score(_trait_sum(traits, CONFORMITY), rng)


def _trait_sum(traits: np.ndarray, coefficients: dict[str, float]) -> np.ndarray:
    """Weighted sum of the trait columns named in ``coefficients``."""
    return sum(
        weight * traits[:, TRAITS.index(name)]
        for name, weight in coefficients.items()
        if name in TRAITS
    )


def _logistic_score(lean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A [0, 1] score: the logistic of a mean plus individual normal noise."""
    lean = np.asarray(lean, dtype=np.float64)
    return expit(lean + MODELLED_NOISE_SD * rng.standard_normal(lean.shape)).astype(np.float32)
