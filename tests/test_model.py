from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.cognition import Decisions, Engine
from simulator.model import AgentView, TwinModel, reference_population
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "stay_at_home.yaml").replace(population_size=600)


@pytest.fixture(scope="module")
def model(scenario):
    model = TwinModel(scenario)
    model.run()
    return model


def test_agents_are_thin_views(model):
    agents = list(model.agents)
    assert len(agents) == 600 and all(isinstance(a, AgentView) for a in agents[:5])
    agent = agents[10]
    assert agent.age == int(model.population["age"][agent.index])
    assert agent.party in ("democrat", "independent", "republican")
    assert set(agent.behaviour) == set(model.behaviour_names)
    assert 0 <= agent.cell < len(model.cells)
    with pytest.raises(AttributeError):
        _ = agent.no_such_attribute


def test_trajectories_are_tidy(model):
    frame = model.trajectories()
    assert list(frame.columns) == ["tick", "date", "behaviour", "group", "subgroup", "value",
                                   "agents", "change_pct"]
    ticks = len(model.timeline)
    assert frame["tick"].min() == -1 and frame["tick"].max() == ticks - 1
    baseline = frame[frame["tick"] == -1]
    np.testing.assert_allclose(baseline["change_pct"], 0.0, atol=1e-9)
    population = frame[frame["group"] == "all"]
    assert len(population) == (ticks + 1) * len(model.behaviour_names)
    assert {"age_band", "party", "urbanicity"} <= set(frame["group"])
    assert frame["value"].between(0, 1).all()
    weighted = frame[(frame["group"] == "party") & (frame["tick"] == 3)
                     & (frame["behaviour"] == "parks")]
    overall = population[(population["tick"] == 3) & (population["behaviour"] == "parks")]
    assert np.average(weighted["value"], weights=weighted["agents"]) == \
        pytest.approx(overall["value"].iloc[0], rel=1e-6)


def test_model_vars_match_the_table(model):
    model_vars = model.datacollector.get_model_vars_dataframe()
    assert len(model_vars) == len(model.timeline) + 1
    assert model_vars["workplaces"].iloc[-1] == pytest.approx(model.state[:, 4].mean(), rel=1e-6)


def test_lockdown_lowers_retail_and_raises_residential(model):
    frame = model.trajectories()
    population = frame[frame["group"] == "all"].pivot(index="date", columns="behaviour",
                                                      values="change_pct")
    lockdown = population.loc[pd.Timestamp("2020-04-13")]
    assert lockdown["retail_and_recreation"] < -20
    assert lockdown["residential"] > 20
    assert population.loc[pd.Timestamp("2020-08-17"), "retail_and_recreation"] > \
        lockdown["retail_and_recreation"]


def test_same_seed_same_numbers(scenario, model):
    again = TwinModel(scenario, agent_views=False)
    again.run()
    pd.testing.assert_frame_equal(again.trajectories(), model.trajectories())
    other = TwinModel(scenario.replace(seed=scenario.seed + 1), agent_views=False)
    other.run()
    assert not np.allclose(other.state, model.state)


def test_the_tick_is_mesas_step_count_and_mesas_generators_draw_none_of_the_numbers(
        scenario, model):
    twin = TwinModel(scenario, agent_views=False)
    # Were any of the twin's draws taken from Mesa's generators, these would change them.
    twin.rng = np.random.default_rng(12345)
    twin.random.seed(12345)
    twin.step()
    assert twin.tick == twin.steps == 1
    twin.run()
    assert twin.tick == twin.steps == len(twin.timeline) and not twin.running
    pd.testing.assert_frame_equal(twin.trajectories(), model.trajectories())
    with pytest.raises(AttributeError):
        twin.tick = 0


class FailingForArchetypeZero(Engine):
    name = "failing"

    def decide(self, requests):
        p = np.full((len(requests), len(requests[0].behaviours)), 0.3)
        if requests[0].signals.tick >= 2:
            p[0] = np.nan
        return Decisions(p)


