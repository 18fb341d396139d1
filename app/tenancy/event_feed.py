"""The cluster event feed: one read of the event log per tick for the whole process,
fanned out to every subscriber.

On PostgreSQL a tick follows a notification: the transaction that writes an event
notifies (a trigger), one LISTEN connection per process hears it (app.store.notify),
and the feed reads once for all its subscribers; while nothing happens it reads only
every ``IDLE_SECONDS`` (to end revoked subscriptions, and in case a notification was
lost). On SQLite, which cannot notify, the one feed polls every ``POLL_SECONDS``.

The event log stays the source of truth, so changes made by any control-plane replica
reach every subscriber and none is skipped between two reads; reading it once for all
subscribers keeps the database's cost the same however many there are. The feed runs
as a named, guarded task, started when the first subscriber comes and idle (no reads)
while none is left. Each subscriber has a bounded queue: one that does not keep up is
ended with an error instead of growing memory. Subscribers whose credential (an API
key id) is no longer valid are ended too, checked for all of them with one query per
tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.store.db import SessionFactory
from app.store.notify import EVENTS_CHANNEL, NotifyListener, listens
from app.store.tables import ClusterEventRow, TenantContainerRow
from app.tasks import TaskSupervisor
from app.tenancy import queries
from app.tenancy.errors import SubscriberTooSlow, TooManySubscriptions, Unauthenticated
from app.tenancy.scope import Scope

log = logging.getLogger(__name__)

# How often the event log is read for news where the database cannot notify.
POLL_SECONDS = 0.2
# How often it is read anyway while notifications come (and revocations checked).
IDLE_SECONDS = 5.0
# Events read at once; a full page is followed by the next read without waiting.
PAGE_SIZE = 500
# Events waiting for one subscriber before it is ended as too slow.
QUEUE_SIZE = 256

Update = tuple[ClusterEventRow, TenantContainerRow]
# Which of the given credentials are still valid (one round trip for all of them).
LiveCredentials = Callable[[Collection[str]], Awaitable[set[str]]]


@dataclass(eq=False)
class Subscription:
    """One subscriber's view of the feed: iterate it for its updates, oldest first."""

    caller: str
    credential: str | None
    scope: Scope
    tenant_org_id: str
    namespace: str | None
    after_id: int  # the newest event when it subscribed: it gets only newer ones
    queue: asyncio.Queue[Update | None]
    ended: Exception | None = field(default=None, repr=False)

    def wants(self, event: ClusterEventRow, container: TenantContainerRow) -> bool:
        return (
            (event.id or 0) > self.after_id
            and container.tenant_org_id == self.tenant_org_id
            and self.namespace in (None, container.namespace)
            # Another organisation's events are left out like a nonexistent one's.
            and self.scope.covers(tenant_org_id=container.tenant_org_id, user=container.user)
        )

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Update:
        while True:
            if self.ended is not None:
                raise self.ended
            update = await self.queue.get()
            if update is not None:  # None only wakes a reader to see that it ended
                return update


