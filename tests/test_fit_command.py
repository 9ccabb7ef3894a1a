"""``socialtwin fit`` and ``evaluate --fit``: a parameter file a scenario runs with; bad flags."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulator.scenario import load_scenario
from socialtwin.main import main

ROOT = Path(__file__).resolve().parents[1]
COUNTRY = ROOT / "scenarios" / "covid_country_2020.yaml"
US = ROOT / "scenarios" / "covid_us_2020.yaml"


@pytest.mark.parametrize("flags, expected", [
    (["--trials", "0"], "--trials: 0"),
    (["--restarts", "-1"], "--restarts: -1"),
    (["--agents", "0"], "--agents: 0"),
    (["--engine", "litellm:nosuchprovider/x"], "litellm does not know the provider"),
    (["--engine", "local", "--regions", "Atlantis"], "Atlantis"),
    (["--engine", "local", "--pooling", "regions"], "--pooling regions: only for the rules"),
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
    (["--fit"], "fit the local engine's combination with"),
    (["--objective", "weeks"], "--objective: only with --fit"),
    (["--pooling", "regions"], "--pooling: only with --fit"),
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


@pytest.mark.slow
def test_fit_of_the_local_engine_writes_a_file_a_local_run_uses(tmp_path, capsys, monkeypatch):
    """The embedded model asked through a cache of the test's own, over 13 weeks of the nation.

    Five personas a tick (the base, and the contrasts of age and sex). The runs with the fitted
    file and without ask the same questions over the same weeks (the period decides what the
    prompts show), so the cache answers them.
    """
    monkeypatch.setenv("SOCIALTWIN_CACHE", str(tmp_path / "cache.sqlite"))
    data = yaml.safe_load(US.read_text())
    data.update(period={"start": "2020-03-01", "end": "2020-05-31"},
                engine={**data["engine"], "personas": 5})
    scenario = tmp_path / "us.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "local.json"
    assert main(["fit", str(scenario), "--engine", "local", "--regions", "USA", "--trials", "3",
                 "--agents", "200", "--out", str(out), "--json", "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["engine"] == "local" and printed["fit"]["regions"] == ["USA"]
    asked = printed["fit"]["asked"]
    assert asked["llm_calls"] > 0 and asked["failed_answers"] == 0
    values = {p["name"]: p["value"] for p in printed["parameters"]}
    assert set(values) == {"engine.logit_scale", "engine.contrast_weights.age_band",
                           "engine.contrast_weights.sex", "dynamics.habit",
                           "dynamics.peer_weight", "dynamics.heterogeneity"}
    # the weeks with the file and without: the model's answers are the same, the agents' are not
    data.update(population={"size": 300})
    runs = {}
    for label, engine in (("priors", data["engine"]),
                          ("fitted", {**data["engine"], "parameters": str(out)})):
        scenario.write_text(yaml.safe_dump({**data, "engine": engine}))
        runs[label] = tmp_path / label
        assert main(["run", str(scenario), "--out", str(runs[label]), "--no-probe"]) == 0
    assert load_scenario(scenario).engine.options.logit_scale == values["engine.logit_scale"]
    manifest = json.loads((runs["fitted"] / "manifest.json").read_text())
    recorded = manifest["parameters"]["values"]
    assert recorded["engine.logit_scale"]["fitted"] == values["engine.logit_scale"]
    assert manifest["llm_calls"] == 0  # the fit asked these weeks already: the same questions
    assert "## Fitted parameters" in (runs["fitted"] / "report.md").read_text()
    read = {label: {name: pd.read_csv(folder / f"{name}.csv")
                    for name in ("persona_answers", "decisions")}
            for label, folder in runs.items()}
    pd.testing.assert_frame_equal(read["priors"]["persona_answers"],
                                  read["fitted"]["persona_answers"])
    assert not read["priors"]["decisions"].equals(read["fitted"]["decisions"])
