"""Build the US population tables of figures that ship in ``simulator/data`` from raw public data.

The raw files (``../shared/data`` in development, or a copy fetched by ``socialtwin data fetch``)
are never shipped; only aggregates computed here are (cell counts, shares, fitted coefficients).
``tools/build_tables.py`` runs these builders (``socialtwin data build-tables --from DIR`` or
``make tables``). Every table written carries its source in ``simulator/data/SOURCES.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import fsolve, minimize
from scipy.special import expit, ndtr, ndtri
from sklearn.linear_model import LogisticRegression

from simulator.marginals import (
    AGE_BAND_STARTS,
    ANES_RACES,
    CATEGORIES,
    MAX_AGE,
    age_band_of,
    income_band_shares,
)
from simulator.psychographics import BIG_FIVE_TERMS, PARTY_ID_LEVELS, TRAITS, big_five_design

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "data"

_DEMOGRAPHICS = "population/us_states_demographics_2018_jieyingwu_states_only.csv"
_ACS = "population/acs2012_person_sample_openintro_acs12.csv"
_ANES = "population/anes_partytherms_pid7_1978_2012_stevedata.csv"
_MEDSL = "population/medsl_us_president_by_state_1976_2020.csv"
_PUMS = "population/acs_pums_2006-2010_household_records_oregon_puma600_populationsim.csv"
_BFI = "persona/bfi25_big5_items_n2800_psych.csv"
_BFI_DICTIONARY = "persona/bfi25_dictionary_psych.csv"

_ANES_EDUCATION = {1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 6: 3, 7: 3}
_ANES_INCOME_BAND = {1: 0, 2: 0, 3: 1, 4: 2, 5: 2}
_ANES_INCOME_PERCENTILE_BOUNDS = (0.165, 0.335, 0.675, 0.955)
_SEED_YEARS = (2000, 2012)


def build_population_seed(raw_dir: Path) -> pd.DataFrame:
    """Seed contingency table of adults: age band x sex x race x degree x employment x disability.

    Source: ``population/acs2012_person_sample_openintro_acs12.csv`` (ACS 2012, 1,561 adults).
    Cell counts of the non-empty cells only; ``college_degree`` is "yes" for the sample's
    ``college`` and ``grad`` levels. The sample has no Hispanic category (race is white, black,
    asian, other).
    """
    columns = ["age_band", "sex", "race", "college_degree", "employment", "disability"]
    return _acs_adults(raw_dir).groupby(columns).size().rename("count").reset_index()


def build_education_split(raw_dir: Path) -> pd.DataFrame:
    """Shares of the education levels below a degree within age band and race.

    Source: ANES 2000-2012 respondents without a bachelor's degree; add-one smoothed.
    """
    anes = _anes(raw_dir, *_SEED_YEARS)
    below_degree = CATEGORIES["education"][:3]
    return _conditional_shares(
        anes[anes["education"] < len(below_degree)],
        given={"age_band": CATEGORIES["age_band"], "race": ANES_RACES},
        outcome=("education", below_degree),
    )


def build_urbanicity_split(raw_dir: Path) -> pd.DataFrame:
    """Shares of urban, suburban and rural residence within race and education.

    Source: ANES 1978-2000 (the years that record ``urbanism``); add-one smoothed.
    """
    anes = _anes(raw_dir, 1978, 2000, required=("urbanism",))
    anes["urbanicity"] = anes["urbanism"].astype(int) - 1
    return _conditional_shares(
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
    anes = _anes(raw_dir, *_SEED_YEARS, required=("incomeperc", "unemployed"))
    dummies, terms = _dummies(
        anes,
        {
            "age_band": CATEGORIES["age_band"],
            "race": ANES_RACES,
            "education": CATEGORIES["education"],
        },
    )
    design = np.column_stack([np.ones(len(anes)), dummies, anes["unemployed"].to_numpy(float)])
    coefficients, scale = _fit_interval_probit(
        design,
        anes["incomeperc"].to_numpy(int) - 1,
        ndtri(np.array(_ANES_INCOME_PERCENTILE_BOUNDS)),
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
    ages = _acs_adults(raw_dir)["age"].to_numpy()
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
    us = _us_demographics(raw_dir).loc["US"]
    acs = _acs_adults(raw_dir)
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
    demographics = _us_demographics(raw_dir).drop(index="PR")
    education = _education_shares(demographics)
    adults_over_25 = demographics[_EDUCATION_COUNTS].sum(axis=1)
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
    pums = _read(raw_dir, _PUMS, usecols=["NP", "NRC", "AGEHOH", "WGTP"])
    us = _us_demographics(raw_dir).loc["US"]
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
    anes = _anes(raw_dir, 1996, 2012, required=("pid7", "incomeperc"))
    anes["income_band"] = anes["incomeperc"].map(_ANES_INCOME_BAND)
    known = anes["urbanism"].notna()
    anes["urbanicity"] = np.where(known, anes["urbanism"].fillna(1) - 1, -1).astype(int)
    dummies, terms = _dummies(
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
    coefficients, cutpoints = _fit_ordered_logit(
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
    anes = _anes(raw_dir, *_SEED_YEARS, required=("pid7", "distrust_govt"))
    anes["party"] = np.sign(anes["pid7"].to_numpy(int) - 4) + 1
    dummies, terms = _dummies(
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


BUILDERS = {
    "population_seed.csv": build_population_seed,
    "education_split.csv": build_education_split,
    "urbanicity_split.csv": build_urbanicity_split,
    "household_income_model.csv": build_household_income_model,
    "population_ages.csv": build_population_ages,
    "national_marginals.csv": build_national_marginals,
    "state_marginals.csv": build_state_marginals,
    "household_types.csv": build_household_types,
    "big_five_coefficients.csv": build_big_five_coefficients,
    "big_five_residual_covariance.csv": build_big_five_residual_covariance,
    "party_id_model.csv": build_party_id_model,
    "trust_government_model.csv": build_trust_government_model,
}


_EDUCATION_COUNTS = [
    "Less than a high school diploma 2014-18",
    "High school diploma only 2014-18",
    "Some college or associate's degree 2014-18",
    "Bachelor's degree or higher 2014-18",
]


def _read(raw_dir: Path, name: str, **kwargs: object) -> pd.DataFrame:
    """One raw file of the data directory."""
    return pd.read_csv(Path(raw_dir) / name, **kwargs)


def _us_demographics(raw_dir: Path) -> pd.DataFrame:
    """The state demographics file indexed by postal abbreviation (``US`` for the nation)."""
    return _read(raw_dir, _DEMOGRAPHICS).set_index("State")


def _education_shares(demographics: pd.DataFrame) -> pd.DataFrame:
    """Education shares of adults 25+ per row, columns in category order."""
    counts = demographics[_EDUCATION_COUNTS].to_numpy(float)
    return pd.DataFrame(
        counts / counts.sum(axis=1, keepdims=True),
        index=demographics.index,
        columns=list(CATEGORIES["education"]),
    )


def _acs_adults(raw_dir: Path) -> pd.DataFrame:
    """ACS 2012 sample persons aged 18+ coded with the seed's labels (age capped at 90)."""
    acs = _read(raw_dir, _ACS)
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


