"""The checks every loader shares: truncated, empty, malformed, unknown and out-of-domain files."""

from pathlib import Path

import pandas as pd
import pytest
from shared_files import (
    GOOGLE,
    NYT_STATES,
    OI_NATIONAL,
    OI_STATES,
    OXCGRT,
    VACCINATIONS,
    needs_shared,
)

from simulator.sources import (
    DatasetError,
    load_cases,
    load_mobility,
    load_monthly_temperatures,
    load_oxcgrt,
    load_vaccinations,
)
from simulator.sources.reading import parse_dates


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


CORRUPTIBLE = [
    (load_oxcgrt, OXCGRT, "Date"),
    (load_mobility, GOOGLE, "date"),
    (load_mobility, OI_STATES, "date"),
    (load_cases, NYT_STATES, "date"),
    (load_vaccinations, VACCINATIONS, "date"),
]


def _copy_head(source: Path, target: Path, rows: int = 400) -> list[str]:
    lines = _lines(source)[: rows + 1]
    target.write_text("".join(lines))
    return lines


@needs_shared
@pytest.mark.parametrize(("loader", "source", "date_column"), CORRUPTIBLE)
def test_corrupted_files_raise_clear_errors(tmp_path, loader, source, date_column):
    head = _copy_head(source, tmp_path / "good.csv")
    assert len(loader(tmp_path / "good.csv")) > 0

    frame = pd.read_csv(tmp_path / "good.csv", dtype=str, keep_default_na=False)
    missing = tmp_path / "missing_column.csv"
    frame.drop(columns=date_column).to_csv(missing, index=False)
    with pytest.raises(
        DatasetError, match=rf"missing_column\.csv.*missing column.*'{date_column}'.*expected"
    ):
        loader(missing)

    truncated = tmp_path / "truncated.csv"
    truncated.write_text("".join(head[:-1]) + head[-1][: len(head[-1]) // 3])
    with pytest.raises(DatasetError, match=r"truncated\.csv: truncated file"):
        loader(truncated)

    garbage = tmp_path / "garbage_date.csv"
    bad = frame.copy()
    bad.loc[5, date_column] = "31/02/2020x"
    bad.to_csv(garbage, index=False)
    with pytest.raises(
        DatasetError, match=r"garbage_date\.csv.*unparsable dates.*31/02/2020x.*line"
    ):
        loader(garbage)

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match=r"empty\.csv: empty file"):
        loader(empty)

    header_only = tmp_path / "header_only.csv"
    header_only.write_text(head[0])
    with pytest.raises(DatasetError, match=r"header_only\.csv: no data rows"):
        loader(header_only)


@needs_shared
@pytest.mark.parametrize(
    ("loader", "source", "column"),
    [
        (load_oxcgrt, OXCGRT, "C1_School closing"),
        (load_oxcgrt, OXCGRT, "StringencyIndex"),
        (load_mobility, GOOGLE, "parks_percent_change_from_baseline"),
        (load_mobility, OI_NATIONAL, "gps_workplaces"),
        (load_cases, NYT_STATES, "cases"),
    ],
)
def test_non_numeric_values_raise(tmp_path, loader, source, column):
    _copy_head(source, tmp_path / "good.csv")
    frame = pd.read_csv(tmp_path / "good.csv", dtype=str, keep_default_na=False)
    frame.loc[7, column] = "high"
    path = tmp_path / "non_numeric.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(
        DatasetError, match=rf"non_numeric\.csv: column '{column}' has non-numeric.*'high'.*line"
    ):
        loader(path)


