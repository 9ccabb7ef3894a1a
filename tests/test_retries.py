"""Retries with backoff and rate limits, each alone."""

import asyncio
import time

import pytest

from simulator.cognition.retries import RateLimit, RetriesExhausted, RetryPolicy


class Flaky:
    def __init__(self, failures, error=TimeoutError):
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("try again")
        return "ok"


def transient(error):
    return isinstance(error, TimeoutError)


def test_backoff_doubles_with_jitter_up_to_a_ceiling():
    policy = RetryPolicy(max_retries=9, base=1.0, ceiling=8.0, seed=1)
    waits = [policy.wait(attempt) for attempt in range(6)]
    for attempt, wait in enumerate(waits):
        top = min(8.0, 2.0 ** attempt)
        assert top / 2 <= wait <= top


def test_transient_errors_are_retried_until_the_call_succeeds():
    retried = []
    flaky = Flaky(2)
    result = asyncio.run(RetryPolicy(3, base=0.001).call(flaky, transient,
                                                         lambda: retried.append(1)))
    assert result == "ok" and flaky.calls == 3 and len(retried) == 2


def test_retries_run_out():
    with pytest.raises(RetriesExhausted) as raised:
        asyncio.run(RetryPolicy(2, base=0.001).call(Flaky(9), transient))
    assert raised.value.retries == 2 and isinstance(raised.value.last, TimeoutError)


def test_other_errors_are_not_retried():
    flaky = Flaky(1, error=ValueError)
    with pytest.raises(ValueError):
        asyncio.run(RetryPolicy(5, base=0.001).call(flaky, transient))
    assert flaky.calls == 1


def test_concurrency_is_bounded():
    limit = RateLimit(concurrency=2)
    state = {"now": 0, "most": 0}

    async def call():
        async with limit:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            await asyncio.sleep(0.01)
            state["now"] -= 1

    async def many():
        await asyncio.gather(*(call() for _ in range(7)))

    asyncio.run(many())
    assert state["most"] == 2


def test_calls_per_minute_are_spaced():
    limit = RateLimit(concurrency=10, per_minute=600)
    starts = []

    async def call():
        async with limit:
            starts.append(time.monotonic())

    async def many():
        await asyncio.gather(*(call() for _ in range(4)))

    asyncio.run(many())
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 0.09 for gap in gaps)
