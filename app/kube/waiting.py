"""Waiting for an object to disappear from the API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.kube.client import KubeClient
from app.kube.errors import KubeError


class NotGoneInTime(KubeError):
    pass


async def wait_gone(
    kube: KubeClient,
    read: Callable[..., Awaitable[Any]],
    *,
    what: str,
    timeout: float,
    **params: Any,
) -> None:
    """Poll ``read(**params)`` with backoff until it answers 404."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            await kube.call(read, **params)
        except KubeError as exc:
            if exc.status == 404:
                return
            raise
        if time.monotonic() > deadline:
            raise NotGoneInTime(f"{what} was still there after {timeout:g}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