def test_unknown_layouts_and_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_oxcgrt(tmp_path / "absent.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="not a known mobility layout"):
        load_mobility(other)
    with pytest.raises(DatasetError, match=r"missing column\(s\) 'CountryCode', 'Date'"):
        load_oxcgrt(other)
    duplicate = tmp_path / "us.csv"
    duplicate.write_text("date,cases,deaths\n2020-03-01,1,0\n2020-03-01,2,0\n")
    with pytest.raises(DatasetError, match="duplicate rows for region USA on 2020-03-01"):
        load_cases(duplicate)


def test_day_first_dates_of_owid_grapher_copies(tmp_path):
    parsed = parse_dates(pd.Series(["17-02-2020", "01-03-2021"]), tmp_path / "x.csv", "date")
    assert parsed.tolist() == [pd.Timestamp("2020-02-17"), pd.Timestamp("2021-03-01")]
    assert parse_dates(pd.Series(["20200217"]), tmp_path / "x.csv", "Date")[0].day == 17
    with pytest.raises(DatasetError, match=r"unparsable dates \['17-02-2020'\].*DD-MM-YYYY"):
        parse_dates(pd.Series(["17-02-2020", "2020-02-18"]), tmp_path / "x.csv", "date")


_CATEGORIES = ("retail_and_recreation", "grocery_and_pharmacy", "parks", "transit_stations",
               "workplaces", "residential")
_GOOGLE = ",".join(f"{c}_percent_change_from_baseline" for c in _CATEGORIES)
_OXCGRT = ("CountryName,CountryCode,RegionName,RegionCode,Jurisdiction,Date,"
           "C6_Stay at home requirements,C6_Flag,StringencyIndex\n"
           "Aland,ALA,,,NAT_TOTAL,20200101,0,,10\n")
_MONTHS = ",".join(m.upper() for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"))

OUT_OF_DOMAIN = [
    (load_oxcgrt, "OxCGRT_latest.csv", _OXCGRT + "Aland,ALA,,,NAT_TOTAL,20200102,99,1,20\n",
     "column 'C6_Stay at home requirements', region ALA, 2020-01-02: 99 is out of range "
     "(allowed: a number from 0 to 3)"),
    (load_oxcgrt, "OxCGRT_latest.csv", _OXCGRT + "Aland,ALA,,,NAT_TOTAL,20200102,-3,1,20\n",
     "column 'C6_Stay at home requirements', region ALA, 2020-01-02: -3 is out of range"),
    (load_oxcgrt, "OxCGRT_latest.csv", _OXCGRT + "Aland,ALA,,,NAT_TOTAL,20200102,1,1,inf\n",
     "column 'StringencyIndex', region ALA, 2020-01-02: inf is not a finite number (allowed: a "
     "number from 0 to 100)"),
    (load_mobility, "Global_Mobility_Report.csv",
     f"country_region_code,country_region,sub_region_1,date,{_GOOGLE}\n"
     "DE,Germany,,2020-02-15,1000000000,2,3,4,5,6\n",
     "column 'retail_and_recreation_percent_change_from_baseline', region DEU, 2020-02-15: "
     "1e+09 is out of range (allowed: a number from -100 to 1000)"),
    (load_mobility, "Global_Mobility_Report.csv",
     f"country_region_code,country_region,sub_region_1,date,{_GOOGLE}\n"
     "DE,Germany,,2020-02-15,1,2,3,4,-5000,6\n",
     "column 'workplaces_percent_change_from_baseline', region DEU, 2020-02-15: -5000 is out "
     "of range"),
    (load_mobility, "Google Mobility - National - Daily.csv",
     "year,month,day," + ",".join(f"gps_{c}" for c in _CATEGORIES) + "\n"
     "2020,2,24,.01,.01,25,.01,.01,.01\n",
     "column 'gps_parks', region USA, 2020-02-24: 25 is out of range (allowed: a number from "
     "-1 to 10)"),
    (load_mobility, "changes-visitors-covid.csv",
     "Entity,Code,Day," + ",".join(_CATEGORIES) + "\nFrance,FRA,2020-02-17,1,2,inf,4,5,6\n",
     "column 'parks', region FRA, 2020-02-17: inf is not a finite number"),
    (load_cases, "us.csv", "date,cases,deaths\n2020-03-01,1,0\n2020-03-02,-5,0\n",
     "column 'cases', region USA, 2020-03-02: -5 is out of range (allowed: a finite number of "
     "at least 0)"),
    (load_vaccinations, "vaccinations.csv",
     "location,iso_code,date,people_vaccinated_per_hundred\nFrance,FRA,2021-01-01,250\n",
     "column 'people_vaccinated_per_hundred', region FRA, 2021-01-01: 250 is out of range "
     "(allowed: a number from 0 to 200)"),
    (load_monthly_temperatures, "crucy.csv",
     f"country,{_MONTHS}\nFrance,5,6,7,8,9,10,500,12,13,14,15,16\n",
     "column 'temperature_f', region FRA, month 7: 932 is out of range (allowed: a number from "
     "-100 to 150)"),
]


@pytest.mark.parametrize(("loader", "name", "text", "message"), OUT_OF_DOMAIN,
                         ids=[case[3].split(":")[0] for case in OUT_OF_DOMAIN])
def test_a_value_outside_its_columns_domain_names_file_column_region_and_date(
        tmp_path, loader, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DatasetError) as error:
        loader(path)
    assert str(error.value).startswith(f"{path}: {message}")
