"""Retries and rate limits around one provider call: wrappers, each testable alone.

:class:`RetryPolicy` repeats a call after a transient error (rate limit, time-out, lost
connection, server error) with exponential backoff and jitter, and gives up after
``max_retries``: a declaration of tenacity's ``AsyncRetrying`` (attempts, wait, what is retried,
a hook per retry). Tenacity rather than litellm's own ``num_retries``: litellm repeats almost
any error, waits without jitter (or not at all), and neither counts its retries for the run's
accounting nor lets a test replace its waits.

:class:`RateLimit` bounds the calls in flight and, optionally, the calls started per minute. It
stays ours: tenacity retries but does not pace, and litellm paces only behind its ``Router``
(deployments, cooldowns and retries of its own), where a call over the limit fails instead of
waiting for its turn. The language model composes both around its raw call; neither knows what
is asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

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

    The wait before retry ``k`` (from 1) is uniform in ``[top / 2, top]``, where
    ``top = min(ceiling, base * 2 ** (k - 1))``: half of it fixed, half drawn by tenacity from
    the process's random generator, so that concurrent runs (the workers of a sweep share their
    seeds) do not retry in step. Waits never change an answer.

    Attributes:
        max_retries: retries after the first attempt.
        base: longest wait before the first retry, in seconds; it doubles with each retry.
        ceiling: longest wait in seconds.
        sleep: how a wait is awaited (a test may record the waits instead).
    """

    max_retries: int = 5
    base: float = 1.0
    ceiling: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def call(self, make_call: Callable[[], Awaitable[T]],
                   transient: Callable[[Exception], bool],
                   on_retry: Callable[[], None] = lambda: None) -> T:
        """Await ``make_call()``, retrying transient errors; others propagate at once.

        ``on_retry`` is called before each retry (to count them, say).

        Raises:
            RetriesExhausted: the error stayed transient through every retry.
        """
        half = {"multiplier": self.base / 2, "max": self.ceiling / 2}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential(**half) + wait_random_exponential(**half),
            retry=retry_if_exception(transient),
            before_sleep=lambda _state: on_retry(),
            sleep=self.sleep,
        )
        try:
            return await retrying(make_call)
        except RetryError as exhausted:
            last = exhausted.last_attempt
            raise RetriesExhausted(last.exception(), last.attempt_number - 1) from None


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

    async def call(self, make_call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """``await make_call(*args, **kwargs)`` once this limit gives it its turn."""
        async with self:
            return await make_call(*args, **kwargs)
