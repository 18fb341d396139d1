"""Creates recorded together: the creates that arrive while one transaction writes are
recorded by the next one, all in one (group commit).

A create's transaction is short, but it holds the database's write lock (SQLite has
one; on PostgreSQL, the organisation's quota guard) across ten round trips, and each
waits for the event loop, busy with every other request, to come back to it. Under a
burst of creates the lock was held all the time and each create waited for every one
before it. Here, a batch takes the quota guards of its organisations and reads their
quotas and usage once, checks each create in order of arrival against the usage the
ones before it add (as one transaction after another would), and INSERTs the rows of
all it accepts with one statement per table. The batch grows with the load: one create
alone is a batch of one.

What each caller gets is what a transaction of its own would give it
(app.tenancy.creates): its record, or the refusal of its quota check. When a batch's
INSERT is refused by a unique index (a duplicate, a namespace in use, an id another
replica took), the batch is rolled back and each of its creates is recorded on its own
(``creates.record_create``), which words the conflict of the one that clashed.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy.exc import IntegrityError

from app.store.db import SessionFactory, session_scope, writer_turn
from app.store.tables import TenantContainerRow
from app.tenancy.creates import NewCluster, record_create, record_creates

# Creates per transaction at most: bounds the statements' parameters and how long one
# transaction holds the lock.
MOST_PER_BATCH = 64


@dataclass(eq=False)
class _Create:
    """One caller's create, waiting for its batch."""

    new: NewCluster
    answer: asyncio.Future[TenantContainerRow] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: TenantContainerRow | BaseException) -> None:
        if self.answer.done():  # the caller gave up waiting (cancelled)
            return
        if isinstance(outcome, BaseException):
            self.answer.set_exception(outcome)
        else:
            self.answer.set_result(outcome)


class CreateBatches:
    """The creates of one database, recorded in batches by one task at a time."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._waiting: deque[_Create] = deque()
        self._recorder: asyncio.Task[None] | None = None

    async def create(self, new: NewCluster) -> TenantContainerRow:
        """``new`` recorded with the creates waiting with it."""
        waiting = _Create(new)
        self._waiting.append(waiting)
        if self._recorder is None or self._recorder.done():
            # A context of its own: the batches are no one request's work (its logs
            # must not carry the request id of whichever create started it).
            self._recorder = asyncio.create_task(
                self._record_waiting(), context=contextvars.Context()
            )
        return await waiting.answer

    async def _record_waiting(self) -> None:
        batch: list[_Create] = []
        try:
            # One turn of the writer for every batch while creates keep coming, as
            # they are requests waiting for answers (app.store.db.WriterQueue): the
            # worker's transactions would otherwise go between every two batches.
            async with writer_turn(self._sessions):
                while self._waiting:
                    batch = []
                    while self._waiting and len(batch) < MOST_PER_BATCH:
                        waiting = self._waiting.popleft()
                        if not waiting.answer.done():
                            batch.append(waiting)
                    if batch:
                        await self._record(batch)
        except asyncio.CancelledError:  # the server stops: nothing more is recorded
            for waiting in (*batch, *self._waiting):
                waiting.answer.cancel()
            raise

    async def _record(self, batch: list[_Create]) -> None:
        try:
            async with session_scope(self._sessions, turn_held=True) as session:
                outcomes = await record_creates(session, [w.new for w in batch])
        except IntegrityError:
            for waiting in batch:
                await self._record_alone(waiting)
            return
        except Exception as error:  # the database failed them all (nothing was written)
            outcomes = [error] * len(batch)
        for waiting, outcome in zip(batch, outcomes, strict=True):
            waiting.settle(outcome)

    async def _record_alone(self, waiting: _Create) -> None:
        try:
            outcome: TenantContainerRow | BaseException = await record_create(
                self._sessions, waiting.new, turn_held=True
            )
        except Exception as error:
            outcome = error
        waiting.settle(outcome)


_BATCHES: WeakKeyDictionary[SessionFactory, CreateBatches] = WeakKeyDictionary()


def batches_of(sessions: SessionFactory) -> CreateBatches:
    """The one ``CreateBatches`` of a database's session factory in this process."""
    batches = _BATCHES.get(sessions)
    if batches is None:
        batches = _BATCHES[sessions] = CreateBatches(sessions)
    return batches
