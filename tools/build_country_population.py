"""Build the country population tables of figures that ship in ``simulator/data``.

From the world population files of the shared data (``world/population``): adults by age group
and sex (UN WPP 2019), education by age (Barro-Lee), urban share (World Bank) and households
(UN DESA mean size, WPP share of adults). Only derived figures per country are written: sums of
age groups, shares, one mean. Sources, licences and the assumptions of each step:
``simulator/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.population.targets import AGE_BAND_STARTS, CATEGORIES, MAX_AGE, age_band_of
from simulator.sources.regions import region_table
from tools.raw_files import BARRO_LEE, HOUSEHOLDS, URBAN_SHARE, WPP_AGES, WPP_CODES
from tools.tables import write_tables

DATA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "data"
_YEAR = "2020"
ADULT_GROUPS = (18, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, MAX_AGE)
"""First age of each adult group written; 18-19 is 2/5 of WPP's 15-19 (ages spread evenly), and
90 stands for 90 and over."""

EDUCATION_SOURCE = {
    18: (2015, 15), 20: (2015, 15), 25: (2015, 25), 30: (2015, 25), 35: (2015, 35),
    40: (2015, 35), 45: (2015, 45), 50: (2015, 45), 55: (2015, 55), 60: (2015, 55),
    65: (2010, 55), 70: (2010, 55), 75: (2000, 55), 80: (2000, 55), 85: (1990, 55),
    MAX_AGE: (1990, 55),
}
"""Barro-Lee (year, first age of the 10-year group) whose attainment each 2020 age group takes.

