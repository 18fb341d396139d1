"""Waiting on a condition, with a deadline that fails the test: tests never sleep a
fixed time in the hope that something happened meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(
    condition: Callable[[], bool], *, timeout: float = 30, what: str = "condition"
) -> None:
    """Poll a blocking ``condition`` (tests talking to a server in another process)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.1)


async def wait_for(
    probe: Callable[[], Awaitable[T | bool | None]],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "condition",
) -> T:
    """Poll the coroutine ``probe`` until it returns something truthy, and return that
    (tests whose server runs in their own event loop, which a blocking poll would stop)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
