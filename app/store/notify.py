"""PostgreSQL notifications: one LISTEN connection per process, calling back on each
notification, so a change committed by any replica wakes this one without polling.

The notifications themselves are sent by the database, from the transaction that
writes the change (a trigger; migration 0007). A connection that drops is opened again;
after each (re)connection the callback is called once, since notifications sent while
nobody listened are lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# The channel the cluster_events trigger notifies (migration 0007).
EVENTS_CHANNEL = "ess_cluster_events"
# Waits between attempts to (re)connect.
RECONNECT_SECONDS = 2.0
# A quiet connection is checked this often: a peer gone without closing the socket
# (a network partition) is noticed only when something is sent.
CHECK_SECONDS = 30.0


def listens(url: str) -> bool:
    """Whether the database at ``url`` can push notifications (PostgreSQL can)."""
    return make_url(url).get_backend_name() == "postgresql"


class NotifyListener:
    def __init__(self, url: str, *, channel: str, on_notify: Callable[[], None]) -> None:
        # asyncpg's own DSN: the SQLAlchemy URL without its driver name.
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._channel = channel
        self._on_notify = on_notify
        self.connected = False
        self.notifications = 0  # received so far

    async def run(self) -> None:
        """Listen for the life of the process (a supervised task)."""
        while True:
            try:
                await self._listen_once()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("listening for database notifications failed: %s", exc)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _: closed.set())
        try:
            await connection.add_listener(self._channel, self._notified)
            self.connected = True
            self._on_notify()  # whatever was committed while nobody listened
            while not closed.is_set():
                try:
                    await asyncio.wait_for(closed.wait(), CHECK_SECONDS)
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=CHECK_SECONDS)
        finally:
            self.connected = False
            if not connection.is_closed():
                await connection.close()

    def _notified(self, *_: Any) -> None:
        self.notifications += 1
        self._on_notify()
