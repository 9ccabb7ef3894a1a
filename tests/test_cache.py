import numpy as np

from simulator.cognition.cache import ResponseCache, default_cache_path
from simulator.cognition.engine import Answer, cache_key


def test_round_trip_and_persistence(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    key = cache_key("local", "m", "prompt", ["a", "b"], "token_probabilities", 0)
    cache.put_many([(key, Answer(np.array([0.25, 0.75]), tokens_in=10))], engine="local",
                   model="m", elicitation="token_probabilities")
    cache.close()
    again = ResponseCache(path)
    found = again.get_many([key, "missing"])
    assert list(found) == [key]
    np.testing.assert_allclose(found[key], [0.25, 0.75])
    assert len(again) == 1


def test_key_depends_on_everything_that_determines_the_answer():
    base = ("local", "m", "p", ("a", "b"), "token_probabilities", 0)
    keys = {cache_key(*base)}
    for i, changed in enumerate(["rules", "m2", "p2", ("a", "c"), "verbalised_json", 1]):
        args = list(base)
        args[i] = changed
        keys.add(cache_key(*args))
    assert len(keys) == 7


def test_default_path_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("SOCIALTWIN_CACHE", str(tmp_path / "x.sqlite"))
    assert default_cache_path() == tmp_path / "x.sqlite"
