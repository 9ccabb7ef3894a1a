"""Target marginals of synthetic populations: what the adults of a place must look like.

The figures are shipped in ``simulator/data``: US states and the nation from census tables, and
every country from UN, World Bank and Barro-Lee figures (``simulator/data/SOURCES.md``). A place
records only the attributes some source has figures for; the others are left out of its
population (:attr:`PlaceTargets.recorded`), never filled with another place's figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

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
"""Oldest single-year age drawn: 90 stands for 90 and over."""
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
"""Attributes fitted jointly by iterative proportional fitting, in the axis order of the seed;
a place fits those it records, in this order."""


def age_band_of(age: np.ndarray) -> np.ndarray:
    """Age band codes (indices into ``CATEGORIES["age_band"]``) of ages in years (18 or over)."""
    return (np.searchsorted(AGE_BAND_STARTS, age, side="right") - 1).astype(np.int8)


class PopulationError(SocialTwinError, ValueError):
    """A population cannot be synthesised as asked (bad marginals file, size or region)."""


@dataclass(frozen=True)
class PlaceTargets:
    """What the adults of one place must look like, for the attributes it records.

    :func:`region_targets` reads them from the shipped tables; a marginals file
    (:func:`simulator.population.marginals_file.parse_marginals`) overrides or adds to them.

    Attributes:
        name: the place's name (a region name or the ``name`` of a marginals file).
        age_sex: joint shares of age band (rows) by sex (columns), shape (4, 2); None when no
            source has them (a marginals file must then give both).
        shares: shares per category, in :data:`CATEGORIES` order, of the recorded attributes
            among race, education, employment, income_band, urbanicity and disability.
        median_household_income: USD, sets where incomes fall within their band (US places).
        republican_share: Republican share of the two-party presidential vote (US places).
        household_size: adult-level shares of :data:`HOUSEHOLD_SIZES` to match, or None.
        education_by_age: P(education | age band), shape (4, 4), when the source gives education
            by age (countries); ``shares`` then has no ``education`` entry.
        ages: shares of the single-year ages 18 .. :data:`MAX_AGE` (countries), or None for the
            shape of the US adult sample.
        households: ``(mean household size, adults per person)`` of the household model
            (countries), or None for the US household types.
    """

    name: str
    age_sex: np.ndarray | None
    shares: dict[str, np.ndarray] = field(repr=False)
    median_household_income: float | None = None
    republican_share: float | None = None
    household_size: np.ndarray | None = None
    education_by_age: np.ndarray | None = field(default=None, repr=False)
    ages: np.ndarray | None = field(default=None, repr=False)
    households: tuple[float, float] | None = None

    @property
    def recorded(self) -> tuple[str, ...]:
        """The :data:`FITTED` attributes this place has figures for, in :data:`FITTED` order."""
        given = {"age_band", "sex", *self.shares}
        if self.education_by_age is not None:
            given.add("education")
        return tuple(name for name in FITTED if name in given)

    def share(self, attribute: str) -> np.ndarray:
        """Target shares of one recorded attribute, in :data:`CATEGORIES` order."""
        if attribute == "age_band":
            return self.age_sex.sum(axis=1)
        if attribute == "sex":
            return self.age_sex.sum(axis=0)
        if attribute == "education" and self.education_by_age is not None:
            return self.age_sex.sum(axis=1) @ self.education_by_age
        return self.shares[attribute]


@cache
def data_table(name: str) -> pd.DataFrame:
    """A table shipped in ``simulator/data`` (read once)."""
    from importlib import resources

    with (resources.files("simulator") / "data" / name).open() as handle:
        return pd.read_csv(handle, keep_default_na=False, na_values=[""])


def national_age_sex() -> np.ndarray:
    """US shares of adults by age band (rows) and sex (columns), shape (4, 2)."""
    table = data_table("national_marginals.csv")
    rows = table[table["attribute"] == "age_band_sex"].set_index("category")["share"]
    joint = np.array(
        [[rows[f"{band}|{sex}"] for sex in CATEGORIES["sex"]] for band in CATEGORIES["age_band"]]
    )
    return joint / joint.sum()


def national_education() -> np.ndarray:
    """US shares of adults by education level (the nation's row of the state table)."""
    row = data_table("state_marginals.csv").set_index("code").loc[NATION]
    shares = np.array([row[f"education.{label}"] for label in CATEGORIES["education"]])
    return shares / shares.sum()


def region_targets(code: str) -> PlaceTargets:
    """Targets of a region from the shipped tables: a US state or the nation, or a country.

    Args:
        code: a canonical region code (``USA``, ``US_CA``, ``FRA``).
    """
    return us_targets(code) if get_region(code).country == NATION else country_targets(code)


def us_targets(code: str) -> PlaceTargets:
    """Targets of a US state or of the nation.

    State tables carry education, employment, income and urbanicity shares, median income and
    partisanship; age, sex, race and disability are national figures for every state (the
    source has them for the nation only).
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


def country_targets(code: str) -> PlaceTargets:
    """Targets of a country from the shipped country tables; what they lack is not recorded.

    Age by sex and the single-year ages come from UN WPP 2019 (adults in 2020), education by age
    from Barro-Lee, urbanicity from the World Bank's urban share (its national definitions do
    not separate suburbs: suburban is 0), and the household model from UN DESA's mean household
    size and WPP's share of adults. ``age_sex`` is None for a country WPP does not list.
    """
    ages = data_table("country_age_sex.csv")
    ages = ages[ages["code"] == code]
    age_sex = single_year = None
    if len(ages):
        by_band = ages.groupby(age_band_of(ages["age"].to_numpy()))[["female", "male"]].sum()
        age_sex = by_band.to_numpy() / by_band.to_numpy().sum()
        single_year = _single_year_shares(ages)
    shares = {}
    urban = data_table("country_urbanicity.csv").set_index("code")["urban_share"]
    if code in urban.index:
        shares["urbanicity"] = np.array([urban[code], 0.0, 1.0 - urban[code]])
    education = data_table("country_education.csv")
    education = education[education["code"] == code]
    by_age = None
    if len(education):
        by_age = education.set_index("age_band").loc[list(CATEGORIES["age_band"]),
                                                     list(CATEGORIES["education"])].to_numpy()
        by_age = by_age / by_age.sum(axis=1, keepdims=True)
    households = data_table("country_households.csv").set_index("code")
    model = None
    if code in households.index and age_sex is not None:
        row = households.loc[code]
        model = (float(row["mean_size"]), float(row["adults_per_person"]))
    return PlaceTargets(name=get_region(code).name, age_sex=age_sex, shares=shares,
                        education_by_age=by_age, ages=single_year, households=model)


def shipped_attributes(code: str) -> tuple[str, ...]:
    """The attributes the shipped tables record for a region's population.

    Empty for a region without age-by-sex figures: it needs a marginals file.
    """
    place = region_targets(code)
    if place.age_sex is None:
        return ()
    found = list(place.recorded)
    us = place.median_household_income is not None
    if us or place.households is not None:
        found.append("household_size")
    if us:
        found.append("income")
    if place.republican_share is not None:
        found.append("party")
    return tuple(found)


def _single_year_shares(ages: pd.DataFrame) -> np.ndarray:
    """Shares of ages 18 .. MAX_AGE from age groups (``age`` = first year of the group).

    Within a group the population is spread evenly over its years (an assumption); the last
    group (MAX_AGE and over) is MAX_AGE.
    """
    starts = ages["age"].to_numpy()
    ends = np.append(starts[1:], MAX_AGE + 1)
    counts = ages[["female", "male"]].sum(axis=1).to_numpy()
    years = np.arange(AGE_BAND_STARTS[0], MAX_AGE + 1)
    group = np.searchsorted(starts, years, side="right") - 1
    shares = counts[group] / (ends - starts)[group]
    return shares / shares.sum()


def broadcast_codes(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Open-grid codes of the named attributes, each on its own axis in the given order."""
    grids = np.ix_(*(np.arange(len(CATEGORIES[name])) for name in names))
    return dict(zip(names, grids, strict=True))


def ratio(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Scaling factors ``target / current`` of proportional fitting, zero where nothing is left."""
    return np.divide(target, current, out=np.zeros_like(current), where=current > 0)
