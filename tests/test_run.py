from pathlib import Path

import numpy as np
import pytest

import simulator.model
from simulator.cognition import Decisions, Engine, make_engine
from simulator.errors import EngineError, ScenarioError
from simulator.outputs import write_run
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
    assert m["cells"] == len(result.respondents)
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


class Refusing(Engine):
    """Answers nothing, or nothing in the routine only."""

    name = "refusing"

    def __init__(self, routine_only=False):
        super().__init__()
        self.routine_only = routine_only

    def decide(self, requests):
        p = np.full((len(requests), len(requests[0].behaviours)), 0.4)
        if not self.routine_only or requests[0].signals.tick == -1:
            p[:] = np.nan
        return Decisions(p)


def test_a_run_whose_answers_all_failed_is_an_error_with_the_count(scenario):
    with pytest.raises(EngineError, match=r"engine refusing: all [\d,]+ answers failed"):
        run_scenario(scenario, engine=Refusing(), progress=False, agent_views=False)


def test_failed_routine_answers_are_counted_and_reported(scenario, tmp_path):
    result = run_scenario(scenario, engine=Refusing(routine_only=True), progress=False,
                          agent_views=False)
    m = result.manifest
    cells = m["personas_asked"] * len(scenario.behaviours)
    assert m["failed_routine_answers"] == m["failed_answers"] == cells
    assert m["answers"] == cells * (m["ticks"] + 1)
    report = (write_run(result, tmp_path / "run") / "report.md").read_text()
    assert f"{cells:,} in the routine before the first tick" in report


def test_overrides_share_the_bounds_of_the_file(scenario):
    with pytest.raises(ScenarioError, match=r"population.size \(--agents\): 1000000000 is out "
                                            r"of range \(allowed: from 1 to 50000000\)"):
        apply_overrides(scenario, agents=1_000_000_000)
    with pytest.raises(ScenarioError, match=r"seed \(--seed\): -5 is out of range"):
        apply_overrides(scenario, seed=-5)


class Closing(Engine):
    """Answers 0.4, or raises (or answers nothing) from one tick on; counts its closings."""

    name = "closing"

    def __init__(self, fails_from=None, refuses=False):
        super().__init__()
        self.fails_from, self.refuses, self.closed = fails_from, refuses, 0

    def decide(self, requests):
        if self.fails_from is not None and requests[0].signals.tick >= self.fails_from:
            raise RuntimeError("provider down")
        return Decisions(np.full((len(requests), len(requests[0].behaviours)),
                                 np.nan if self.refuses else 0.4))

    def close(self):
        self.closed += 1


@pytest.mark.parametrize("engine, error", [
    (Closing(fails_from=-1), "provider down"),
    (Closing(fails_from=2), "provider down"),
    (Closing(refuses=True), r"all [\d,]+ answers failed"),
    (Closing(), None),
], ids=["decide raises in the routine", "decide raises at tick 2", "every answer failed",
        "the run completes"])
def test_an_engine_the_run_made_is_closed_on_every_path(scenario, monkeypatch, engine, error):
    made = []
    monkeypatch.setattr(simulator.model, "make_engine",
                        lambda *args, **kwargs: made.append(engine) or engine)
    if error is None:
        run_scenario(scenario, progress=False, agent_views=False)
    else:
        with pytest.raises((RuntimeError, EngineError), match=error):
            run_scenario(scenario, progress=False, agent_views=False)
    assert made == [engine] and engine.closed == 1


def test_an_engine_the_caller_gave_is_left_open_when_the_run_raises(scenario):
    engine = Closing(fails_from=2)
    with pytest.raises(RuntimeError, match="provider down"):
        run_scenario(scenario, engine=engine, progress=False, agent_views=False)
    assert engine.closed == 0
