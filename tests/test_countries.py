"""A country that exists only in a folder of raw upstream files is run and evaluated end to end.

New Zealand's rows are copied from the shared world files, unchanged, into a temporary
``--data-dir`` in their upstream layouts (OxCGRT classic, OWID mobility with its dd-mm-YYYY
dates, JHU counts as OxCGRT time series, OWID vaccinations, CRU normals), and New Zealand is
removed from the shipped tables for the test, so nothing shipped can stand in for the files.
Liechtenstein comes along: it has policy and mobility but no population data.
"""

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from shared_files import (
    CRU_NORMALS,
    JHU_CASES,
    JHU_DEATHS,
    WORLD_OWID_MOBILITY,
    WORLD_OXCGRT,
    WORLD_VACCINATIONS,
    needs_shared,
)

import simulator.sources.observed as observed
from simulator.sources import ObservedData, load_observed
from socialtwin.main import main

pytestmark = [needs_shared, pytest.mark.slow]
SCENARIO = str(Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml")
COUNTRIES = {"NZL": "New_Zealand", "LIE": "Liechtenstein"}
FILES = {  # source file -> (column holding the country, value per country code)
    WORLD_OXCGRT: ("CountryCode", lambda code: code),
    WORLD_OWID_MOBILITY: ("Code", lambda code: code),
    JHU_CASES: ("country_code", lambda code: code),
    JHU_DEATHS: ("country_code", lambda code: code),
    WORLD_VACCINATIONS: ("Code", lambda code: code),
    CRU_NORMALS: ("country", lambda code: COUNTRIES[code]),
}


def copy_rows(source, target, column, values):
    """The header and the lines of ``source`` whose ``column`` is one of ``values``, unchanged."""
    with source.open(newline="", encoding="utf-8-sig") as handle:
        lines = handle.read().splitlines(keepends=True)
    position = next(csv.reader([lines[0]])).index(column)
    kept = [line for line in lines[1:] if next(csv.reader([line]))[position] in values]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(lines[0] + "".join(kept))


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    for source, (column, value) in FILES.items():
        copy_rows(source, folder / source.parent.name / source.name, column,
                  {value(code) for code in COUNTRIES})
    return folder


@pytest.fixture
def without_shipped_countries(monkeypatch):
    shipped = observed._shipped()
    kept = ObservedData(**{name: getattr(shipped, name)[
        ~getattr(shipped, name)["region"].isin(COUNTRIES)] for name in observed.TABLE_FILES})
    monkeypatch.setattr(observed, "_shipped", lambda: kept)


def test_the_shipped_tables_no_longer_have_the_country(without_shipped_countries, capsys,
                                                       tmp_path):
    assert "NZL" not in load_observed().regions
    status = main(["run", SCENARIO, "--region", "NZL", "--engine", "rules", "--agents", "200",
                   "--quiet", "--out", str(tmp_path / "run")])
    assert status == 2
    assert "policy.source: no OxCGRT data for NZL in the shipped tables" in \
        capsys.readouterr().err


def test_run_from_the_data_dir(without_shipped_countries, raw_dir, tmp_path, capsys):
    out = tmp_path / "nzl"
    status = main(["run", SCENARIO, "--region", "New Zealand", "--engine", "rules", "--agents",
                   "500", "--quiet", "--data-dir", str(raw_dir), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "calibrated: test macro RMSE" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["region"] == "NZL" and manifest["missing_inputs"] == []
    assert "race" not in manifest["population_columns"]
    assert manifest["population_max_abs_error"] < 0.03
    timeline = pd.read_csv(out / "timeline.csv", parse_dates=["date"]).set_index("date")
    assert timeline.loc["2021-01-11", "temperature_f"] > timeline.loc["2020-07-13",
                                                                      "temperature_f"] + 10
    assert timeline.loc["2020-04-06", "c6_stay_at_home_requirements"] >= 2  # alert level 4
    assert (out / "calibration_table.csv").is_file()
    assert (out / "plots" / "calibration.png").is_file()
    assert "## Calibration" in (out / "report.md").read_text()


def test_evaluate_from_the_data_dir(without_shipped_countries, raw_dir, capsys):
    status = main(["evaluate", "--engine", "rules", "--regions", "world", "--data-dir",
                   str(raw_dir), "--agents", "300", "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["regions"] == 1 and set(result["per_region"]) == {"NZL"}
    assert result["excluded"] == {"LIE": "no population data (UN WPP has no age-by-sex figures "
                                         "for it)"}
    assert {"twin[rules]", "gbm", "persistence", "gbm_regions"} <= set(result["macro_rmse"])
    assert result["per_region"]["NZL"]["twin[rules]"] == pytest.approx(
        result["macro_rmse"]["twin[rules]"])
    status = main(["evaluate", "--engine", "rules", "--regions", "NZL,LIE", "--data-dir",
                   str(raw_dir), "--agents", "300"])
    assert status == 2
    assert "LIE: no population data" in capsys.readouterr().err


def test_a_data_dir_with_policy_and_mobility_only_runs_and_calibrates(
        without_shipped_countries, raw_dir, tmp_path, capsys):
    bare = tmp_path / "bare"
    for source in (WORLD_OXCGRT, WORLD_OWID_MOBILITY):
        target = bare / source.parent.name / source.name
        target.parent.mkdir(parents=True)
        target.write_text((raw_dir / source.parent.name / source.name).read_text())
    out = tmp_path / "run"
    status = main(["run", SCENARIO, "--region", "NZL", "--engine", "rules", "--agents", "300",
                   "--quiet", "--no-probe", "--data-dir", str(bare), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "missing input: NZL has no observed case counts" in printed
    assert "calibrated: test macro RMSE" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("temperature_f" in note for note in manifest["calibration"]["notes"])
    assert "no observed temperature_f" in (out / "report.md").read_text()


def test_an_oxcgrt_file_without_its_index_or_its_e_and_h_columns_runs_and_calibrates(
        without_shipped_countries, raw_dir, tmp_path, capsys):
    thin = tmp_path / "thin"
    policy = pd.read_csv(raw_dir / WORLD_OXCGRT.parent.name / WORLD_OXCGRT.name, dtype=str)
    dropped = [c for c in policy.columns if c.startswith(("StringencyIndex", "E1_", "E2_", "H2_",
                                                          "H3_", "H7_", "H8_"))]
    assert any(c.startswith("StringencyIndex") for c in dropped) and len(dropped) > 6
    (thin / "policy").mkdir(parents=True)
    policy.drop(columns=dropped).to_csv(thin / "policy" / WORLD_OXCGRT.name, index=False)
    (thin / "mobility").mkdir()
    (thin / "mobility" / WORLD_OWID_MOBILITY.name).write_text(
        (raw_dir / WORLD_OWID_MOBILITY.parent.name / WORLD_OWID_MOBILITY.name).read_text())
    status = main(["run", SCENARIO, "--region", "NZL", "--engine", "rules", "--agents", "300",
                   "--quiet", "--no-probe", "--data-dir", str(thin), "--out",
                   str(tmp_path / "run")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "calibrated: test macro RMSE" in printed
    notes = json.loads((tmp_path / "run" / "manifest.json").read_text())["calibration"]["notes"]
    assert any("stringency_index" in note and "formula" in note for note in notes)
    assert any("e1_income_support" in note for note in notes)
