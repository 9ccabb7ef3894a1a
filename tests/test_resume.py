"""A run killed midway and started again repeats no answered language-model call."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator.run import run_scenario
from simulator.scenario import load_scenario

pytest.importorskip("llama_cpp")

SCENARIO = {
    "name": "resume",
    "region": "US_VT",
    "period": {"start": "2020-03-02", "end": "2020-04-26"},
    "population": {"size": 300},
    "seed": 3,
    "behaviours": ["workplaces", "parks"],
    "policy": {"source": "oxcgrt"},
    "engine": {"name": "local", "archetypes": 3},
}


def cached(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow
def test_killed_run_resumes_without_repeating_calls(tmp_path):
    scenario_path = tmp_path / "resume.yaml"
    scenario_path.write_text(yaml.safe_dump(SCENARIO))
    cache = tmp_path / "responses.sqlite"
    command = [sys.executable, "-m", "simulator.cli", "run", str(scenario_path), "--cache",
               str(cache), "--out", str(tmp_path / "killed"), "--quiet", "--no-calibrate"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 300
    while cached(cache) < 12 and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    answered_before = cached(cache)
    assert answered_before >= 12, "the run should have answered some ticks before the kill"

    scenario = load_scenario(scenario_path)
    result = run_scenario(scenario, cache_path=cache, progress=False, agent_views=False)
    total = cached(cache)
    assert result.manifest["llm_calls"] == total - answered_before
    assert result.manifest["cache_hits"] >= answered_before
    assert result.manifest["failed_answers"] == 0
    again = run_scenario(scenario, cache_path=cache, progress=False, agent_views=False)
    assert again.manifest["llm_calls"] == 0
    assert again.trajectories.equals(result.trajectories)
