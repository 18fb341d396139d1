"""Background tasks that are named, logged when they fail, and cancelled on stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from .store import StoreEvent, Subscription

logger = logging.getLogger(__name__)


class TaskSet:
    """Owns the sandbox's background tasks so none is lost or outlives ``close()``."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any] | None:
        if self._closed:
            coro.close()  # never started, so nothing to await; avoids "never awaited"
            return None
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("sandbox task %s failed", task.get_name(), exc_info=error)

    async def close(self) -> None:
        self._closed = True
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            # Exceptions were already logged by _finished; gather only waits here.
            await asyncio.gather(*pending, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)


EventHandler = Callable[[list[StoreEvent]], None]


async def consume(subscription: Subscription, handler: EventHandler, what: str) -> None:
    """Feed batches of store events to ``handler`` until the store closes.

    Events that queued up while the previous batch was handled are delivered together,
    so a controller reconciles each object once per burst of writes. A failing batch is
    logged and the loop goes on, like a controller's work queue retrying later.
    """
    while True:
        first = await subscription.next()
        batch = [first, *subscription.drain()]
        events = [event for event in batch if event is not None]
        if events:
            try:
                handler(events)
            except Exception:
                logger.exception("sandbox %s failed to handle %d events", what, len(events))
        if None in batch:
            return
