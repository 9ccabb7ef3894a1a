"""Target marginals of synthetic populations: shipped figures per region and YAML overrides."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtr

from simulator.errors import SocialTwinError
from simulator.sources.regions import NATION, get_region

CATEGORIES: dict[str, tuple[str, ...]] = {
    "age_band": ("18-29", "30-44", "45-64", "65+"),
    "sex": ("female", "male"),
    "race": ("white", "black", "hispanic", "asian", "other"),
    "education": ("less_than_high_school", "high_school", "some_college", "bachelor_or_higher"),
    "employment": ("employed", "unemployed", "not_in_labor_force"),
    "income_band": ("low", "middle", "high"),
    "urbanicity": ("urban", "suburban", "rural"),
    "disability": ("no", "yes"),
    "party": ("democrat", "independent", "republican"),
}
"""Label order of every categorical attribute; codes index into these tuples."""

ACS_RACES = ("white", "black", "asian", "other")
"""Race categories of the ACS 2012 seed sample, which has no Hispanic category."""
ANES_RACES = ("white", "black", "hispanic", "other")
"""ANES race4 categories (codes 1-4); ANES counts Asian Americans within "other"."""

AGE_BAND_STARTS = (18, 30, 45, 65)
MAX_AGE = 90
HOUSEHOLD_SIZES = ("1", "2", "3", "4", "5", "6+")

FITTED = (
    "age_band",
    "sex",
    "race",
    "education",
    "employment",
    "income_band",
    "urbanicity",
    "disability",
)
"""Attributes fitted jointly by iterative proportional fitting, in the axis order of the seed."""

LOW_INCOME_RATIO = 2 / 3
HIGH_INCOME_RATIO = 2.0
"""Income bands relative to the US median household income (the Pew Research Center convention)."""

_OVERRIDABLE = (*FITTED, "household_size")
_SCALARS = {
    "median_household_income": (1_000.0, 10_000_000.0),
    "republican_vote_share": (0.01, 0.99),
}
_SHARE_TOLERANCE = 0.01


def age_band_of(age: np.ndarray) -> np.ndarray:
    """Age band codes (indices into ``CATEGORIES["age_band"]``) of ages in years (18 or over)."""
    return (np.searchsorted(AGE_BAND_STARTS, age, side="right") - 1).astype(np.int8)


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


class PopulationError(SocialTwinError, ValueError):
    """A population cannot be synthesised as asked (bad marginals file, size or region)."""


@dataclass(frozen=True)
class PlaceTargets:
    """What the adults of one place must look like.

    :func:`region_targets` reads them from the shipped tables; :func:`parse_marginals`
    overrides them from a YAML file (format: ``scenarios/populations/README.md``).

    Attributes:
        name: the place's name (a region name or the ``name`` of a marginals file).
        age_sex: joint shares of age band (rows) by sex (columns), shape (4, 2).
        shares: shares per category for race, education, employment, income_band,
            urbanicity and disability, each an array in :data:`CATEGORIES` order.
        median_household_income: USD; sets where incomes fall within their band.
        republican_share: Republican share of the two-party presidential vote.
        household_size: adult-level shares of :data:`HOUSEHOLD_SIZES`, or None to use the
            household types shipped for the US.
    """

    name: str
    age_sex: np.ndarray
    shares: dict[str, np.ndarray] = field(repr=False)
    median_household_income: float
    republican_share: float
    household_size: np.ndarray | None = None

    def share(self, attribute: str) -> np.ndarray:
        """Target shares of one fitted attribute, in :data:`CATEGORIES` order."""
        if attribute == "age_band":
            return self.age_sex.sum(axis=1)
        if attribute == "sex":
            return self.age_sex.sum(axis=0)
        return self.shares[attribute]


@cache
def data_table(name: str) -> pd.DataFrame:
    """A table shipped in ``simulator/data`` (read once)."""
    with (resources.files("simulator") / "data" / name).open() as handle:
        return pd.read_csv(handle)


def national_age_sex() -> np.ndarray:
    """US shares of adults by age band (rows) and sex (columns), shape (4, 2)."""
    table = data_table("national_marginals.csv")
    rows = table[table["attribute"] == "age_band_sex"].set_index("category")["share"]
    joint = np.array(
        [[rows[f"{band}|{sex}"] for sex in CATEGORIES["sex"]] for band in CATEGORIES["age_band"]]
    )
    return joint / joint.sum()


def region_targets(code: str) -> PlaceTargets:
    """Targets of a US state or of the nation from the shipped tables.

    State tables carry education, employment, income and urbanicity shares, median income and
    partisanship; age, sex, race and disability are national figures for every state (the
    source has them for the nation only).

    Args:
        code: a canonical region code (``USA``, ``US_CA``).
    """
    national = data_table("national_marginals.csv")
    state = data_table("state_marginals.csv").set_index("code").loc[code]
    shares = {
        attribute: np.array([state[f"{attribute}.{label}"] for label in CATEGORIES[attribute]])
        for attribute in ("education", "employment", "income_band", "urbanicity")
    }
    for attribute in ("race", "disability"):
        rows = national[national["attribute"] == attribute].set_index("category")["share"]
        shares[attribute] = rows.loc[list(CATEGORIES[attribute])].to_numpy(dtype=float)
    return PlaceTargets(
        name=get_region(code).name,
        age_sex=national_age_sex(),
        # The tables store 6 significant digits; exact sums keep the fitting consistent.
        shares={attribute: share / share.sum() for attribute, share in shares.items()},
        median_household_income=float(state["median_household_income"]),
        republican_share=float(state["republican_share"]),
    )


def read_marginals(path: str | os.PathLike) -> tuple[str, str]:
    """The name and text of a custom marginals file.

    Raises:
        PopulationError: when the file cannot be read.
    """
    try:
        return str(path), Path(path).read_text()
    except OSError as error:
        raise PopulationError(f"{path}: cannot read marginals file ({error})") from error


def parse_marginals(source: str, text: str, base: PlaceTargets) -> PlaceTargets:
    """Parse a custom marginals file; attributes it omits keep the figures of ``base``.

    Args:
        source: the file's name, used in error messages.
        text: the file's YAML text, in the format of ``scenarios/populations/README.md``.
        base: the targets that fill in whatever the file leaves out.

    Raises:
        PopulationError: naming the file, the field and the allowed values.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PopulationError(f"{source}: not valid YAML ({error})") from error
    if not isinstance(document, dict):
        raise PopulationError(f"{source}: expected a mapping with 'name' and 'shares' at top level")
    allowed_fields = ("name", "description", "shares", *_SCALARS)
    for key in document:
        if key not in allowed_fields:
            raise PopulationError(
                f"{source}: unknown field {key!r}; allowed: {', '.join(allowed_fields)}"
            )
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PopulationError(f"{source}: field 'name' is required and must be a non-empty string")
    shares = document.get("shares") or {}
    if not isinstance(shares, dict):
        raise PopulationError(f"{source}: field 'shares' must map attributes to category shares")
    parsed = {
        attribute: _parse_shares(source, attribute, value) for attribute, value in shares.items()
    }
    scalars = {
        key: _parse_scalar(source, key, document[key]) for key in _SCALARS if key in document
    }

    age_sex = base.age_sex
    if "age_band" in parsed or "sex" in parsed:
        age_sex = _rake(
            age_sex,
            parsed.pop("age_band", age_sex.sum(axis=1)),
            parsed.pop("sex", age_sex.sum(axis=0)),
        )
    household_size = parsed.pop("household_size", base.household_size)
    if "median_household_income" in scalars and "income_band" not in parsed:
        parsed["income_band"] = _shipped_income_band_shares(scalars["median_household_income"])
    return replace(
        base,
        name=name.strip(),
        age_sex=age_sex,
        shares={**base.shares, **parsed},
        household_size=household_size,
        median_household_income=scalars.get(
            "median_household_income", base.median_household_income
        ),
        republican_share=scalars.get("republican_vote_share", base.republican_share),
    )


