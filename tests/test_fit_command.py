"""``socialtwin fit`` and ``evaluate --fit``: a parameter file a scenario runs with; bad flags."""

import json
from pathlib import Path

import pytest
import yaml

from socialtwin.main import main

ROOT = Path(__file__).resolve().parents[1]
COUNTRY = ROOT / "scenarios" / "covid_country_2020.yaml"


@pytest.mark.parametrize("flags, expected", [
    (["--trials", "0"], "--trials: 0"),
    (["--restarts", "-1"], "--restarts: -1"),
    (["--agents", "0"], "--agents: 0"),
    (["--engine", "local"], "local engine has no parameters"),
    (["--regions", "Atlantis"], "Atlantis"),
])
def test_bad_flags_are_refused_before_any_work(tmp_path, capsys, flags, expected):
    out = tmp_path / "p.json"
    assert main(["fit", str(COUNTRY), "--out", str(out), *flags]) == 2
    assert expected in capsys.readouterr().err and not out.exists()


def test_a_file_that_is_not_a_parameter_file_is_kept(tmp_path, capsys):
    mine = tmp_path / "notes.json"
    mine.write_text('{"mine": true}')
    assert main(["fit", str(COUNTRY), "--regions", "FRA", "--out", str(mine)]) == 2
    assert "parameter file" in capsys.readouterr().err
    assert mine.read_text() == '{"mine": true}'


@pytest.mark.parametrize("flags, expected", [
    (["--trials", "3"], "--trials: only with --fit"),
    (["--fit", "--trials", "0"], "--trials: 0"),
    (["--fit"], "local engine has no parameters"),
])
def test_evaluate_refuses_fit_flags_it_cannot_honour(capsys, flags, expected):
    assert main(["evaluate", "--scenario", str(COUNTRY), "--regions", "FRA", *flags]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.slow
def test_fit_writes_a_file_that_a_run_uses_and_records(tmp_path, capsys):
    out = tmp_path / "fitted.json"
    assert main(["fit", str(COUNTRY), "--regions", "FRA,IND", "--trials", "2", "--agents",
                 "200", "--out", str(out), "--json", "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["file"] == str(out) and printed["engine"] == "rules"
    assert printed["fit"]["regions"] == ["FRA", "IND"]
    data = yaml.safe_load(COUNTRY.read_text())
    data.update(region="FRA", engine={"name": "rules", "parameters": str(out)},
                population={"size": 300}, period={"start": "2020-03-01", "end": "2020-05-31"})
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    run = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(run)]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    values = manifest["parameters"]["values"]
    assert manifest["parameters"]["file"] == str(out) and len(values) == len(printed["parameters"])
    assert "## Fitted parameters" in (run / "report.md").read_text()
    # the same file again: replaced, as socialtwin wrote it
    assert main(["fit", str(COUNTRY), "--regions", "FRA", "--trials", "1", "--agents", "200",
                 "--out", str(out), "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.slow
def test_evaluate_fit_reports_the_fitted_twin_and_its_parameters(capsys):
    assert main(["evaluate", "--scenario", str(COUNTRY), "--engine", "rules", "--regions",
                 "FRA,IND,ESP", "--agents", "300", "--fit", "--trials", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    parameters = result["parameters"]
    assert set(parameters["values"]) == set(parameters["priors"])
    assert sorted(parameters["fit"]["regions"]) == ["ESP", "FRA", "IND"]
    assert "twin[rules]" in result["macro_rmse"]
