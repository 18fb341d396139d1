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

What each caller gets is what ``commands.create_cluster`` would give it: its record,
or the refusal of its quota check. When a batch's INSERT is refused by a unique index
(a duplicate, a namespace in use, an id another replica took), the batch is rolled back
and each of its creates is recorded on its own (``commands.create_cluster``), which
words the conflict of the one that clashed.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.quota import QuotaUsage
from app.store.db import SessionFactory, session_scope, writer_turn
from app.store.inserts import insert_rows
from app.store.tables import TenantContainerRow
from app.tenancy import commands, quota
from app.tenancy.clock import SYSTEM_CLOCK, Clock
from app.tenancy.commands import AuditRow
from app.tenancy.errors import QuotaExceeded, Undersized
from app.tenancy.leases import LeaseTerms
from app.tenancy.naming import IdSequence
from app.tenancy.requests import ClusterRequest

# Creates per transaction at most: bounds the statements' parameters and how long one
# transaction holds the lock.
MOST_PER_BATCH = 64


@dataclass(eq=False, kw_only=True)
class _Create:
    """One caller's create, waiting for its batch."""

    request: ClusterRequest
    ids: IdSequence
    quotas: quota.QuotaDefaults
    clock: Clock
    lease: LeaseTerms | None
    audit_row: AuditRow | None
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

    async def create(
        self,
        *,
        ids: IdSequence,
        request: ClusterRequest,
        quotas: quota.QuotaDefaults = quota.NO_DEFAULTS,
        clock: Clock = SYSTEM_CLOCK,
        lease: LeaseTerms | None = None,
        audit_row: AuditRow | None = None,
    ) -> TenantContainerRow:
        """As ``commands.create_cluster``, recorded with the creates waiting with it."""
        waiting = _Create(
            request=request, ids=ids, quotas=quotas, clock=clock, lease=lease, audit_row=audit_row
        )
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
                outcomes = await _record_together(session, batch)
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
            outcome: TenantContainerRow | BaseException = await commands.create_cluster(
                sessions=self._sessions,
                ids=waiting.ids,
                request=waiting.request,
                quotas=waiting.quotas,
                clock=waiting.clock,
                lease=waiting.lease,
                audit_row=waiting.audit_row,
                turn_held=True,
            )
        except Exception as error:
            outcome = error
        waiting.settle(outcome)


async def _record_together(
    session: AsyncSession, batch: list[_Create]
) -> list[TenantContainerRow | BaseException]:
    """Check each create of ``batch`` and write the records of those that pass; each
    one's record or refusal, in order."""
    orgs = {waiting.request.tenant_org_id for waiting in batch}
    await quota.guard_all(session, orgs)  # first: see app.tenancy.quota
    subjects = {waiting: quota.Subject.all_of(waiting.request) for waiting in batch}
    stored = await quota.stored_limits(session, orgs)
    held = await quota.usage_of(session, [s for three in subjects.values() for s in three])
    rows: list[SQLModel] = []
    outcomes: list[TenantContainerRow | BaseException] = []
    for waiting in batch:
        request = waiting.request
        try:
            quota.refuse_excess(
                limits=quota.limits_among(stored, subjects[waiting], waiting.quotas),
                held=held,
                before=None,
                after=request,
            )
        except (QuotaExceeded, Undersized) as refused:
            outcomes.append(refused)
            continue
        for subject in subjects[waiting]:  # what the creates after it see
            held[subject] += QuotaUsage.of_cluster(request)
        container, records = commands.new_records(
            request=request,
            n=waiting.ids.next(),
            now=waiting.clock(),
            lease=waiting.lease,
            audit_row=waiting.audit_row,
        )
        rows += records
        outcomes.append(container)
    await insert_rows(session, rows)
    return outcomes


_BATCHES: WeakKeyDictionary[SessionFactory, CreateBatches] = WeakKeyDictionary()


def batches_of(sessions: SessionFactory) -> CreateBatches:
    """The one ``CreateBatches`` of a database's session factory in this process."""
    batches = _BATCHES.get(sessions)
    if batches is None:
        batches = _BATCHES[sessions] = CreateBatches(sessions)
    return batches
