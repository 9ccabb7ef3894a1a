"""A sweep with the epidemic simulated: each variant's own cases, banded, written and drawn."""

from pathlib import Path

import pandas as pd
import pytest

from simulator.scenario import load_scenario
from simulator.sweep.outputs import write_sweep
from simulator.sweep.runner import run_sweep
from simulator.sweep.transforms import Remove
from simulator.sweep.variants import Variant

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
VARIANTS = [Variant("as observed", dose=1.0),
            Variant("never", (Remove(("c6_stay_at_home_requirements",)),), dose=0.0)]


def _scenario(epidemic):
    scenario = load_scenario(SCENARIOS / "covid_us_2020_epidemic.yaml")
    return scenario.replace(population_size=300, period={"start": "2020-03-01",
                                                         "end": "2020-07-31"},
                            context={"source": "observed", "epidemic": epidemic,
                                     "epidemic_fit_until": "2020-07-31"})


@pytest.fixture(scope="module")
def sweep():
    return run_sweep(_scenario("simulated"), VARIANTS, seeds=[1, 2], progress=False)


def test_each_variant_carries_its_own_cases_with_a_band_across_seeds(sweep):
    cases = sweep.cases
    ticks = sweep.results["tick"].max() + 1
    assert len(cases) == 2 * ticks and set(cases["seeds"]) == {2}
    assert (cases["min"] <= cases["mean"]).all() and (cases["mean"] <= cases["max"]).all()
    totals = cases.groupby("variant")["mean"].sum()
    assert totals["never"] > totals["as observed"]
    never = cases[cases["variant"] == "never"]
    assert never["contact_multiplier"].mean() > cases.loc[
        cases["variant"] == "as observed", "contact_multiplier"].mean()


def test_the_folder_holds_the_cases_and_their_plot(sweep, tmp_path):
    folder = write_sweep(sweep, tmp_path / "sweep")
    written = pd.read_csv(folder / "cases.csv")
    assert len(written) == len(sweep.cases)
    assert (folder / "plots" / "cases.png").is_file()
    assert "## Cases" in (folder / "report.md").read_text()


def test_a_sweep_told_the_observed_epidemic_has_no_cases(tmp_path):
    plain = run_sweep(_scenario("observed"), VARIANTS, seeds=[1], progress=False)
    assert plain.cases is None
    folder = write_sweep(plain, tmp_path / "plain")
    assert not (folder / "cases.csv").exists()
    assert "keeps the observed epidemic" in (folder / "report.md").read_text()
