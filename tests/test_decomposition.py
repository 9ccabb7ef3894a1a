"""The decomposition of a counterfactual: direct and through the epidemic add up to the total."""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from simulator.epidemic.decomposition import PARTS, decompose
from simulator.scenario import load_scenario
from simulator.sweep.transforms import Scale
from simulator.sweep.variants import Variant

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020_epidemic.yaml"


@pytest.fixture(scope="module")
def table():
    scenario = load_scenario(SCENARIO).replace(population_size=800)
    return decompose(scenario, Variant("no containment policy", (Scale(0.0),)),
                     (dt.date(2020, 3, 16), dt.date(2020, 5, 31)))


def test_the_parts_add_up_and_no_policy_means_more_outings(table):
    assert list(table.columns) == ["behaviour", *PARTS]
    np.testing.assert_allclose(table["direct"] + table["through_epidemic"], table["total"],
                               atol=1e-9)
    rows = table.set_index("behaviour")
    for behaviour in ("retail_and_recreation", "workplaces", "transit_stations"):
        assert rows.loc[behaviour, "factual"] < 0 < rows.loc[behaviour, "direct"]
        # without the rules more people go out, so more cases, and their fear takes some back
        assert rows.loc[behaviour, "through_epidemic"] < 0
        assert 0 < rows.loc[behaviour, "policy_share"]
    assert rows.loc["residential", "direct"] < 0


def test_a_variant_that_changes_nothing_has_no_effect():
    scenario = load_scenario(SCENARIO).replace(population_size=300, period={
        "start": "2020-03-01", "end": "2020-06-30"}, context={
        "source": "observed", "epidemic": "simulated", "epidemic_fit_until": "2020-06-30"})
    same = decompose(scenario, Variant("as observed"))
    np.testing.assert_allclose(same[["total", "direct", "through_epidemic"]], 0.0, atol=1e-9)
