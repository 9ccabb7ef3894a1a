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


def recorded_waits(policy_options, failures):
    """The waits a policy asks for before each retry of a call failing ``failures`` times."""
    waits = []

    async def record(seconds):
        waits.append(seconds)

    asyncio.run(RetryPolicy(**policy_options, sleep=record).call(Flaky(failures), transient))
    return waits


def test_backoff_doubles_with_jitter_up_to_a_ceiling():
    waits = recorded_waits({"max_retries": 9, "base": 1.0, "ceiling": 8.0}, failures=6)
    assert len(waits) == 6
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


def test_the_jitter_varies_and_the_base_sets_the_first_wait():
    waits = [recorded_waits({"max_retries": 1, "base": 0.5}, failures=1)[0] for _ in range(20)]
    assert all(0.25 <= wait <= 0.5 for wait in waits) and len(set(waits)) > 1


def test_retries_run_out_after_max_retries_waits():
    waits = []

    async def record(seconds):
        waits.append(seconds)

    with pytest.raises(RetriesExhausted, match="TimeoutError after 3 retries"):
        asyncio.run(RetryPolicy(3, sleep=record).call(Flaky(9), transient))
    assert len(waits) == 3


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


def test_a_call_waits_for_its_turn_under_the_limit():
    limit = RateLimit(concurrency=1)
    order = []

    async def work(name, delay):
        order.append(f"start {name}")
        await asyncio.sleep(delay)
        order.append(f"end {name}")
        return name

    async def both():
        return await asyncio.gather(limit.call(work, "a", 0.02), limit.call(work, name="b",
                                                                            delay=0))

    assert asyncio.run(both()) == ["a", "b"]
    assert order == ["start a", "end a", "start b", "end b"]
