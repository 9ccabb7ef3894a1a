"""The caching wrapper: answers stored as they arrive, bad rows never served."""

import json
import sqlite3
import threading
import time

import numpy as np
import pytest
from scripted_model import ScriptedModel

from simulator.cognition.accounting import EngineStats
from simulator.cognition.cached_model import CachedModel
from simulator.cognition.language_model import Question, question_key
from simulator.cognition.response_cache import ResponseCache


def questions(n, options=(" Yes", " No")):
    out = []
    for i in range(n):
        prompt = f"Situation this week: case {i}\nQuestion: Will you go out?\nAnswer:"
        out.append(Question(question_key("scripted", "scripted-1", prompt, options, "cloze", 0),
                            "", prompt, options, "cloze"))
    return out


def test_each_answer_is_stored_before_the_next_is_asked(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    model = ScriptedModel()
    cached = CachedModel(model, cache, EngineStats())
    stored_when_asked = []
    for _index, _answer in cached.answer(questions(3)):
        stored_when_asked.append(len(cache))
    assert stored_when_asked == [1, 2, 3]


def test_answers_before_a_failure_are_kept_and_not_asked_again(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    asked = questions(4)
    with pytest.raises(RuntimeError, match="stopped"):
        list(CachedModel(ScriptedModel(stop_after=2), cache, EngineStats()).answer(asked))
    assert len(cache) == 2
    resumed = ScriptedModel()
    stats = EngineStats()
    answers = dict(CachedModel(resumed, cache, stats).answer(asked))
    assert len(resumed.asked) == 2 and stats.cache_hits == 2 and len(answers) == 4


def test_identical_questions_in_a_batch_are_asked_once(tmp_path):
    one = questions(1)
    model = ScriptedModel()
    answers = list(CachedModel(model, ResponseCache(tmp_path / "c.sqlite"),
                               EngineStats()).answer(one * 3))
    assert len(model.asked) == 1 and sorted(i for i, _ in answers) == [0, 1, 2]


@pytest.mark.parametrize("row", [[0.5, float("nan")], [2.5, -1.5], [0.5], [0.2, 0.2],
                                 "not json", {"1": 1.0}])
def test_a_bad_cached_row_is_a_counted_miss(tmp_path, row):
    path = tmp_path / "c.sqlite"
    asked = questions(1)
    list(CachedModel(ScriptedModel(), ResponseCache(path), EngineStats()).answer(asked))
    text = row if isinstance(row, str) else json.dumps(row)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE responses SET distribution = ?", (text,))
    model, stats = ScriptedModel(), EngineStats()
    [(_, answer)] = list(CachedModel(model, ResponseCache(path), stats).answer(asked))
    assert stats.bad_cache_rows == 1 and stats.cache_hits == 0 and len(model.asked) == 1
    assert answer.distribution.sum() == pytest.approx(1.0)
    assert np.all(answer.distribution >= 0)


def test_no_cache_passes_everything_through(tmp_path):
    model = ScriptedModel()
    list(CachedModel(model, None, EngineStats()).answer(questions(2)))
    list(CachedModel(model, None, EngineStats()).answer(questions(2)))
    assert len(model.asked) == 4


class SlowModel(ScriptedModel):
    """Sleeps before each answer, so that two runs overlap."""

    def answer(self, questions):
        for item in super().answer(questions):
            time.sleep(0.02)
            yield item


def test_two_runs_sharing_a_cache_ask_each_question_once(tmp_path):
    path = tmp_path / "c.sqlite"
    asked = questions(30)
    models = [SlowModel(), SlowModel()]
    results = [None, None]

    def run(i):
        cached = CachedModel(models[i], ResponseCache(path), EngineStats())
        results[i] = dict(cached.answer(asked[::-1] if i else asked))
        cached.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [q.key for model in models for q in model.asked]
    assert len(keys) == len(set(keys)) == 30
    for index in range(30):
        np.testing.assert_allclose(results[0][index].distribution,
                                   results[1][index].distribution)


def test_a_question_whose_claimant_fails_is_asked_by_the_waiting_run(tmp_path):
    path = tmp_path / "c.sqlite"
    holder = ResponseCache(path)
    asked = questions(3)
    holder.claim([asked[1].key])
    model = ScriptedModel()
    cached = CachedModel(model, ResponseCache(path), EngineStats())
    threading.Timer(0.3, holder.release, ([asked[1].key],)).start()
    answers = dict(cached.answer(asked))
    assert sorted(answers) == [0, 1, 2] and [q.key for q in model.asked][-1] == asked[1].key
    cached.close()
    holder.close()


def test_a_consumer_that_stops_early_leaves_no_claim_behind(tmp_path):
    path = tmp_path / "c.sqlite"
    answers = CachedModel(ScriptedModel(), ResponseCache(path), EngineStats()).answer(
        questions(4))
    next(answers)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 3  # one answered
    answers.close()  # the consumer stops: the claims of the three unasked questions go
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
