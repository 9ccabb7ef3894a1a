"""Retries and rate limits around one provider call: wrappers, each testable alone.

:class:`RetryPolicy` repeats a call after a transient error (rate limit, time-out, lost
connection, server error) with exponential backoff and jitter, and gives up after
``max_retries``; :class:`RateLimit` bounds the calls in flight and, optionally, the calls started
per minute. The language model composes them around its raw call; neither knows what is asked.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class RetriesExhausted(Exception):
    """A transient error persisted through every retry; ``last`` is the final error."""

    def __init__(self, last: Exception, retries: int) -> None:
        super().__init__(f"{type(last).__name__} after {retries} retries")
        self.last = last
        self.retries = retries


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter.

    Attributes:
        max_retries: retries after the first attempt.
        base: seconds before the first retry; the ceiling doubles with each retry.
        ceiling: longest wait in seconds.
        seed: seed of the jitter (a wait is uniform in [ceiling/2, ceiling]).
    """

    max_retries: int = 5
    base: float = 1.0
    ceiling: float = 60.0
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def wait(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt + 1``."""
        top = min(self.ceiling, self.base * 2.0 ** attempt)
        return top * (0.5 + 0.5 * self._rng.random())

    async def call(self, make_call: Callable[[], Awaitable[T]],
                   transient: Callable[[Exception], bool],
                   on_retry: Callable[[], None] = lambda: None) -> T:
        """Await ``make_call()``, retrying transient errors; others propagate at once.

        Raises:
            RetriesExhausted: the error stayed transient through every retry.
        """
        attempt = 0
        while True:
            try:
                return await make_call()
            except Exception as error:  # classified below: only transient ones are retried
                if not transient(error):
                    raise
                if attempt >= self.max_retries:
                    raise RetriesExhausted(error, attempt) from None
                on_retry()
                await asyncio.sleep(self.wait(attempt))
                attempt += 1


class RateLimit:
    """At most ``concurrency`` calls in flight and, if set, ``per_minute`` calls started a minute.

    Use as ``async with limit: ...`` around each call; one instance per event loop.
    """

    def __init__(self, concurrency: int, per_minute: float | None = None) -> None:
        self.concurrency = concurrency
        self.per_minute = per_minute
        self._slots: asyncio.Semaphore | None = None
        self._next_start = 0.0
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> RateLimit:
        if self._slots is None:
            self._slots, self._lock = asyncio.Semaphore(self.concurrency), asyncio.Lock()
        await self._slots.acquire()
        if self.per_minute:
            async with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + 60.0 / self.per_minute
            await asyncio.sleep(start - now)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()