class EventFeed:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        tasks: TaskSupervisor,
        live_credentials: LiveCredentials,
        poll_seconds: float = POLL_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        queue_size: int = QUEUE_SIZE,
        database_url: str | None = None,
    ) -> None:
        """``database_url``: where events are written; a PostgreSQL one is listened to
        for notifications instead of polled."""
        self._sessions = sessions
        self._tasks = tasks
        self._live_credentials = live_credentials
        self._poll_seconds = poll_seconds
        self._idle_seconds = idle_seconds
        self._queue_size = queue_size
        self._news = asyncio.Event()
        self.listener = (
            NotifyListener(database_url, channel=EVENTS_CHANNEL, on_notify=self._news.set)
            if database_url is not None and listens(database_url)
            else None
        )
        self._subscribers: set[Subscription] = set()
        self._cursor = 0  # the newest event id read
        self._wake = asyncio.Event()
        self._running = False
        self._generation = itertools.count(1)
        self.polls = 0  # reads of the event log so far

    def held_by(self, caller: str) -> int:
        return sum(1 for s in self._subscribers if s.caller == caller)

    @asynccontextmanager
    async def subscribe(
        self,
        *,
        caller: str,
        credential: str | None,
        scope: Scope,
        tenant_org_id: str,
        namespace: str | None,
        max_per_caller: int,
    ) -> AsyncIterator[Subscription]:
        """Subscribe from this moment on; refused past ``max_per_caller`` subscriptions
        of one caller (counted across all its connections)."""
        # One read per subscription (not per tick): the feed's cursor may lag up to a
        # tick behind, and only what happens from this moment on is wanted.
        async with self._sessions() as session:
            newest = await queries.last_event_id(session=session)
        if not self._subscribers:
            self._cursor = max(self._cursor, newest)  # idle until now: skip the backlog
        # From the limit check to the registration nothing awaits, so concurrent
        # subscribes of one caller cannot both slip under the limit.
        if self.held_by(caller) >= max_per_caller:
            raise TooManySubscriptions(
                f"at most {max_per_caller} subscriptions per caller are allowed; "
                "complete one before starting another"
            )
        subscription = Subscription(
            caller=caller,
            credential=credential,
            scope=scope,
            tenant_org_id=tenant_org_id,
            namespace=namespace,
            after_id=newest,
            queue=asyncio.Queue(self._queue_size),
        )
        self._subscribers.add(subscription)
        self._wake.set()
        self._ensure_running()
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def _ensure_running(self) -> None:
        if self.listener is not None and not self._tasks.running("event-notifications"):
            # Kept for the life of the process once started: one connection.
            self._tasks.start("event-notifications", self.listener.run())
        if self._running:
            return
        # A fresh name each time: a crashed feed's task may not be forgotten yet.
        self._running = self._tasks.start(
            f"event-feed-{next(self._generation)}",
            self._run(),
            on_error=self._fail_all,
            shared=True,  # serves every subscriber: not logged under the first one's id
        )

    async def _run(self) -> None:
        try:
            while True:
                if not self._subscribers:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                self._news.clear()  # news arriving during the read makes another
                more = await self._tick()
                if not more:
                    await self._until_news()
        finally:
            self._running = False

    async def _until_news(self) -> None:
        if self.listener is None or not self.listener.connected:
            await asyncio.sleep(self._poll_seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), self._idle_seconds)

    async def _tick(self) -> bool:
        """One read of the log, fanned out; True when there may be more to read."""
        async with self._sessions() as session:
            news = await queries.events_after(
                session=session, after_id=self._cursor, limit=PAGE_SIZE
            )
        self.polls += 1
        for event, container in news:
            self._cursor = max(self._cursor, event.id or 0)
            for subscription in list(self._subscribers):
                if subscription.wants(event, container):
                    self._offer(subscription, (event, container))
        await self._end_revoked()
        return len(news) == PAGE_SIZE

    def _offer(self, subscription: Subscription, update: Update) -> None:
        try:
            subscription.queue.put_nowait(update)
        except asyncio.QueueFull:
            self._end(
                subscription,
                SubscriberTooSlow(
                    f"more than {self._queue_size} events waited for this subscriber; "
                    "subscribe again (and read the events' history with a query)"
                ),
            )

    async def _end_revoked(self) -> None:
        checked = {s.credential for s in self._subscribers if s.credential is not None}
        if not checked:
            return
        live = await self._live_credentials(checked)
        for subscription in list(self._subscribers):
            # Only credentials asked about: someone may have subscribed meanwhile.
            if subscription.credential in checked - live:
                self._end(
                    subscription, Unauthenticated("the API key of this subscription was revoked")
                )

    def _end(self, subscription: Subscription, error: Exception) -> None:
        subscription.ended = error
        self._subscribers.discard(subscription)
        # A full queue's reader is not waiting: it sees the end at its next read.
        with contextlib.suppress(asyncio.QueueFull):
            subscription.queue.put_nowait(None)

    async def _fail_all(self, error: BaseException) -> None:
        # Logged by the supervisor; subscribers learn that their stream broke (masked
        # as an internal error) and may subscribe again, which restarts the feed.
        for subscription in list(self._subscribers):
            self._end(subscription, RuntimeError("the event feed stopped"))
