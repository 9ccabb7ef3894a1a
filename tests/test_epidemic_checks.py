"""A simulated epidemic needs observed context, behaviours with contacts and a fit window."""

from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020_epidemic.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.mark.parametrize("changes, field, words", [
    ({"context": {"source": "none", "epidemic": "simulated"}}, "context.epidemic",
     "context.source is none"),
    ({"context": {"source": "observed", "epidemic": "simulated",
                  "epidemic_fit_until": "2020-03-10"}}, "context.epidemic_fit_until",
     "fewer than 28 days"),
    ({"context": {"source": "observed", "epidemic": "simulated",
                  "epidemic_fit_until": "2022-01-01"}}, "context.epidemic_fit_until",
     "after the period's end"),
    ({"behaviours": [{"name": "walks", "question": "Will you walk?", "contacts": 0.0}]},
     "behaviours", "sum to 0"),
    ({"behaviours": [{"name": "a", "question": "A?", "contacts": 0.7},
                     {"name": "b", "question": "B?", "contacts": 0.7}]},
     "behaviours", "sum to 1.4"),
])
def test_what_cannot_be_simulated_is_refused_naming_the_field(scenario, changes, field, words):
    with pytest.raises(ScenarioError) as error:
        scenario.replace(**changes)
    assert error.value.field == field and words in str(error.value)


def test_the_default_is_the_observed_epidemic_and_the_example_simulates(scenario):
    plain = load_scenario(SCENARIO.parent / "covid_us_2020.yaml")
    assert plain.context.epidemic == "observed" and plain.context.epidemic_fit_until is None
    assert scenario.context.epidemic == "simulated"
