"""Named, guarded background tasks.

Every long-lived or background coroutine is started here: it gets a name and the log
context of whoever started it (app/logs.py), an unexpected exception is logged (and
handed to an ``on_error`` callback that records it where a user sees it), and
``stop()`` cancels what is still running and waits for it, with a timeout, on
shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from app.logs import task_context

log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], Awaitable[None]]


class TaskSupervisor:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def count(self, *, prefix: str) -> int:
        """How many tasks whose names start with ``prefix`` are running."""
        return len(self.names(prefix=prefix))

    def names(self, *, prefix: str) -> list[str]:
        """The names of the running tasks that start with ``prefix``."""
        return [name for name in self._tasks if name.startswith(prefix)]

    def running(self, name: str) -> bool:
        # A finished task is not running, even before its done callback forgot it.
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def start(
        self,
        name: str,
        coro: Coroutine[Any, Any, None],
        *,
        on_error: ErrorHandler | None = None,
        shared: bool = False,
    ) -> bool:
        """Start ``coro`` unless a task of that name is already running. It runs in its
        starter's log context (a request's id travels into the work it started), or,
        when it belongs to no request or is ``shared`` (serves every caller, not the one
        whose request happened to start it), under a fresh id of its own."""
        if self.running(name):
            coro.close()
            return False
        task = asyncio.create_task(
            self._guard(name, coro, on_error), name=name, context=task_context(fresh=shared)
        )
        self._tasks[name] = task
        task.add_done_callback(lambda done: self._forget(name, done))
        return True

    def _forget(self, name: str, task: asyncio.Task[None]) -> None:
        # Only this task: a newer one of the same name may have started meanwhile.
        if self._tasks.get(name) is task:
            del self._tasks[name]

    async def _guard(
        self, name: str, coro: Coroutine[Any, Any, None], on_error: ErrorHandler | None
    ) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background task %s failed", name)
            if on_error is not None:
                try:
                    await on_error(exc)
                except Exception:
                    log.exception("recording the failure of task %s failed too", name)

    async def cancel(self, name: str, *, timeout: float = 10.0) -> None:
        """Cancel the task of that name, if any, and wait for it to end."""
        task = self._tasks.get(name)
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task], timeout=timeout)

    async def stop(self, *, timeout: float = 10.0) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("task %s did not stop within %ss", task.get_name(), timeout)