def _anes(
    raw_dir: Path, first_year: int, last_year: int, required: tuple[str, ...] = ()
) -> pd.DataFrame:
    """ANES respondents aged 18+ of the given years, with education and race present.

    ``age_band``, ``race`` (index into :data:`ANES_RACES`) and ``education`` are codes; the
    other columns are ANES's own.
    """
    anes = _read(raw_dir, _ANES)
    anes = anes[anes["year"].between(first_year, last_year) & (anes["age"] >= 18)]
    anes = anes.dropna(subset=["educat", "race4", *required]).copy()
    anes["age_band"] = age_band_of(anes["age"].to_numpy())
    anes["race"] = anes["race4"].astype(int) - 1
    anes["education"] = anes["educat"].astype(int).map(_ANES_EDUCATION)
    return anes


def _conditional_shares(
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


def _dummies(
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


def _fit_ordered_logit(
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


def _fit_interval_probit(
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


def _log_income_sd(raw_dir: Path) -> float:
    """Spread of log household income: half the weighted 16th-84th percentile range (PUMS)."""
    pums = _read(raw_dir, _PUMS, usecols=["HINCP", "ADJINC", "WGTP"])
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
    medsl = _read(raw_dir, _MEDSL)
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
    anes = _anes(raw_dir, 1978, 2000, required=("urbanism",))
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
    bfi = _read(raw_dir, _BFI)
    keying = _read(raw_dir, _BFI_DICTIONARY, index_col=0)["Keying"]
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
    education = _education_shares(_us_demographics(raw_dir)).loc["US"].to_numpy()
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


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Run every builder on ``raw_dir`` and write its table into ``out_dir``.

    Returns:
        The paths written.
    """
    raw_dir = Path(raw_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        path = out_dir / name
        builder(raw_dir).to_csv(path, index=False, float_format="%.6g")
        written.append(path)
    return written

