from pathlib import Path

import pytest

from simulator.cognition import make_engine
from simulator.errors import ScenarioError
from simulator.run import apply_overrides, run_scenario, versions
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "stay_at_home.yaml").replace(population_size=300)


def test_overrides_are_validated(scenario):
    changed = apply_overrides(scenario, engine="rules", agents=50, seed=9)
    assert (changed.population_size, changed.seed) == (50, 9)
    with pytest.raises(ScenarioError):
        apply_overrides(scenario, agents=0)
    with pytest.raises(ScenarioError):
        apply_overrides(scenario, engine="gpt")


def test_manifest_of_a_run(scenario):
    result = run_scenario(scenario, progress=False, agent_views=False)
    m = result.manifest
    assert m["agents"] == 300 and m["ticks"] == len(result.timeline)
    assert m["agent_ticks"] == 300 * m["ticks"]
    assert m["llm_calls"] == 0 and m["llm_calls_per_agent_tick"] == 0
    assert m["archetypes"] == len(result.archetypes)
    assert m["wall_s"] >= m["build_s"] >= 0


def test_a_shared_engine_reports_per_run_counts(scenario):
    engine = make_engine("rules", {}, scenario.policy.indicators)
    first = run_scenario(scenario, engine=engine, progress=False, agent_views=False)
    second = run_scenario(scenario, engine=engine, progress=False, agent_views=False)
    assert first.manifest["questions"] == second.manifest["questions"] > 0
    assert engine.stats.questions == 2 * first.manifest["questions"]


def test_versions_name_the_numbers_that_matter():
    found = versions()
    assert found["mesa"] == "3.3.1" and found["python"].startswith("3.")