def _shipped_income_band_shares(median: float) -> np.ndarray:
    """Income band shares for a median, with the shipped US median and log-income spread."""
    spread = data_table("household_income_model.csv").set_index("term").loc["log_income_sd"]
    national = data_table("state_marginals.csv").set_index("code").loc[NATION]
    return income_band_shares(
        median, float(national["median_household_income"]), float(spread["value"])
    )


def _parse_shares(source: str, attribute: str, value: object) -> np.ndarray:
    """Validate one ``shares.<attribute>`` mapping and return it in category order."""
    field_name = f"shares.{attribute}"
    if attribute not in _OVERRIDABLE:
        raise PopulationError(
            f"{source}: unknown field {field_name!r}; allowed attributes: {', '.join(_OVERRIDABLE)}"
        )
    labels = HOUSEHOLD_SIZES if attribute == "household_size" else CATEGORIES[attribute]
    if not isinstance(value, dict):
        raise PopulationError(
            f"{source}: field {field_name!r} must map each of {', '.join(labels)} to a share"
        )
    given = {str(key): share for key, share in value.items()}
    unknown = sorted(set(given) - set(labels))
    missing = [label for label in labels if label not in given]
    if unknown or missing:
        problem = f"unknown {unknown}" if unknown else f"missing {missing}"
        raise PopulationError(
            f"{source}: field {field_name!r} has {problem} categories; allowed: {', '.join(labels)}"
        )
    shares = []
    for label in labels:
        share = given[label]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise PopulationError(
                f"{source}: field '{field_name}.{label}' must be a number in [0, 1], got {share!r}"
            )
        shares.append(float(share))
    total = math.fsum(shares)
    if abs(total - 1) > _SHARE_TOLERANCE:
        raise PopulationError(
            f"{source}: field {field_name!r} shares sum to {total:.4f}; they must sum to 1 "
            f"(within {_SHARE_TOLERANCE})"
        )
    return np.array(shares) / total


def _parse_scalar(source: str, key: str, value: object) -> float:
    """Validate one numeric top-level field."""
    low, high = _SCALARS[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise PopulationError(
            f"{source}: field {key!r} must be a number in [{low:g}, {high:g}], got {value!r}"
        )
    return float(value)


def _rake(joint: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Rescale a two-way table to new row and column totals, keeping its odds ratios."""
    table = joint.copy()
    for _ in range(100):
        table *= ratio(rows, table.sum(axis=1))[:, None]
        table *= ratio(columns, table.sum(axis=0))[None, :]
    return table / table.sum()


def ratio(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Scaling factors ``target / current`` of proportional fitting, zero where nothing is left."""
    return np.divide(target, current, out=np.zeros_like(current), where=current > 0)
