"""Accounting: what a run asked, paid and got, counted by a wrapper around the language model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

from simulator.cognition.credentials import redact
from simulator.cognition.language_model import Answer, LanguageModel, ModelWrapper, Question


@dataclass
class EngineStats:
    """Accounting of one engine over a run (the manifest reports it).

    Attributes:
        questions: questions put to the model layer (cache hits included).
        llm_calls: questions the model itself answered (a verbalised answer that needed retries
            is one call here; its extra requests are in ``retries``).
        cache_hits: questions served by the response cache.
        bad_cache_rows: cached rows that were not a distribution over the question's options,
            treated as missing and asked again.
        tokens_in, tokens_out: tokens evaluated or billed.
        cost_usd: provider cost, ``None`` once any call's cost was unknown.
        repaired_answers: model replies that needed an unambiguous repair.
        retries: repeated provider requests (errors, invalid replies).
        last_error: why the latest failed answer failed (``None`` while none has).
    """

    questions: int = 0
    llm_calls: int = 0
    cache_hits: int = 0
    bad_cache_rows: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    repaired_answers: int = 0
    retries: int = 0
    last_error: str | None = None

    def add_cost(self, cost: float | None) -> None:
        """Add the cost of one call; an unknown cost makes the total unknown (``None``)."""
        if cost is None or self.cost_usd is None:
            self.cost_usd = None
        else:
            self.cost_usd += cost

    def as_dict(self) -> dict:
        """Plain dict of the counters."""
        return asdict(self)

    def since(self, earlier: EngineStats) -> EngineStats:
        """The counts accumulated after ``earlier`` (a copy taken before a run)."""
        now, then = self.as_dict(), earlier.as_dict()
        delta = {k: (None if now[k] is None or then[k] is None else now[k] - then[k])
                 for k in now if k != "last_error"}
        return EngineStats(**delta, last_error=self.last_error)


class AccountedModel(ModelWrapper):
    """Counts calls, tokens, cost, repairs and retries of every answer the wrapped model gives.

    Args:
        inner: the model that answers.
        stats: the counters to add to (shared with the other wrappers of one engine).
    """

    def __init__(self, inner: LanguageModel, stats: EngineStats) -> None:
        super().__init__(inner)
        self.stats = stats

    def answer(self, questions: Sequence[Question]) -> Iterator[tuple[int, Answer]]:
        """The wrapped model's answers, each counted as it passes."""
        for index, answer in self.inner.answer(questions):
            self.stats.llm_calls += 1
            self.stats.tokens_in += answer.tokens_in
            self.stats.tokens_out += answer.tokens_out
            self.stats.add_cost(answer.cost_usd)
            self.stats.repaired_answers += int(answer.repaired)
            self.stats.retries += answer.retries
            if answer.distribution is None:
                self.stats.last_error = redact(answer.error or "no distribution")
            yield index, answer