Below 65 the same ages in 2015, Barro-Lee's latest year; from 65, the same birth cohorts when
they were 55-64 (version 3 stops at 64, and attainment changes little after 55)."""


def _iso3_of_m49(raw_dir: Path) -> pd.Series:
    table = pd.read_csv(raw_dir / WPP_CODES,
                        keep_default_na=False)
    table = table[table["iso3"] != ""]
    return table.set_index("country_code")["iso3"]


def _wpp_ages(raw_dir: Path) -> pd.DataFrame:
    """WPP 2019 population in 2020 (thousands) by ISO3 code, 5-year age group and sex."""
    codes = _iso3_of_m49(raw_dir)
    frames = []
    for sex, name in (("F", "female"), ("M", "male")):
        table = pd.read_csv(raw_dir / WPP_AGES[sex])
        table = table[table["country_code"].isin(codes.index)]
        frames.append(pd.DataFrame({
            "code": table["country_code"].map(codes).to_numpy(),
            "first": table["age"].str.extract(r"^(\d+)")[0].astype(int).to_numpy(),
            name: table[_YEAR].to_numpy(float),
        }).set_index(["code", "first"]))
    return pd.concat(frames, axis=1).reset_index()


def build_country_age_sex(raw_dir: Path) -> pd.DataFrame:
    """Adults by age group and sex in 2020, thousands (UN WPP 2019, medium estimate)."""
    ages = _wpp_ages(raw_dir)
    adults = ages[ages["first"] >= 15].copy()
    # 15-19 holds two adult years of five; ages spread evenly within a group.
    adults.loc[adults["first"] == 15, ["female", "male"]] *= 2 / 5
    adults["age"] = np.where(adults["first"] == 15, AGE_BAND_STARTS[0],
                             np.minimum(adults["first"], MAX_AGE))
    table = adults.groupby(["code", "age"], as_index=False)[["female", "male"]].sum()
    assert tuple(table["age"].unique()) == ADULT_GROUPS
    return table.round(3)


def build_country_households(raw_dir: Path) -> pd.DataFrame:
    """Mean household size (UN DESA 2022, the latest survey or census) and adults per person.

    Adults per person: WPP 2019's population aged 18 and over in 2020 over its total.
    """
    table = pd.read_csv(raw_dir / HOUSEHOLDS,
                        encoding="utf-8-sig", usecols=range(5))
    table.columns = ["country", "m49", "source", "reference_date", "mean_size"]
    table = table.dropna(subset=["m49", "mean_size", "reference_date"])
    # Reference dates are day/month/year, written 19/10/2015 or 1/7/10; the two-digit years run
    # from 1960 to 2021, which pandas would read as 1969-2068.
    day_first = table["reference_date"].str.strip()
    short = pd.to_datetime(day_first, format="%d/%m/%y", errors="coerce")
    short = short.where(short.dt.year <= 2021, short - pd.DateOffset(years=100))
    dates = pd.to_datetime(day_first, format="%d/%m/%Y", errors="coerce").fillna(short)
    table = table.assign(date=dates, mean_size=pd.to_numeric(table["mean_size"],
                                                             errors="coerce"))
    table = table.dropna(subset=["date", "mean_size"]).sort_values("date")
    latest = table.groupby("m49").tail(1)
    codes = _iso3_of_m49(raw_dir)
    latest = latest[latest["m49"].astype(int).isin(codes.index)]
    ages = _wpp_ages(raw_dir)
    persons = ages.groupby("code")[["female", "male"]].sum().sum(axis=1)
    adult = build_country_age_sex(raw_dir).groupby("code")[["female", "male"]].sum().sum(axis=1)
    frame = pd.DataFrame({
        "code": latest["m49"].astype(int).map(codes).to_numpy(),
        "mean_size": latest["mean_size"].to_numpy(),
        "reference_year": latest["date"].dt.year.to_numpy(),
        "data_source": latest["source"].str.strip().to_numpy(),
    })
    frame["adults_per_person"] = frame["code"].map(adult / persons).round(4)
    return frame.dropna().sort_values("code").reset_index(drop=True)


def _education_shares(barro_lee: pd.DataFrame) -> pd.DataFrame:
    """Barro-Lee attainment (percent) as shares of our four education levels."""
    secondary_only = barro_lee["ls"] - barro_lee["lsc"]
    tertiary_only = barro_lee["lh"] - barro_lee["lhc"]
    levels = pd.DataFrame({
        "less_than_high_school": barro_lee["lu"] + barro_lee["lp"] + secondary_only,
        "high_school": barro_lee["lsc"],
        "some_college": tertiary_only,
        "bachelor_or_higher": barro_lee["lhc"],
    }, index=barro_lee.index).clip(lower=0.0)
    return levels.div(levels.sum(axis=1), axis=0)


def build_country_education(raw_dir: Path) -> pd.DataFrame:
    """Shares of adults by education level within each age band (Barro-Lee v3, see above).

    Levels: no schooling, primary, and secondary not completed are less than high school;
    completed secondary is high school; tertiary not completed is some college; completed
    tertiary is bachelor or higher. Each age band weighs its 2020 age groups by WPP population.
    """
    barro_lee = pd.read_csv(raw_dir / BARRO_LEE)
    barro_lee = barro_lee.set_index(["WBcode", "year", "agefrom"])
    shares = _education_shares(barro_lee)
    ages = build_country_age_sex(raw_dir)
    ages["people"] = ages["female"] + ages["male"]
    rows = []
    for code, groups in ages[ages["code"].isin(shares.index.get_level_values(0))].groupby("code"):
        sources = [(code, *EDUCATION_SOURCE[age]) for age in groups["age"]]
        if not all(source in shares.index for source in sources):
            continue
        by_group = shares.loc[sources].to_numpy() * groups["people"].to_numpy()[:, None]
        band = age_band_of(groups["age"].to_numpy())
        for index, label in enumerate(CATEGORIES["age_band"]):
            total = by_group[band == index].sum(axis=0)
            rows.append({"code": code, "age_band": label,
                         **dict(zip(CATEGORIES["education"], total / total.sum(), strict=True))})
    return pd.DataFrame(rows).round(5)


def build_country_urbanicity(raw_dir: Path) -> pd.DataFrame:
    """Urban share of the population (World Bank SP.URB.TOTL.IN.ZS), the latest year to 2020."""
    table = pd.read_csv(raw_dir / URBAN_SHARE,
                        skiprows=4)
    nations = region_table()
    table = table[table["Country Code"].isin(nations.index[nations["country"] == nations.index])]
    years = [str(year) for year in range(2010, 2021)]
    values = table.set_index("Country Code")[years]
    latest = values.ffill(axis=1).iloc[:, -1].dropna()
    year = values.notna().iloc[:, ::-1].idxmax(axis=1).loc[latest.index].astype(int)
    return pd.DataFrame({"code": latest.index, "urban_share": (latest / 100).round(5).to_numpy(),
                         "year": year.to_numpy()}).sort_values("code").reset_index(drop=True)


BUILDERS = {
    "country_age_sex.csv": build_country_age_sex,
    "country_education.csv": build_country_education,
    "country_urbanicity.csv": build_country_urbanicity,
    "country_households.csv": build_country_households,
}


def build_all(raw_dir: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Run every builder on ``raw_dir`` and write its table into ``out_dir``."""
    return write_tables(BUILDERS, raw_dir, out_dir)
