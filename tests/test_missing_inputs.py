"""Regions that lack one context input run and calibrate, the input left out with a note."""

from pathlib import Path

import pytest

from socialtwin.main import main

SCENARIO = str(Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml")


@pytest.mark.parametrize(("region", "lacks"), [("TWN", "temperature_f"),
                                               ("PRI", "vaccinated_pct"),
                                               ("ABW", "temperature_f")])
def test_a_shipped_region_without_an_input_runs_and_calibrates(region, lacks, tmp_path, capsys):
    status = main(["run", SCENARIO, "--region", region, "--engine", "rules", "--agents", "300",
                   "--quiet", "--no-probe", "--out", str(tmp_path / region)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert f"missing input: {region} has no observed" in printed and f"({lacks})" in printed
    assert "calibrated: test macro RMSE" in printed
    assert (tmp_path / region / "calibrator.json").is_file()
    assert f"no observed {lacks}" in (tmp_path / region / "report.md").read_text()


def test_the_protocol_over_a_region_without_an_input_runs(capsys):
    assert main(["evaluate", "--engine", "rules", "--regions", "TWN", "--agents", "300",
                 "--scenario", SCENARIO, "--json"]) == 0
    assert "no observed temperature_f" in capsys.readouterr().out
