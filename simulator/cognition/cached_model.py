"""The caching wrapper: the response cache first, the wrapped model only for what it lacks.

Identical questions in one batch are asked once. Each answer is stored the moment the wrapped
model yields it, so answers survive a crash, an interrupt or a provider that stops answering
midway: a restarted run repeats no answered call. Runs that share a cache file do not ask the
same question at the same time: the questions a run is about to ask are claimed first, and a
question another run has claimed is waited for and read from the cache when its answer lands
(taken over if that run dies or its answer fails).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from simulator.cognition.accounting import EngineStats
from simulator.cognition.language_model import Answer, LanguageModel, ModelWrapper, Question
from simulator.cognition.response_cache import ResponseCache, valid_distribution

POLL_S = 0.1
"""Seconds between looks at the cache while another run answers a question this one needs."""


class CachedModel(ModelWrapper):
    """A language model behind a persistent response cache.

    Args:
        inner: the model asked on a miss (usually an :class:`AccountedModel`).
        cache: the response cache; ``None`` passes every question through.
        stats: counters of questions, hits and bad cached rows.
    """

    def __init__(self, inner: LanguageModel, cache: ResponseCache | None,
                 stats: EngineStats) -> None:
        super().__init__(inner)
        self.cache = cache
        self.stats = stats

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """Yield cached answers first, then the wrapped model's, storing each as it arrives."""
        self.stats.questions += len(questions)
        waiting: dict[str, list[int]] = {}
        for index, question in enumerate(questions):
            waiting.setdefault(question.key, []).append(index)
        by_key = {key: questions[indices[0]] for key, indices in waiting.items()}
        if self.cache is None:
            yield from self._ask(list(by_key.values()), waiting)
            return
        first = True
        while waiting:
            found, bad = self._cached({k: by_key[k] for k in waiting}, count_bad=first)
            for key, answer in found:
                self.stats.cache_hits += len(waiting[key])
                yield from ((index, answer) for index in waiting.pop(key))
            if not waiting:
                return
            # A bad row is asked again here; other keys are asked only once claimed.
            claimed, held = self.cache.claim([k for k in waiting if k not in bad])
            claimed += bad
            stored: set[str] = set()  # put() released these claims with their answers
            try:
                yield from self._ask([by_key[k] for k in claimed], waiting, stored)
            finally:
                unstored = [k for k in claimed if k not in stored]
                if unstored:
                    self.cache.release(unstored)
            for key in claimed:
                waiting.pop(key, None)  # a failed answer is not stored: asked again next run
            if held:
                time.sleep(POLL_S)
            first = False

    def _cached(self, by_key: dict[str, Question], count_bad: bool
                ) -> tuple[list[tuple[str, Answer]], list[str]]:
        """The valid cached answers among ``by_key``, and the keys of bad rows (counted)."""
        stored = self.cache.get_many(list(by_key))
        found, bad = [], []
        for key, question in by_key.items():
            if key not in stored:
                continue
            distribution = valid_distribution(stored[key], len(question.options))
            if distribution is None:
                self.stats.bad_cache_rows += int(count_bad)
                bad.append(key)
            else:
                found.append((key, Answer(distribution)))
        return found, bad

    def _ask(self, asked: list[Question], waiting: dict[str, list[int]],
             stored: set[str] | None = None) -> Iterator[tuple[int, Answer]]:
        """The wrapped model's answers to ``asked``, each stored before it is passed on.

        The keys stored are added to ``stored`` (their claims went with the answers).
        """
        for position, answer in self.inner.answer(asked):
            question = asked[position]
            if self.cache is not None and answer.distribution is not None:
                self.cache.put(question.key, answer, self.engine, self.model, question.method)
                if stored is not None:
                    stored.add(question.key)
            for index in waiting.pop(question.key):
                yield index, answer

    def close(self) -> None:
        """Close the wrapped model and the cache."""
        super().close()
        if self.cache is not None:
            self.cache.close()
