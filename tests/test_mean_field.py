"""The fast evaluation against the full simulation: exact when cells stay alike, close otherwise."""

from pathlib import Path

import numpy as np
import pytest

from calibration.evaluate import simulated_features
from calibration.mean_field import MeanFieldTwin, Mechanism, RegionCells
from simulator.cognition import make_engine
from simulator.model import TwinModel
from simulator.policy import PolicyTimeline
from simulator.run import run_scenario
from simulator.scenario import load_scenario

COUNTRY = Path(__file__).resolve().parents[1] / "scenarios" / "covid_country_2020.yaml"


def scenario(**dynamics):
    base = load_scenario(COUNTRY).with_engine("rules").replace(
        region="FRA", population_size=1500, seed=3, end="2020-09-30")
    return base.replace(dynamics={**base.dynamics.model_dump(), **dynamics}) if dynamics \
        else base


def both(s):
    full = simulated_features(run_scenario(s, progress=False, agent_views=False).trajectories,
                              s.region)
    fast = MeanFieldTwin.build(s, [s.region], s.population_size, s.seed,
                               progress=False).simulate(Mechanism.of(s))
    columns = [c for c in full.columns if c.startswith("sim_")]
    assert list(fast["week"]) == list(full["week"])
    return full[columns].to_numpy(), fast[columns].to_numpy()


def test_when_a_cells_members_are_alike_the_mean_field_is_the_twin():
    # Habit 1 puts every agent's habit at its cap 0.95 (habit + 0.1 conscientiousness, capped);
    # with no peers, offsets or noise the members of a cell then stay alike, and the
    # population's mean is the cells' mean weighted by their sizes, as the mean field has it.
    full, fast = both(scenario(habit=1.0, peer_weight=0.0, heterogeneity=0.0, noise=0.0))
    np.testing.assert_allclose(fast, full, atol=0.01)  # pp; float32 state in the twin


def test_with_the_case_study_dynamics_the_mean_field_stays_close():
    # The approximations (the probit mean of the offsets, cell means of habit and peer weight,
    # the population's mean in place of each agent's neighbours, no noise) each move it.
    full, fast = both(scenario())
    error = np.sqrt(np.mean((fast - full) ** 2, axis=0))
    spread = full.std(axis=0)
    assert (error < 0.1 * spread).all(), (error, spread)
    assert (np.abs(fast - full) > 0.01).any()  # not the same computation


def test_the_region_reads_the_twins_cells_and_timeline():
    s = scenario()
    cells = RegionCells.build(s)
    model = TwinModel(s, engine=make_engine("rules", None, s.policy.indicators),
                      agent_views=False)
    assert len(cells.sizes) == len(model.cells) and cells.sizes.sum() == s.population_size
    np.testing.assert_array_equal(cells.assignment, model.cells.assignment)
    assert len(cells.dates) == len(model.timeline)
    # the routine first: no policy, no epidemic
    assert all(levels[0] == 0.0 for levels in cells.policy.values())
    assert cells.context["new_cases_per_100k"][0] == 0.0
    routine = model.routine.context
    assert cells.context["temperature_f"][0] == pytest.approx(routine["temperature_f"])


def test_only_the_first_ticks():
    s = scenario()
    cells = RegionCells.build(s)
    whole = cells.mean_changes(Mechanism.of(s))
    np.testing.assert_allclose(cells.mean_changes(Mechanism.of(s), ticks=10), whole[:10])


def _undone(s, cells, start, weeks):
    """The region's path with stay-at-home held at its level before tick ``start``."""
    from simulator.sweep.transforms import SetLevel
    from simulator.sweep.variants import Variant

    timeline = PolicyTimeline.from_scenario(s)
    before = float(timeline.policy["c6_stay_at_home_requirements"].iloc[start - 1])
    first, last = cells.dates[start].date(), cells.dates[start + weeks - 1].date()
    variant = Variant("undone", (SetLevel("c6_stay_at_home_requirements", before, first, last),))
    return cells.branch(variant.apply(timeline), timeline.routine(s.start))


def test_a_fork_is_the_branchs_own_path_from_the_fork_on():
    s = scenario()
    cells = RegionCells.build(s)
    mechanism = Mechanism.of(s)
    start, weeks = 2, 5  # FRA ordered its people to stay at home in the week of 16 March 2020
    branch = _undone(s, cells, start, weeks)
    stay_at_home = "c6_stay_at_home_requirements"
    assert not np.array_equal(branch.policy[stay_at_home], cells.policy[stay_at_home])
    factual, (forked,) = cells.forked_changes(mechanism, None, [(branch, start, start + weeks)])
    np.testing.assert_allclose(factual, cells.mean_changes(mechanism))
    whole = branch.mean_changes(mechanism)  # the branch's path from the routine on
    np.testing.assert_allclose(forked, whole[start:start + weeks], atol=1e-9)
    assert np.abs(forked - factual[start:start + weeks]).max() > 1.0  # pp: the order mattered


def test_a_fork_on_the_same_path_is_the_factual_path():
    s = scenario()
    cells = RegionCells.build(s)
    timeline = PolicyTimeline.from_scenario(s)
    same = cells.branch(timeline, timeline.routine(s.start))
    factual, (forked,) = cells.forked_changes(Mechanism.of(s), 12, [(same, 4, 9)])
    np.testing.assert_allclose(forked, factual[4:9], atol=1e-9)
