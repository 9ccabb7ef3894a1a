"""Parameter files: written and read whole, applied to a scenario, refused when they do not fit."""

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from scripted_model import ScriptedModel

from helpers import MOBILITY, PROMPTS, signals
from simulator.cognition import make_engine
from simulator.cognition.cells import PopulationCells
from simulator.cognition.language_engine import LanguageEngine
from simulator.cognition.personas import PERSONA_ATTRIBUTES, Combination
from simulator.errors import ScenarioError
from simulator.fitted_parameters import (
    FittedParameters,
    FittedValue,
    ParameterFileError,
    checksum,
    parameters_table,
)
from simulator.population import Population
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def fitted(*values, engine="rules"):
    return FittedParameters(engine, tuple(FittedValue(name, value, prior, 0.1, 0.8, True)
                                          for name, value, prior in values), {"regions": ["FRA"]})


WORKPLACES = ("behaviours.workplaces.policy.c2_workplace_closing", -2.5, -1.4)


def scenario_file(tmp_path, parameters, engine="rules"):
    data = yaml.safe_load((ROOT / "scenarios" / "covid_country_2020.yaml").read_text())
    data["engine"] = {"name": engine, "parameters": str(parameters)}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_round_trip(tmp_path):
    written = fitted(WORKPLACES, ("engine.fatigue_weeks", 30.0, 52.0))
    path = written.save(tmp_path / "p.json")
    assert FittedParameters.load(path) == written
    assert json.loads(path.read_text())["format"] == "socialtwin.FittedParameters/1"
    lines = parameters_table(written)
    assert "| behaviours.workplaces.policy.c2_workplace_closing | -1.4 | -2.5 |" in lines[2]


def test_a_scenario_takes_the_files_values_over_its_priors(tmp_path):
    path = fitted(WORKPLACES, ("engine.fatigue_weeks", 30.0, 52.0), ("dynamics.habit", 0.6, 0.4),
                  ("behaviours.parks.baseline", 0.3, 0.4)).save(tmp_path / "p.json")
    s = load_scenario(scenario_file(tmp_path, path))
    workplaces = next(b for b in s.behaviours if b.name == "workplaces")
    parks = next(b for b in s.behaviours if b.name == "parks")
    assert workplaces.rules.policy["c2_workplace_closing"] == -2.5
    assert workplaces.rules.policy["c6_stay_at_home_requirements"] == -0.7  # a prior kept
    assert parks.rules.baseline == 0.3 and s.engine.options.fatigue_weeks == 30.0
    assert s.dynamics.habit == 0.6 and s.dynamics.peer_weight == 0.25
    # a changed scenario is validated again and keeps them
    assert s.replace(population_size=100).dynamics.habit == 0.6
    # applied without a file, the same
    priors = load_scenario(ROOT / "scenarios" / "covid_country_2020.yaml").with_engine("rules")
    applied = FittedParameters.load(path).applied_to(priors)
    assert applied.behaviours == s.behaviours and applied.dynamics == s.dynamics


@pytest.mark.parametrize("case", ["other engine", "undeclared weight", "unknown behaviour",
                                  "not a parameter file", "not finite", "missing"])
def test_a_file_that_does_not_fit_is_refused_by_name(tmp_path, case):
    engine = "local" if case == "other engine" else "rules"
    path = tmp_path / "p.json"
    if case == "undeclared weight":
        fitted(("behaviours.workplaces.policy.c9_travel", 1.0, 0.0)).save(path)
    elif case == "unknown behaviour":
        fitted(("behaviours.flying.baseline", 0.5, 0.5)).save(path)
    elif case == "not a parameter file":
        path.write_text('{"alpha": 1}')
    elif case == "not finite":
        path.write_text(json.dumps({"format": "socialtwin.FittedParameters/1", "engine": "rules",
                                    "parameters": [{"name": "dynamics.habit", "value": None,
                                                    "prior": 0.4}]}))
    elif case != "missing":
        fitted(WORKPLACES).save(path)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(scenario_file(tmp_path, path, engine))
    message = str(raised.value)
    assert "engine.parameters" in message
    expected = {"other engine": "rules engine", "undeclared weight": "c9_travel",
                "unknown behaviour": "flying", "not a parameter file": "not a parameter file",
                "not finite": "dynamics.habit", "missing": "does not exist"}[case]
    assert expected in message


def test_checksum(tmp_path):
    path = fitted(WORKPLACES).save(tmp_path / "p.json")
    assert len(checksum(path)) == 64 and checksum(path) == checksum(path)
    with pytest.raises(ParameterFileError):
        FittedParameters.load(tmp_path / "absent.json")


def test_a_file_is_read_again_only_when_it_changed(tmp_path):
    from simulator.fitted_parameters import read_parameters

    path = fitted(WORKPLACES).save(tmp_path / "p.json")
    first = read_parameters(path)
    assert read_parameters(path) is first  # the same version: not read again
    fitted(WORKPLACES, ("dynamics.habit", 0.6, 0.4)).save(path)
    again = read_parameters(path)
    assert again is not first and again.by_name()["dynamics.habit"] == 0.6


class PersonaScriptedModel(ScriptedModel):
    """The scripted model, with answers that also differ from persona to persona."""

    def yes(self, prompt):
        shift = (zlib.crc32(prompt.split("Situation this week:")[0].encode()) % 200) / 100 - 1
        p = super().yes(prompt)
        return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + shift)))


def test_a_language_engines_file_sets_how_its_answers_combine(tmp_path):
    path = fitted(("engine.logit_scale", 1.6, 1.0), ("engine.contrast_weights.age_band", 0.4, 1.0),
                  ("dynamics.habit", 0.5, 0.4), engine="local").save(tmp_path / "p.json")
    s = load_scenario(scenario_file(tmp_path, path, "local"))
    options = s.engine.options
    assert options.logit_scale == 1.6 and s.dynamics.habit == 0.5
    assert options.contrast_weights.age_band == 0.4 and options.contrast_weights.sex == 1.0
    combination = Combination({**dict.fromkeys(PERSONA_ATTRIBUTES, 1.0), "age_band": 0.4}, 1.6)
    engine = make_engine("local", options, s.policy.indicators, tmp_path / "cache.sqlite")
    assert engine.combination == combination
    engine.close()
    # the cells' answers are the design's answers combined with the file's values
    cells = PopulationCells.build(Population.synthesize("US_GA", 2000,
                                                        np.random.default_rng(5)), 15)
    scripted = LanguageEngine(PersonaScriptedModel(), options.to_elicitation(),
                              combination=options.to_combination())
    answers, _, decisions = cells.answers(scripted, signals(), MOBILITY, PROMPTS)
    np.testing.assert_array_equal(
        answers, cells.design.combine(cells.weights, decisions.probabilities, combination))
    priors = cells.design.combine(cells.weights, decisions.probabilities)
    assert np.abs(answers - priors).max() > 0.01
    # the same file on a rules scenario, and a weight of an attribute no persona shows: refused
    with pytest.raises(ScenarioError, match="local engine"):
        load_scenario(scenario_file(tmp_path, path, "rules"))
    fitted(("engine.contrast_weights.shoe_size", 0.4, 1.0), engine="local").save(path)
    with pytest.raises(ScenarioError, match="contrast_weights.shoe_size"):
        load_scenario(scenario_file(tmp_path, path, "local"))