def test_failed_answers_keep_behaviour_and_are_counted(scenario):
    model = TwinModel(scenario, engine=FailingForArchetypeZero(), agent_views=False)
    model.step()
    model.step()
    members = model.cells.assignment == 0
    before = model.state[members].copy()
    others_before = model.state[~members].copy()
    model.step()
    assert model.failed_answers == len(model.behaviour_names)
    # Failed agents move only through habit, peers and noise, not towards a made-up answer.
    drift = np.abs(model.state[members] - before).mean()
    assert drift < np.abs(model.state[~members] - others_before).mean() + 0.05
    assert not np.isnan(model.state).any()


def test_seeds_and_sizes_share_the_personas_asked(scenario):
    # The base persona comes from the region's reference population, so runs with other seeds
    # or sizes send the same prompts and are served from the same cached answers.
    models = [TwinModel(scenario.replace(seed=seed, population_size=size), agent_views=False)
              for seed, size in ((1, 600), (2, 600), (1, 3000))]
    personas = [m.cells.design.personas for m in models]
    assert personas[0] == personas[1] == personas[2]
    assert [sum(a.size for a in m.cells.cells) for m in models] == [600, 600, 3000]


def test_decisions_are_subgroup_answers_before_individual_dynamics(model):
    decisions = model.decisions()
    assert list(decisions.columns[:3]) == ["tick", "group", "subgroup"]
    assert {"all", "age_band", "race", "party", "urbanicity", "work"} <= set(decisions["group"])
    first = decisions[(decisions["tick"] == 0)]
    assert len(first[first["group"] == "age_band"]) == 4
    assert model.persona_answers().empty, "the rules engine asks no personas"


@pytest.fixture(scope="module")
def country_model():
    scenario = load_scenario(SCENARIOS / "covid_country_2020.yaml").with_engine("rules")
    model = TwinModel(scenario.replace(region="IND", population_size=800))
    model.run()
    return model


def test_a_country_twin_collects_only_recorded_subgroups(country_model):
    frame = country_model.trajectories()
    assert set(frame["group"]) == {"all", "age_band", "urbanicity", "sex", "education"}
    agent = next(iter(country_model.agents))
    assert agent.education in ("less_than_high_school", "high_school", "some_college",
                               "bachelor_or_higher")
    with pytest.raises(AttributeError):
        _ = agent.party


def test_a_country_persona_shows_no_unrecorded_attribute(country_model):
    unrecorded = {"race", "party", "work", "income_band", "trust_government"}
    for cell in country_model.cells.cells:
        assert not unrecorded & set(cell.attributes)
        assert {"age_band", "sex", "education", "urbanicity"} <= set(cell.attributes)
        assert not {"republican", "democrat", "employed", "essential_worker",
                    "trust_government"} & set(cell.traits)
    for persona in country_model.cells.design.personas:
        assert not unrecorded & set(persona) and {"age_band", "sex"} <= set(persona)
    assert not unrecorded & set(country_model.cells.persona_match)
    assert "India" in country_model.prompts.region_name


def test_agent_views_are_made_on_first_use_only(scenario):
    model = TwinModel(scenario)
    model.step()
    assert not model._agents, "building and stepping make no view (mesa's registry is empty)"
    assert list(model.agent_types) == [AgentView] and len(model.agents) == 600
    assert [a.index for a in model.agents_by_type[AgentView]][:3] == [0, 1, 2]
    assert len(TwinModel(scenario, agent_views=False).agents) == 0


def test_the_reference_population_is_made_once_per_region_and_marginals_text(tmp_path):
    assert reference_population("US_OH") is reference_population("Ohio")
    marginals = tmp_path / "city.yaml"
    source = SCENARIOS / "populations" / "example_city.yaml"
    marginals.write_text(source.read_text())
    first = reference_population("US_GA", marginals)
    assert reference_population("US_GA", marginals) is first
    marginals.write_text(source.read_text().replace("\n", "\n\n", 1))
    assert reference_population("US_GA", marginals) is not first
