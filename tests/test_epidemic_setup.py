"""A run with a simulated epidemic: fitted on the observed path first, recorded, written out."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.epidemic.setup import FIT_AGENTS, fit_scenario_epidemic
from simulator.errors import ScenarioError
from simulator.outputs import write_run
from simulator.run import run_scenario
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "covid_us_2020_epidemic.yaml"


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario(SCENARIO).replace(population_size=800, region="US_NY")
    return run_scenario(scenario, progress=False, agent_views=False)


def test_the_run_records_the_fit_and_the_simulated_beside_the_observed_cases(run):
    record = run.manifest["epidemic"]
    assert record["context"] == "simulated" and record["fit_until"] == "2020-12-31"
    assert record["fit_agents"] == FIT_AGENTS and record["converged"]
    assert 0.3 < record["reproduction_number"] < 6 and 0 < record["rmse_log_cases"] < 1.0
    table = run.epidemic
    assert list(table.columns) == ["tick", "date", "region", "simulated_cases_per_100k",
                                   "observed_cases_per_100k", "case_growth",
                                   "contact_multiplier", "transmission_multiplier",
                                   "susceptible"]
    np.testing.assert_allclose(table["transmission_multiplier"],
                               table["contact_multiplier"] ** record["elasticity"], rtol=1e-4)
    np.testing.assert_allclose(table["observed_cases_per_100k"],
                               run.timeline["new_cases_per_100k"])
    # the fit's window: the simulated cases follow the observed ones on log scale
    train = table["date"] <= pd.Timestamp("2020-12-31")
    error = np.log1p(table["simulated_cases_per_100k"]) - np.log1p(
        table["observed_cases_per_100k"])
    assert np.sqrt(np.mean(error[train] ** 2)) < 1.0


def test_the_run_folder_holds_the_epidemic_table_plot_and_report_section(run, tmp_path):
    folder = write_run(run, tmp_path / "run")
    written = pd.read_csv(folder / "epidemic.csv")
    assert len(written) == len(run.epidemic)
    assert (folder / "plots" / "epidemic.png").stat().st_size > 10_000
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "epidemic.csv" in manifest["files"] and manifest["epidemic"]["fitted_ticks"] > 30
    assert "## Epidemic in the loop" in (folder / "report.md").read_text()


def test_an_observed_epidemic_run_has_no_epidemic_table():
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml").with_engine(
        "rules").replace(population_size=200, period={"start": "2020-03-01",
                                                      "end": "2020-05-31"})
    plain = run_scenario(scenario, progress=False, agent_views=False)
    assert plain.epidemic is None and "epidemic" not in plain.manifest


def test_a_region_without_case_counts_in_the_window_is_refused(monkeypatch):
    scenario = load_scenario(SCENARIO).replace(population_size=200)

    def no_cases(scenario, dates):
        frame = pd.DataFrame({"temperature_f": np.full(len(dates), 50.0)})
        return frame, ()

    monkeypatch.setattr("simulator.policy._context_frame", no_cases)
    from simulator.cognition import make_engine
    engine = make_engine("rules", scenario.engine.options, scenario.policy.indicators)
    with pytest.raises(ScenarioError, match="no observed case counts"):
        fit_scenario_epidemic(scenario, engine)
    monkeypatch.setattr("simulator.run.TwinModel", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(ScenarioError, match="no observed case counts"):
        run_scenario(scenario, progress=False)
