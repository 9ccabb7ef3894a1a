"""Fitting a language engine's combination: its evaluation is the run's, a known scale recovered.

The fast tests feed synthetic persona answers into the evaluation (no language model); the
engine path with the embedded model is in ``tests/test_fit_command.py`` (slow).
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calibration.evaluate import SIM_PREFIX
from calibration.fit_objective import FitObjective
from calibration.language_fit import (
    LIMIT,
    Blend,
    CombinationSpace,
    LanguageTwin,
    PersonaAnswers,
    check_language_engine,
    fit_language,
)
from simulator.cognition.cells import PopulationCells
from simulator.cognition.personas import Combination
from simulator.errors import UsageError
from simulator.policy import PolicyTimeline
from simulator.population import Population
from simulator.random_streams import random_stream
from simulator.scenario import load_scenario
from simulator.sources import MOBILITY_CATEGORIES, load_observed

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "covid_us_2020.yaml"
REGIONS = ["US_CA", "US_TX"]
AGENTS = 300
TICKS = 43
TRUE_SCALE = 2.2


def synthetic_answers(scenario, region: str) -> PersonaAnswers:
    """A region's agents as a run makes them, with made-up persona answers that follow a policy."""
    s = scenario.replace(region=region, population_size=AGENTS, seed=0)
    population = Population.synthesize(region, AGENTS, random_stream(0, "population"))
    cells = PopulationCells.build(population, s.engine.personas)
    dates = PolicyTimeline.from_scenario(s).dates[:TICKS]
    draws = np.random.default_rng(len(region))
    personas, behaviours = len(cells.design.personas), len(s.behaviours)
    lockdown = np.concatenate([[0.0], 1 / (1 + np.exp(-(np.arange(TICKS) - 4.0)))
                               * (1 - 0.5 * np.sin(np.arange(TICKS) / 5.0) ** 2)])
    logits = (draws.normal(1.0, 0.8, (personas, behaviours))
              + draws.normal(-2.5, 0.8, (personas, behaviours)) * lockdown[:, None, None])
    return PersonaAnswers(region, dates, logits, np.zeros(logits.shape, dtype=bool),
                          cells.design, cells.weights, cells.assignment,
                          np.asarray(population["conscientiousness"], dtype=float),
                          np.asarray(population["conformity"], dtype=float),
                          random_stream(0, "heterogeneity").standard_normal(
                              (AGENTS, behaviours)))


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def answers(scenario):
    return [synthetic_answers(scenario, region) for region in REGIONS]


def space_of(scenario, answers):
    return CombinationSpace(Blend.of(scenario), answers[0].design.attributes)


def test_cell_logits_are_the_runs_combination_of_the_answers(answers):
    region = answers[0]
    combination = Combination({"age_band": 0.3, "party": -0.5, "work": 1.8}, 1.4)
    for c in (Combination(), combination):
        z = region.cell_logits(c)
        for t in (0, 7, TICKS):
            p = 1 / (1 + np.exp(-region.logits[t]))
            run = np.clip(region.design.combine(region.weights, p, c), 1e-4, 1 - 1e-4)
            np.testing.assert_allclose(z[t], np.log(run / (1 - run)), atol=1e-6)
    assert np.abs(z).max() <= LIMIT


def test_a_failed_answer_leaves_its_cells_where_they_were(answers):
    region = answers[0]
    failed = region.failed.copy()
    failed[5, 1, 0] = True
    z = replace(region, failed=failed).cell_logits(Combination())
    informed = region.weights[:, 1] != 0
    before = region.cell_logits(Combination())
    np.testing.assert_array_equal(z[5, informed, 0], before[4, informed, 0])
    np.testing.assert_array_equal(z[5, ~informed, 0], before[5, ~informed, 0])


def test_the_space_names_what_a_parameter_file_sets(scenario, answers):
    space = space_of(scenario, answers)
    assert space.names[0] == "engine.logit_scale"
    assert "engine.contrast_weights.age_band" in space.names
    assert space.names[-3:] == ("dynamics.habit", "dynamics.peer_weight",
                                "dynamics.heterogeneity")
    np.testing.assert_allclose(space.from_free(space.prior_free), space.prior)
    assert space.mechanism(space.prior) == Blend.of(scenario)
    values = space.prior.copy()
    values[0], values[1] = 2.0, 0.5
    moved = space.mechanism(values).combination
    assert moved.logit_scale == 2.0 and moved.weight(space.attributes[0]) == 0.5


def test_the_rules_engine_is_left_to_its_own_fit(scenario):
    with pytest.raises(UsageError, match="rules engine"):
        check_language_engine(scenario.with_engine("rules"))


def test_a_known_logit_scale_is_recovered_from_the_data_it_generated(scenario, answers):
    space = space_of(scenario, answers)
    truth = space.prior.copy()
    truth[0] = TRUE_SCALE
    simulated = LanguageTwin(answers, scenario.behaviour_names).simulate(space.mechanism(truth))
    noise = np.random.default_rng(1)
    for name in MOBILITY_CATEGORIES:  # 1 pp of noise: the truth is not an exact fit
        simulated[SIM_PREFIX + name] += noise.standard_normal(len(simulated))
    observed = load_observed(None, regions=REGIONS)
    mobility = observed.mobility[["region", "week"]].merge(simulated, on=["region", "week"])
    mobility = mobility.rename(columns={SIM_PREFIX + c: c for c in MOBILITY_CATEGORIES})
    observed = replace(observed, mobility=mobility)
    # the objective tells the truth from the prior
    objective = FitObjective(LanguageTwin(answers, scenario.behaviour_names), space, observed)
    assert objective(space.to_free(truth)) < objective(space.prior_free) - 20
    fitted = fit_language(scenario, observed, REGIONS, AGENTS, iterations=30, workers=1,
                          progress=False, answers=answers)
    scale = next(v for v in fitted.values if v.name == "engine.logit_scale")
    assert abs(scale.value - TRUE_SCALE) < 0.25 * (TRUE_SCALE - 1.0), scale
    assert scale.identified and scale.sd > 0 and 0 <= scale.contraction <= 1
    assert fitted.engine == "local" and fitted.fit["regions"] == REGIONS
    rmse = fitted.fit["train_macro_rmse"]
    assert rmse["fitted"] < 0.8 * rmse["prior"]
