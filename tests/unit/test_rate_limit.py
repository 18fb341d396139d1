"""The per-caller rate limit shared by HTTP requests and WebSocket operations, on the
`limits` library: budgets per caller, an honest wait, and memory that follows the
recent callers, not every caller ever seen."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from limits.errors import ConfigurationError

from app.access.rate_limit import RateLimiter


async def test_a_caller_gets_its_limit_then_is_told_how_long_to_wait() -> None:
    limiter = RateLimiter(limit=3)
    assert [await limiter.take("a") for _ in range(3)] == [0, 0, 0]
    wait = await limiter.take("a")
    assert 0 < wait <= 60
    assert 0 < await limiter.take("a") <= wait  # a refusal takes nothing


async def test_callers_have_budgets_of_their_own() -> None:
    limiter = RateLimiter(limit=2)
    for _ in range(2):
        assert await limiter.take("key:a") == 0
    assert await limiter.take("key:a") > 0
    assert await limiter.take("key:b") == 0
    assert await limiter.take("ip:10.0.0.1") == 0


async def test_waiting_as_told_lets_the_caller_in_again() -> None:
    limiter = RateLimiter(limit=2, window_seconds=1)
    for _ in range(2):
        assert await limiter.take("a") == 0
    wait = await limiter.take("a")
    assert 0 < wait <= 1
    await asyncio.sleep(wait + 0.05)
    assert await limiter.take("a") == 0


async def test_memory_follows_recent_callers_not_every_caller_ever_seen() -> None:
    # Callers come and go (say, bad tokens from many addresses): once their windows
    # have passed, a new crowd of the same size takes no more memory than the first.
    limiter = RateLimiter(limit=5, window_seconds=1)
    await limiter.take("warm-up")

    async def crowd(name: str) -> int:
        for n in range(5000):
            assert await limiter.take(f"{name}-{n}") == 0
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        first = await crowd("first")
        await asyncio.sleep(2.2)  # two windows: every counter of the first crowd expired
        await limiter.take("late")  # any hit sweeps what has expired
        await asyncio.sleep(0.05)
        second = await crowd("second")
    finally:
        tracemalloc.stop()
    assert second < first * 1.5  # kept, both crowds would take about twice as much


async def test_the_storage_is_a_limits_uri() -> None:
    for uri in ("memory://", "async+memory://"):
        limiter = RateLimiter(limit=1, storage=uri)
        assert await limiter.take("a") == 0
        assert await limiter.take("a") > 0
    # One it does not know stops the server at start, saying which setting is wrong.
    with pytest.raises(ConfigurationError, match="rate limit storage 'bogus://'"):
        RateLimiter(limit=1, storage="bogus://")
