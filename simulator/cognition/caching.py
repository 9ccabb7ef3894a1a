"""The caching wrapper: the response cache first, the wrapped model only for what it lacks.

Identical questions in one batch are asked once. Each answer is stored the moment the wrapped
model yields it, so answers survive a crash, an interrupt or a provider that stops answering
midway: a restarted run repeats no answered call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from simulator.cognition.accounting import EngineStats
from simulator.cognition.cache import ResponseCache, valid_distribution
from simulator.cognition.language_model import Answer, LanguageModel, Question


class CachedModel(LanguageModel):
    """A language model behind a persistent response cache.

    Args:
        inner: the model asked on a miss (usually an :class:`AccountedModel`).
        cache: the response cache; ``None`` passes every question through.
        stats: counters of questions, hits and bad cached rows.
    """

    def __init__(self, inner: LanguageModel, cache: ResponseCache | None,
                 stats: EngineStats) -> None:
        self.inner = inner
        self.cache = cache
        self.stats = stats
        self.engine, self.model, self.methods = inner.engine, inner.model, inner.methods

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """Yield cached answers first, then the wrapped model's, storing each as it arrives."""
        self.stats.questions += len(questions)
        stored = self.cache.get_many([q.key for q in questions]) if self.cache else {}
        missing: dict[str, list[int]] = {}
        for index, question in enumerate(questions):
            if question.key in stored:
                distribution = valid_distribution(stored[question.key], len(question.options))
                if distribution is not None:
                    self.stats.cache_hits += 1
                    yield index, Answer(distribution)
                    continue
                self.stats.bad_cache_rows += 1
                del stored[question.key]
            missing.setdefault(question.key, []).append(index)
        asked = [questions[indices[0]] for indices in missing.values()]
        for position, answer in self.inner.answer(asked):
            question = asked[position]
            if self.cache is not None and answer.distribution is not None:
                self.cache.put(question.key, answer, self.engine, self.model, question.method)
            for index in missing[question.key]:
                yield index, answer

    def describe(self) -> dict:
        """The wrapped model's description."""
        return self.inner.describe()

    def close(self) -> None:
        """Close the wrapped model and the cache."""
        self.inner.close()
        if self.cache is not None:
            self.cache.close()
