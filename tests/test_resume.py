"""No answered call is lost or paid twice: runs killed with SIGKILL, and runs sharing a cache.

Each run is ``socialtwin run`` in a child process (tests/logged_run.py) whose model calls are
logged. A run is killed at a random call: that call and every later one never return (the
process stands as one killed in the middle of a call), and once the calls already under way have
finished and every answer that did arrive has been stored — which must take less than a second —
the process gets SIGKILL. The run started
again must not repeat any call that had been answered.
"""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
SCENARIO = {
    "name": "resume",
    "region": "US_VT",
    "period": {"start": "2020-03-02", "end": "2020-04-26"},
    "population": {"size": 300},
    "seed": 3,
    "behaviours": ["workplaces", "parks"],
    "policy": {"source": "oxcgrt"},
    "engine": {"name": "local", "personas": 3},
}
LITELLM = "litellm:scripted/m"


def stored(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):  # the run has not created its cache yet
            return 0
        raise  # a busy or damaged file is a failure of its own, not "nothing stored"
    finally:
        db.close()


def answered(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1] for line in lines if line.startswith("done ")]


def start(tmp_path: Path, name: str, engine: str, cache: Path, freeze_at: int = 0):
    scenario = tmp_path / "resume.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    log = tmp_path / f"{name}.log"
    command = [sys.executable, str(HERE / "logged_run.py"), str(log), str(freeze_at), "run",
               str(scenario), "--engine", engine, "--cache", str(cache), "--out",
               str(tmp_path / name), "--quiet", "--no-calibrate", "--no-probe"]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True, env=env)
    return process, log


def finish(process) -> None:
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, out + err


def kill_at_a_random_call(tmp_path: Path, engine: str, calls: range) -> None:
    """Freeze the run at a call drawn from ``calls`` and kill it; restart and count repeats.

    The run of :data:`SCENARIO` asks 36 questions (2 personas x 2 behaviours x 9 ticks, the
    routine included), so ``calls`` must stay below that for the run to be caught midway.
    """
    cache = tmp_path / "responses.sqlite"
    freeze_at = random.Random().choice(calls)
    process, log = start(tmp_path, "killed", engine, cache, freeze_at)
    try:
        deadline = time.time() + 600
        while "settled" not in (log.read_text() if log.exists() else "") \
                and time.time() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        arrived = len(answered(log))
        deadline = time.time() + 1.0
        while stored(cache) < arrived and time.time() < deadline:
            time.sleep(0.02)
        assert stored(cache) == arrived, f"killed at call {freeze_at}: {arrived} answers " \
            f"arrived, {stored(cache)} stored within a second"
    finally:  # a frozen run left behind would sleep for an hour
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = answered(log)

    again, log_again = start(tmp_path, "again", engine, cache)
    finish(again)
    after = answered(log_again)
    repeated = set(before) & set(after)
    assert not repeated, f"killed at call {freeze_at}: {len(repeated)} answered calls repeated"
    assert len(after) == len(set(after)) and stored(cache) == len(set(before) | set(after))
    print(f"{engine}: killed at call {freeze_at} with {len(before)} answers stored; the restart "
          f"made {len(after)} calls, 0 repeated")


@pytest.mark.slow
def test_a_local_run_killed_at_a_random_call_repeats_no_answered_call(tmp_path):
    pytest.importorskip("llama_cpp")
    kill_at_a_random_call(tmp_path, "local", range(5, 30))


@pytest.mark.slow
def test_a_litellm_run_killed_at_a_random_call_repeats_no_answered_call(tmp_path):
    kill_at_a_random_call(tmp_path, LITELLM, range(5, 30))


@pytest.mark.slow
def test_two_runs_sharing_a_cache_make_the_calls_of_one(tmp_path):
    alone, alone_log = start(tmp_path, "alone", LITELLM, tmp_path / "alone.sqlite")
    finish(alone)
    one_run = answered(alone_log)
    cache = tmp_path / "shared.sqlite"
    pair = [start(tmp_path, name, LITELLM, cache) for name in ("first", "second")]
    for process, _ in pair:
        finish(process)
    calls = Counter(call for _, log in pair for call in answered(log))
    assert sum(calls.values()) == len(one_run) and set(calls) == set(one_run)
    assert max(calls.values()) == 1
    shares = [len(answered(log)) for _, log in pair]
    print(f"one run alone: {len(one_run)} calls; two runs on one cache: {shares} = "
          f"{sum(shares)} calls")
    trajectories = [(tmp_path / name / "trajectories.csv").read_text()
                    for name in ("alone", "first", "second")]
    assert trajectories[0] == trajectories[1] == trajectories[2]
