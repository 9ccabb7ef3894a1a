"""The checks every loader shares: truncated, empty, malformed and unknown files."""

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
