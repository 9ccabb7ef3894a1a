import datetime as dt
import operator
from pathlib import Path

import pandas as pd
import pytest

from simulator.scenario import load_scenario
from simulator.scenario_sections import EngineSpec
from simulator.sweep.executors import DaskExecutor, ExecutorError, LocalExecutor, make_executor
from simulator.sweep.runner import release_engines, run_sweep, worker_engine
from simulator.sweep.transforms import Scale
from simulator.sweep.variants import Variant, VariantSet

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def small():
    """200 agents, a short period, 2 variants x 2 seeds: the same sweep on every executor."""
    scenario = load_scenario(SCENARIOS / "covid_us_2020.yaml").with_engine("rules").replace(
        population_size=200, end=dt.date(2020, 6, 30))
    variants = VariantSet.of([Variant("recorded"), Variant("half", (Scale(0.5),), dose=0.5)],
                             seeds=2)
    return scenario, variants


@pytest.fixture(scope="module")
def reference(small):
    scenario, variants = small
    return run_sweep(scenario, variants, progress=False)


def test_local_executor_maps_in_order_in_process():
    with LocalExecutor() as executor:
        assert executor.map(operator.neg, [3, 1, 2]) == [-3, -1, -2]
        assert executor.map(operator.neg, []) == []
        assert executor.describe() == {"executor": "local", "workers": 1, "address": None}


def test_in_process_sweeps_reuse_one_engine_per_configuration(small, reference):
    scenario, _ = small
    assert reference.manifest["worker_processes"] == 1
    engine = worker_engine(scenario, None)
    assert worker_engine(scenario, None) is engine
    other = scenario.replace(engine=EngineSpec(name="rules", options={"fatigue_weeks": 26.0}))
    assert worker_engine(other, None) is not engine
    release_engines()
    assert worker_engine(scenario, None) is not engine
    release_engines()


def test_make_executor_rejects_what_it_cannot_run():
    with pytest.raises(ExecutorError, match="unknown executor 'spark' .allowed: local, dask, ray"):
        make_executor("spark")
    with pytest.raises(ExecutorError, match="executor local: takes no address"):
        make_executor("local", address="tcp://127.0.0.1:8786")
    with pytest.raises(ExecutorError, match="workers 0 is out of range"):
        make_executor("local", workers=0)


@pytest.mark.slow
def test_local_processes_give_identical_results(small, reference):
    scenario, variants = small
    with LocalExecutor(2) as executor:
        result = run_sweep(scenario, variants, executor=executor,
                           progress=False)
    pd.testing.assert_frame_equal(result.results, reference.results, check_exact=True)
    assert result.manifest["worker_processes"] == 2


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(small, reference):
    scenario, variants = small
    with make_executor("dask", workers=2) as executor:
        result = run_sweep(scenario, variants, executor=executor,
                           progress=False)
    pd.testing.assert_frame_equal(result.results, reference.results, check_exact=True)
    assert result.manifest["executor"] == "dask" and result.manifest["workers"] == 2
    assert result.manifest["worker_processes"] <= 2


@pytest.mark.slow
def test_ray_gives_identical_results(small, reference, monkeypatch):
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    scenario, variants = small
    with make_executor("ray", workers=2) as executor:
        result = run_sweep(scenario, variants, executor=executor,
                           progress=False)
    pd.testing.assert_frame_equal(result.results, reference.results, check_exact=True)
    assert result.manifest["executor"] == "ray"
    import ray

    assert not ray.is_initialized(), "the executor shuts down the Ray it started"


@pytest.mark.slow
def test_dask_executor_connects_to_a_running_scheduler_and_leaves_it_running():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        with DaskExecutor(address=cluster.scheduler_address) as executor:
            assert executor.workers == 2
            assert executor.map(operator.neg, [1, 2, 3]) == [-1, -2, -3]
        assert cluster.scheduler.status.name == "running"
