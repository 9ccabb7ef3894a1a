"""Build the US population tables of figures that ship in ``simulator/data`` from raw public data.

The raw files (``../shared/data`` in development, or a copy fetched by ``socialtwin data fetch``)
are never shipped; only aggregates computed here are (cell counts, shares, fitted coefficients).
``tools/build_tables.py`` runs these builders (``socialtwin data build-tables --from DIR`` or
``make tables``). Every table written carries its source in ``simulator/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import fsolve
from scipy.special import ndtr, ndtri
from sklearn.linear_model import LogisticRegression

from simulator.population.income import income_band_shares
from simulator.population.targets import (
    AGE_BAND_STARTS,
    ANES_RACES,
    CATEGORIES,
    MAX_AGE,
    age_band_of,
)
from tools.tables import write_tables
from tools.us_raw_files import (
    ANES_INCOME_PERCENTILE_BOUNDS,
    EDUCATION_COUNTS,
    MEDSL,
    PUMS,
    SEED_YEARS,
    acs_adults,
    anes_respondents,
    conditional_shares,
    education_shares,
    fit_interval_probit,
    read_raw,
    treatment_dummies,
    us_demographics,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "data"


def build_population_seed(raw_dir: Path) -> pd.DataFrame:
    """Seed contingency table of adults: age band x sex x race x degree x employment x disability.

    Source: ``population/acs2012_person_sample_openintro_acs12.csv`` (ACS 2012, 1,561 adults).
    Cell counts of the non-empty cells only; ``college_degree`` is "yes" for the sample's
    ``college`` and ``grad`` levels. The sample has no Hispanic category (race is white, black,
    asian, other).
    """
    columns = ["age_band", "sex", "race", "college_degree", "employment", "disability"]
    return acs_adults(raw_dir).groupby(columns).size().rename("count").reset_index()


def build_education_split(raw_dir: Path) -> pd.DataFrame:
    """Shares of the education levels below a degree within age band and race.

    Source: ANES 2000-2012 respondents without a bachelor's degree; add-one smoothed.
    """
    anes = anes_respondents(raw_dir, *SEED_YEARS)
    below_degree = CATEGORIES["education"][:3]
    return conditional_shares(
        anes[anes["education"] < len(below_degree)],
        given={"age_band": CATEGORIES["age_band"], "race": ANES_RACES},
        outcome=("education", below_degree),
    )


def build_urbanicity_split(raw_dir: Path) -> pd.DataFrame:
    """Shares of urban, suburban and rural residence within race and education.

    Source: ANES 1978-2000 (the years that record ``urbanism``); add-one smoothed.
    """
    anes = anes_respondents(raw_dir, 1978, 2000, required=("urbanism",))
    anes["urbanicity"] = anes["urbanism"].astype(int) - 1
    return conditional_shares(
        anes,
        given={"race": ANES_RACES, "education": CATEGORIES["education"]},
        outcome=("urbanicity", CATEGORIES["urbanicity"]),
    )


def build_household_income_model(raw_dir: Path) -> pd.DataFrame:
    """Latent log household income (in national standard deviations) given demographics.

    An interval probit of the ANES 2000-2012 household income percentile group (0-16, 17-33,
    34-67, 68-95, 96-100) with the group bounds fixed at the national percentiles, so that the
    coefficients and ``residual_sd`` are in units of the national spread. ``log_income_sd`` is
    that spread in log dollars: half the weighted 16th-84th percentile range of log household
    income in the ACS PUMS 2006-2010 household records (Oregon PUMA 600).
    """
    anes = anes_respondents(raw_dir, *SEED_YEARS, required=("incomeperc", "unemployed"))
    dummies, terms = treatment_dummies(
        anes,
        {
            "age_band": CATEGORIES["age_band"],
            "race": ANES_RACES,
            "education": CATEGORIES["education"],
        },
    )
    design = np.column_stack([np.ones(len(anes)), dummies, anes["unemployed"].to_numpy(float)])
    coefficients, scale = fit_interval_probit(
        design,
        anes["incomeperc"].to_numpy(int) - 1,
        ndtri(np.array(ANES_INCOME_PERCENTILE_BOUNDS)),
    )
    return pd.DataFrame(
        {
            "term": ["intercept", *terms, "employment.unemployed", "residual_sd", "log_income_sd"],
            "value": [*coefficients, scale, _log_income_sd(raw_dir)],
        }
    )


def build_population_ages(raw_dir: Path) -> pd.DataFrame:
    """Single-year age shares of adults 18-90 (90 stands for 90 and over).

    Source: ACS 2012 sample adults, smoothed with a 5-year triangular kernel (ages below 90).
    Only the shape within each age band is used; band totals come from the census targets.
    """
    ages = acs_adults(raw_dir)["age"].to_numpy()
    counts = np.bincount(ages - 18, minlength=MAX_AGE - 17).astype(float)
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    counts[:-1] = np.convolve(counts[:-1], kernel, "same") / np.convolve(
        np.ones(len(counts) - 1), kernel, "same"
    )
    return pd.DataFrame({"age": np.arange(18, MAX_AGE + 1), "share": counts / counts.sum()})


def build_national_marginals(raw_dir: Path) -> pd.DataFrame:
    """US adult shares by age band x sex, race and disability.

    Sources: the 2018 US row of the state demographics file (adults 18-64 and 65+ by sex,
    race x Hispanic origin of all ages, disability of civilian non-institutionalised adults);
    the split of 18-64 into 18-29, 30-44 and 45-64 is the ACS 2012 sample's.
    """
    us = us_demographics(raw_dir).loc["US"]
    acs = acs_adults(raw_dir)
    working = acs.loc[acs["age"] < AGE_BAND_STARTS[-1], "age_band"]
    split = working.value_counts(normalize=True).reindex(CATEGORIES["age_band"][:-1])
    adults = us["Total_age18to64"] + us["Total_age65plus"]
    rows = []
    for sex in CATEGORIES["sex"]:
        prefix = sex.capitalize()
        for band, share in split.items():
            rows.append(("age_band_sex", f"{band}|{sex}", us[f"{prefix}_age18to64"] * share))
        rows.append(("age_band_sex", f"65+|{sex}", us[f"{prefix}_age65plus"]))
    rows = [(attribute, category, count / adults) for attribute, category, count in rows]

    def both(column: str) -> float:
        return us[f"{column}_MALE"] + us[f"{column}_FEMALE"]

    race = {
        "white": both("NHWA"),
        "black": both("NHBA"),
        "hispanic": both("H"),
        "asian": both("NHAA"),
    }
    race["other"] = both("TOT") - sum(race.values())
    rows += [("race", label, count / both("TOT")) for label, count in race.items()]

    disability = "DISABILITY STATUS OF THE CIVILIAN NONINSTITUTIONALIZED POPULATION!!"
    groups = ("18 to 64 years", "65 years and over")
    disabled = sum(us[f"{disability}{group}!!With a disability"] for group in groups)
    share = disabled / sum(us[f"{disability}{group}"] for group in groups)
    rows += [("disability", "no", 1 - share), ("disability", "yes", share)]
    return pd.DataFrame(rows, columns=["attribute", "category", "share"])


def build_state_marginals(raw_dir: Path) -> pd.DataFrame:
    """Per-region targets: shares, median household income and Republican vote share.

    Rows: the nation, the 50 states and DC. Columns: education, employment, income band and
    urbanicity shares, the median household income and the Republican share of the two-party
    presidential vote. Sources and derivations:

    - education: ACS 2014-18 shares of adults 25+ (used for all adults 18+);
    - employment: BLS LAUS 2018 employed and unemployed counts over the adult population, which
      is the state's 25+ population scaled by the national ratio of adults 18+ to adults 25+;
    - income band: the share of households below 2/3 and above 2x the US median household
      income if the state's household income is lognormal around its 2018 median with the
      spread ``log_income_sd`` of ``household_income_model.csv``;
    - urbanicity: a multinomial logit of ANES 1978-2000 residence (central city / suburb /
      rural small town) on the log population density of the respondent's state, evaluated at
      each state's density (ANES's own state shares are not used: its clustered sampling makes
      them unrepresentative); the nation is the population-weighted mean of the states;
    - republican_share: MIT Election Lab, mean of the 2016 and 2020 two-party shares.
    """
    demographics = us_demographics(raw_dir).drop(index="PR")
    education = education_shares(demographics)
    adults_over_25 = demographics[EDUCATION_COUNTS].sum(axis=1)
    us = demographics.loc["US"]
    adults = adults_over_25 * (us["Total_age18to64"] + us["Total_age65plus"]) / adults_over_25["US"]
    employed = demographics["Employed_2018"] / adults
    unemployed = demographics["Unemployed_2018"] / adults

    median = demographics["Median_Household_Income_2018"]
    income_bands = income_band_shares(median.to_numpy(), median["US"], _log_income_sd(raw_dir))

    table = pd.DataFrame(index=demographics.index)
    table["median_household_income"] = median
    table["republican_share"] = _republican_share(raw_dir)
    for label in CATEGORIES["education"]:
        table[f"education.{label}"] = education[label]
    table["employment.employed"] = employed
    table["employment.unemployed"] = unemployed
    table["employment.not_in_labor_force"] = 1 - employed - unemployed
    for column, label in enumerate(CATEGORIES["income_band"]):
        table[f"income_band.{label}"] = income_bands[:, column]
    urbanicity = _state_urbanicity(raw_dir, demographics)
    for label in CATEGORIES["urbanicity"]:
        table[f"urbanicity.{label}"] = urbanicity[label]
    table.insert(0, "code", ["USA" if abbrev == "US" else f"US_{abbrev}" for abbrev in table.index])
    return table.reset_index(drop=True)


def build_household_types(raw_dir: Path) -> pd.DataFrame:
    """Shares of household types (persons, adults) by age band of the householder.

    Source: ACS PUMS 2006-2010 household records of Oregon PUMA 600 (``NP`` persons, ``NRC``
    related children, ``AGEHOH``, weights ``WGTP``), exponentially tilted so that the share of
    one-person households and the mean household size match the 2018 US figures of the state
    demographics file (householders living alone / households; population in households /
    households). Adults are persons minus related children under 18.
    """
    pums = read_raw(raw_dir, PUMS, usecols=["NP", "NRC", "AGEHOH", "WGTP"])
    us = us_demographics(raw_dir).loc["US"]
    households = us["Total households"]
    alone = us["Total households!!Nonfamily households!!Householder living alone"] / households
    mean_size = us["RELATIONSHIP!!Population in households"] / households
    persons = pums["NP"].to_numpy()
    weights = pums["WGTP"].to_numpy(float)

    def tilted(theta: np.ndarray) -> np.ndarray:
        tilt = weights * np.exp(theta[0] * (persons == 1) + theta[1] * persons)
        return tilt / tilt.sum()

    def moment_gaps(theta: np.ndarray) -> list[float]:
        share = tilted(theta)
        return [share[persons == 1].sum() - alone, share @ persons - mean_size]

    frame = pd.DataFrame(
        {
            "householder_age_band": np.asarray(CATEGORIES["age_band"])[
                age_band_of(np.maximum(pums["AGEHOH"].to_numpy(), 18))
            ],
            "persons": persons,
            "adults": np.maximum(persons - pums["NRC"].to_numpy(), 1),
            "share": tilted(fsolve(moment_gaps, np.zeros(2))),
        }
    )
    table = frame.groupby(["householder_age_band", "persons", "adults"]).sum().reset_index()
    table["share"] /= table.groupby("householder_age_band")["share"].transform("sum")
    return table



def _log_income_sd(raw_dir: Path) -> float:
    """Spread of log household income: half the weighted 16th-84th percentile range (PUMS)."""
    pums = read_raw(raw_dir, PUMS, usecols=["HINCP", "ADJINC", "WGTP"])
    income = pums["HINCP"].to_numpy(float) * pums["ADJINC"].to_numpy(float) / 1e6
    positive = income > 0
    order = np.argsort(income[positive])
    log_income = np.log(income[positive][order])
    weights = pums["WGTP"].to_numpy(float)[positive][order]
    cumulative = (np.cumsum(weights) - weights / 2) / weights.sum()
    low, high = np.interp(ndtr(np.array([-1.0, 1.0])), cumulative, log_income)
    return float((high - low) / 2)


def _republican_share(raw_dir: Path) -> pd.Series:
    """Republican share of the two-party presidential vote, mean of 2016 and 2020, by state."""
    medsl = read_raw(raw_dir, MEDSL)
    medsl = medsl[
        medsl["year"].isin([2016, 2020])
        & medsl["party_simplified"].isin(["DEMOCRAT", "REPUBLICAN"])
    ]
    votes = medsl.pivot_table(
        index=["state_po", "year"],
        columns="party_simplified",
        values="candidatevotes",
        aggfunc="sum",
    )
    national = votes.groupby(level="year").sum().assign(state_po="US")
    votes = pd.concat([votes.reset_index(), national.reset_index()])
    votes["share"] = votes["REPUBLICAN"] / (votes["DEMOCRAT"] + votes["REPUBLICAN"])
    return votes.groupby("state_po")["share"].mean()


def _state_urbanicity(raw_dir: Path, demographics: pd.DataFrame) -> pd.DataFrame:
    """Urban, suburban and rural shares per state (and the nation); see build_state_marginals."""
    states = demographics.drop(index="US")
    log_density = np.log(states["Density per square mile of land area - Population"])
    anes = anes_respondents(raw_dir, 1978, 2000, required=("urbanism",))
    anes = anes[anes["stateabb"].isin(states.index)]
    model = LogisticRegression(C=np.inf).fit(
        log_density[anes["stateabb"]].to_numpy()[:, None], anes["urbanism"].to_numpy(int) - 1
    )
    shares = pd.DataFrame(
        model.predict_proba(log_density.to_numpy()[:, None]),
        index=states.index,
        columns=list(CATEGORIES["urbanicity"]),
    )
    population = states["POP_ESTIMATE_2018"]
    shares.loc["US"] = (shares.mul(population, axis=0).sum() / population.sum()).to_numpy()
    return shares


BUILDERS = {
    "population_seed.csv": build_population_seed,
    "education_split.csv": build_education_split,
    "urbanicity_split.csv": build_urbanicity_split,
    "household_income_model.csv": build_household_income_model,
    "population_ages.csv": build_population_ages,
    "national_marginals.csv": build_national_marginals,
    "state_marginals.csv": build_state_marginals,
    "household_types.csv": build_household_types,
}


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Run every builder on ``raw_dir`` and write its table into ``out_dir``."""
    return write_tables(BUILDERS, raw_dir, out_dir, float_format="%.6g")
