"""The response cache file: round trips, keys, and a damaged file named, not rewritten."""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from simulator.cognition.language_model import Answer, question_key
from simulator.cognition.response_cache import (
    ResponseCache,
    check_cache_path,
    default_cache_path,
    valid_distribution,
)
from simulator.errors import EngineError


def test_round_trip_and_persistence(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    key = question_key("local", "m", "prompt", ["a", "b"], "cloze", 0)
    cache.put(key, Answer(np.array([0.25, 0.75]), tokens_in=10), "local", "m", "cloze")
    cache.close()
    again = ResponseCache(path)
    found = again.get_many([key, "missing"])
    assert list(found) == [key]
    np.testing.assert_allclose(valid_distribution(found[key], 2), [0.25, 0.75])
    assert len(again) == 1


def test_key_depends_on_everything_that_determines_the_answer():
    base = ("local", "m", "p", ("a", "b"), "cloze", 0)
    keys = {question_key(*base)}
    for i, changed in enumerate(["rules", "m2", "p2", ("a", "c"), "option_tokens", 1]):
        args = list(base)
        args[i] = changed
        keys.add(question_key(*args))
    assert len(keys) == 7


def test_default_path_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("SOCIALTWIN_CACHE", str(tmp_path / "x.sqlite"))
    assert default_cache_path() == tmp_path / "x.sqlite"


@pytest.mark.parametrize("content", [b"this is not a database at all" * 40,
                                     b"SQLite format 3\x00" + b"\x00" * 80])
def test_a_damaged_file_is_one_clear_error_and_is_left_as_it_was(tmp_path, content):
    path = tmp_path / "c.sqlite"
    path.write_bytes(content)
    with pytest.raises(EngineError, match=f"{path}.*delete it.*--cache"):
        ResponseCache(path)
    assert path.read_bytes() == content
    assert not (tmp_path / "c.sqlite-wal").exists()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(EngineError, match="is a folder"):
        ResponseCache(tmp_path)


def test_valid_distribution():
    assert valid_distribution([0.5, 0.5], 2) is not None
    for bad in ([0.5, 0.6], [1.5, -0.5], [0.5], [float("nan"), 1.0], ["0.5", "0.5"],
                [True, False], None, "x"):
        assert valid_distribution(bad, 2) is None


def answer(p=0.5):
    return Answer(np.array([p, 1 - p]))


def test_a_claimed_key_is_held_for_other_caches_until_answered_or_released(tmp_path):
    path = tmp_path / "c.sqlite"
    first, second = ResponseCache(path), ResponseCache(path)
    assert first.claim(["a", "b"]) == (["a", "b"], [])
    assert second.claim(["a", "b", "c"]) == (["c"], ["a", "b"])
    first.put("a", answer(), "e", "m", "cloze")
    first.release(["b"])
    assert second.claim(["a", "b"]) == (["b"], [])
    assert first.claim(["a", "b"]) == ([], ["b"])
    first.close()
    second.close()


def test_claims_of_a_dead_process_or_past_their_lease_are_taken_over(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO claims VALUES ('dead', ?, ?)",
                   (f"{socket.gethostname()}:{dead_pid()}:x", time.time() + 3600))
        db.execute("INSERT INTO claims VALUES ('expired', 'elsewhere:1:x', ?)",
                   (time.time() - 1,))
        db.execute("INSERT INTO claims VALUES ('live', 'elsewhere:1:x', ?)",
                   (time.time() + 3600,))
    assert cache.claim(["dead", "expired", "live"]) == (["dead", "expired"], ["live"])
    cache.close()


def test_claims_are_renewed_while_their_process_lives(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path, lease=0.4)
    cache.claim(["a"])
    time.sleep(1.0)
    assert ResponseCache(path).claim(["a"]) == ([], ["a"])
    cache.close()
    assert ResponseCache(path).claim(["a"]) == (["a"], [])


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_the_cache_is_checked_before_any_work_without_writing(tmp_path):
    assert check_cache_path(tmp_path / "new.sqlite") == tmp_path / "new.sqlite"
    assert not (tmp_path / "new.sqlite").exists()
    with pytest.raises(EngineError, match="is a folder"):
        check_cache_path(tmp_path)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 80)
    with pytest.raises(EngineError, match="not a readable socialtwin cache"):
        check_cache_path(damaged)
    assert damaged.read_bytes() == b"SQLite format 3\x00" + b"\x00" * 80


def test_runs_opening_a_new_cache_at_once_all_open_it(tmp_path):
    # Switching a new file to WAL takes a lock SQLite's busy timeout does not wait for: a run
    # that meets it must wait and open the cache, not call the file damaged.
    for trial in range(40):
        path = tmp_path / f"c{trial}.sqlite"
        errors = []

        def open_it(path=path, errors=errors):
            try:
                ResponseCache(path).close()
            except Exception as error:  # noqa: BLE001 - every failure is the test's finding
                errors.append(error)

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"trial {trial}: {errors[0]}"


def _database(path, *statements):
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    return path.read_bytes()


@pytest.mark.parametrize(("statements", "problem"), [
    (["CREATE TABLE users (id INTEGER, name TEXT)"],
     "it has the table(s) users, which a cache does not"),
    (["CREATE TABLE responses (key TEXT PRIMARY KEY, answer TEXT)"],
     "its responses table has the columns key, answer, where a cache has key, engine, model,"),
])
def test_a_database_that_is_not_a_cache_is_refused_and_left_as_it_was(tmp_path, statements,
                                                                      problem):
    path = tmp_path / "other.sqlite"
    content = _database(path, *statements)
    for check in (check_cache_path, ResponseCache):
        with pytest.raises(EngineError) as error:
            check(path)
        assert str(error.value).startswith(f"response cache {path} is not a socialtwin cache "
                                           f"({problem}")
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


def test_an_empty_database_or_an_earlier_cache_is_accepted(tmp_path):
    _database(tmp_path / "empty.sqlite")
    ResponseCache(tmp_path / "cache.sqlite").close()
    assert check_cache_path(tmp_path / "empty.sqlite") == tmp_path / "empty.sqlite"
    assert check_cache_path(tmp_path / "cache.sqlite") == tmp_path / "cache.sqlite"


def test_a_read_only_cache_is_refused_before_any_answer_is_paid_for(tmp_path, monkeypatch):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).close()
    writable = os.access
    monkeypatch.setattr("simulator.cognition.response_cache.os.access",
                        lambda p, mode: False if str(p) == str(path) else writable(p, mode))
    with pytest.raises(EngineError, match=r"c.sqlite is read-only: the answers it lacks could "
                                          r"not be stored"):
        check_cache_path(path)
    folder = tmp_path / "locked"
    monkeypatch.setattr("simulator.cognition.response_cache.os.access",
                        lambda p, mode: str(p) != str(folder))
    folder.mkdir()
    with pytest.raises(EngineError, match=r"the folder .*locked cannot be written"):
        check_cache_path(folder / "sub" / "c.sqlite")
