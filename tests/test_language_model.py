"""The language-model seam: questions, cache keys and the wrapper every layer is built on."""

from scripted_model import ScriptedModel

from simulator.cognition.accounting import AccountedModel, EngineStats
from simulator.cognition.cached_model import CachedModel
from simulator.cognition.language_model import ModelWrapper, Question, question_key


class Closing(ScriptedModel):
    closed = 0

    def describe(self):
        return {"engine": self.engine, "model": self.model, "endpoint": "here"}

    def close(self):
        self.closed += 1


def test_layers_answer_as_the_model_they_wrap():
    inner = Closing()
    layered = CachedModel(AccountedModel(inner, EngineStats()), None, EngineStats())
    assert (layered.engine, layered.model, layered.methods) == (inner.engine, inner.model,
                                                               inner.methods)
    assert layered.describe() == inner.describe()
    layered.close()
    assert inner.closed == 1


def test_a_bare_wrapper_passes_answers_through_unchanged():
    question = Question("k", "Situation this week: calm\n", "Question: Go out?\nAnswer: ",
                        ("Yes", "No"), "option_tokens")
    [(index, answer)] = list(ModelWrapper(ScriptedModel()).answer([question]))
    [(_, direct)] = list(ScriptedModel().answer([question]))
    assert index == 0 and list(answer.distribution) == list(direct.distribution)


def test_the_cache_key_changes_with_everything_that_changes_an_answer():
    base = ("local", "gemma", "prompt", ("Yes", "No"), "option_tokens", 0)
    keys = {question_key(*base)}
    for position, other in enumerate(("litellm:x", "other", "prompt ", ("No", "Yes"), "cloze",
                                      1)):
        changed = list(base)
        changed[position] = other
        keys.add(question_key(*changed))
    assert len(keys) == 7 and question_key(*base) == question_key(*base)
