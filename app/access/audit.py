"""The audit log: every mutation and REST write, who did it, to what, and how it
ended. Written in its own transaction, so a failed operation is logged too; the
entries of operations ending at the same time share one (see ``_write``).

How a failure is named (``error 404 NOT_FOUND``) is the api's vocabulary, not this
layer's: the api passes it in (``outcome_of``), so access needs no import of the api."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access.principals import Principal
from app.store.db import SessionFactory, session_scope
from app.store.tables import AuditEntryRow, utcnow

log = logging.getLogger(__name__)
MAX_LIMIT = 1000
# The outcome text of an operation that raised the given exception.
OutcomeOf = Callable[[BaseException], str]


async def record(
    *,
    sessions: SessionFactory,
    principal: Principal | None,
    action: str,
    tenant_org_id: str | None,
    target: str,
    outcome: str,
) -> None:
    entry = AuditEntryRow(
        at=utcnow(),
        actor=principal.actor if principal else "anonymous",
        tenant_org_id=tenant_org_id,
        action=action,
        target=target[:300],
        outcome=outcome[:200],
    )
    try:
        await _write(sessions, entry)
    except Exception:
        # Losing an audit line must not turn a done operation into an error.
        log.exception("could not write audit entry %s %s", action, target)


@dataclass
class _Batch:
    entries: list[AuditEntryRow] = field(default_factory=list)
    written: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


# Per database: the batch still taking entries (its writer waits for the write lock).
_OPEN: WeakKeyDictionary[SessionFactory, _Batch] = WeakKeyDictionary()


async def _write(sessions: SessionFactory, entry: AuditEntryRow) -> None:
    """Write ``entry`` before returning, in one transaction with the entries of every
    other operation that ends while that transaction waits for the database's write
    lock (group commit). Under a burst of creates each needed a write of its own;
    now a few do. Whoever opens a batch writes it; when that fails, every entry of it
    is written alone (so one bad entry, or a cancelled writer, loses no other)."""
    batch = _OPEN.get(sessions)
    if batch is not None:
        batch.entries.append(entry)
        if await asyncio.shield(batch.written):
            return
    else:
        batch = _OPEN[sessions] = _Batch(entries=[entry])
        try:
            async with session_scope(sessions) as session:
                if _OPEN.get(sessions) is batch:
                    del _OPEN[sessions]  # later entries go to the next batch
                session.add_all(batch.entries)
        except BaseException as exc:
            if _OPEN.get(sessions) is batch:
                del _OPEN[sessions]
            if not batch.written.done():
                batch.written.set_result(False)
            if isinstance(exc, asyncio.CancelledError) or len(batch.entries) == 1:
                raise
        else:
            batch.written.set_result(True)
            return
    async with session_scope(sessions) as session:
        session.add(entry)


async def list_entries(
    *, session: AsyncSession, tenant_org_id: str | None = None, limit: int = 100
) -> Sequence[AuditEntryRow]:
    """Newest first."""
    statement = select(AuditEntryRow).order_by(col(AuditEntryRow.id).desc())
    if tenant_org_id is not None:
        statement = statement.where(AuditEntryRow.tenant_org_id == tenant_org_id)
    return (await session.exec(statement.limit(max(1, min(limit, MAX_LIMIT))))).all()


@dataclass
class AuditNote:
    """What the audited operation learns about its target while it runs."""

    tenant_org_id: str | None
    target: str


@asynccontextmanager
async def audited(
    *,
    sessions: SessionFactory,
    principal: Principal | None,
    action: str,
    outcome_of: OutcomeOf,
    tenant_org_id: str | None = None,
    target: str = "",
) -> AsyncIterator[AuditNote]:
    """Record the operation run inside, with its outcome, whether it succeeds or not:
    ``ok``, or ``outcome_of`` the exception it raised (cancellation included)."""
    note = AuditNote(tenant_org_id or (principal.tenant_org_id if principal else None), target)
    try:
        yield note
    except BaseException as exc:
        outcome = outcome_of(exc)
        raise
    else:
        outcome = "ok"
    finally:
        await record(
            sessions=sessions,
            principal=principal,
            action=action,
            tenant_org_id=note.tenant_org_id,
            target=note.target,
            outcome=outcome,
        )
