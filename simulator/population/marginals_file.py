"""Custom population marginals: a YAML file that overrides or adds to a region's figures.

The format is documented in ``scenarios/populations/README.md``. Every mistake is one
:class:`PopulationError` naming the file, the field and what is allowed.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

import numpy as np

from simulator.errors import ScenarioError
from simulator.population.income import income_band_shares, income_model
from simulator.population.targets import (
    CATEGORIES,
    FITTED,
    HOUSEHOLD_SIZES,
    PlaceTargets,
    PopulationError,
    ratio,
)
from simulator.yaml_files import parse_yaml, read_text

_OVERRIDABLE = (*FITTED, "household_size")
_SCALARS = {
    "median_household_income": (1_000.0, 10_000_000.0),
    "republican_vote_share": (0.01, 0.99),
}
_SHARE_TOLERANCE = 0.01


def read_marginals(path: str | os.PathLike) -> tuple[str, str]:
    """The name and text of a custom marginals file.

    Raises:
        PopulationError: when the file cannot be read or is too large.
    """
    try:
        return str(path), read_text(path)
    except ScenarioError as error:
        allowed = f"; allowed: {error.allowed}" if error.allowed else ""
        raise PopulationError(f"{path}: cannot read marginals file ({error.problem}{allowed})"
                              ) from None


def parse_marginals(source: str, text: str, base: PlaceTargets) -> PlaceTargets:
    """Parse a custom marginals file; attributes it omits keep the figures of ``base``.

    Args:
        source: the file's name, used in error messages.
        text: the file's YAML text, in the format of ``scenarios/populations/README.md``.
        base: the targets that fill in whatever the file leaves out.

    Raises:
        PopulationError: naming the file, the field and the allowed values.
    """
    document = _document(source, text)
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PopulationError(f"{source}: field 'name' is required and must be a non-empty string")
    shares = document.get("shares") or {}
    if not isinstance(shares, dict):
        raise PopulationError(f"{source}: field 'shares' must map attributes to category shares")
    parsed = {
        attribute: _parse_shares(source, attribute, value) for attribute, value in shares.items()
    }
    scalars = _parse_scalars(source, document, base)
    age_sex = _age_sex(source, base, parsed)
    household_size = parsed.get("household_size", base.household_size)
    overrides = {key: value for key, value in parsed.items()
                 if key not in ("age_band", "sex", "household_size")}
    if "median_household_income" in scalars and "income_band" not in overrides:
        overrides["income_band"] = _shipped_income_band_shares(scalars["median_household_income"])
    return replace(
        base,
        name=name.strip(),
        age_sex=age_sex,
        shares={**base.shares, **overrides},
        # Education given by the file replaces education by age from the shipped tables.
        education_by_age=None if "education" in overrides else base.education_by_age,
        household_size=household_size,
        median_household_income=scalars.get(
            "median_household_income", base.median_household_income
        ),
        republican_share=scalars.get("republican_vote_share", base.republican_share),
    )


def _document(source: str, text: str) -> dict:
    """The file's top-level mapping, every field of it one the format allows."""
    try:
        document = parse_yaml(text, source)
    except ScenarioError as error:
        raise PopulationError(str(error)) from None
    if not isinstance(document, dict):
        raise PopulationError(f"{source}: expected a mapping with 'name' and 'shares' at top level")
    allowed_fields = ("name", "description", "shares", *_SCALARS)
    for key in document:
        if key not in allowed_fields:
            raise PopulationError(
                f"{source}: unknown field {key!r}; allowed: {', '.join(allowed_fields)}"
            )
    return document


def _parse_scalars(source: str, document: dict, base: PlaceTargets) -> dict[str, float]:
    """The numeric top-level fields the file gives, each allowed only where ``base`` has it.

    The income and party models are fitted to US data, so a place that records neither (outside
    the US) cannot be given a median income or a vote share.
    """
    scalars = {
        key: _parse_scalar(source, key, document[key]) for key in _SCALARS if key in document
    }
    for key, present in (("median_household_income", base.median_household_income),
                         ("republican_vote_share", base.republican_share)):
        if key in scalars and present is None:
            raise PopulationError(
                f"{source}: field {key!r} applies to US places only (the income and party models "
                f"are fitted to US data); {base.name} records neither income nor party"
            )
    return scalars


def _age_sex(source: str, base: PlaceTargets, parsed: dict[str, np.ndarray]) -> np.ndarray:
    """The age-by-sex table: ``base``'s, raked to the file's age and sex shares if it gives them.

    A place without shipped age-by-sex figures needs both shares from the file (the table is then
    raked from a uniform one).
    """
    age_sex = base.age_sex
    if age_sex is None:
        missing = [name for name in ("age_band", "sex") if name not in parsed]
        if missing:
            raise PopulationError(
                f"{source}: {base.name} has no shipped age-by-sex figures, so field(s) "
                f"{', '.join(f'shares.{name}' for name in missing)} are required"
            )
        age_sex = np.full((len(CATEGORIES["age_band"]), len(CATEGORIES["sex"])), 1.0)
    if "age_band" in parsed or "sex" in parsed:
        age_sex = _rake(
            age_sex,
            parsed.get("age_band", age_sex.sum(axis=1)),
            parsed.get("sex", age_sex.sum(axis=0)),
        )
    return age_sex


def _shipped_income_band_shares(median: float) -> np.ndarray:
    """Income band shares for a median, with the shipped US median and log-income spread."""
    model = income_model()
    return income_band_shares(median, model["national_median"], model["log_income_sd"])


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
