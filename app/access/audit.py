"""The audit log: every mutation and REST write, who did it, to what, and how it
ended. Written in its own transaction, so a failed operation is logged too.

How a failure is named (``error 404 NOT_FOUND``) is the api's vocabulary, not this
layer's: the api passes it in (``outcome_of``), so access needs no import of the api."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.access.principals import Principal
from app.store.db import SessionFactory, session_scope
from app.store.inserts import new_row
from app.store.tables import AuditEntryRow, utcnow

log = logging.getLogger(__name__)
MAX_LIMIT = 1000
# The entries a listing holds when no limit is given.
DEFAULT_LIMIT = 100
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
    entry = _entry(
        actor=_actor(principal),
        action=action,
        tenant_org_id=tenant_org_id,
        target=target,
        outcome=outcome,
    )
    try:
        async with session_scope(sessions) as session:
            session.add(entry)
    except Exception:
        # Losing an audit line must not turn a done operation into an error.
        log.exception("could not write audit entry %s %s", action, target)


async def list_entries(
    *, session: AsyncSession, tenant_org_id: str | None = None, limit: int = DEFAULT_LIMIT
) -> Sequence[AuditEntryRow]:
    """Newest first."""
    statement = select(AuditEntryRow).order_by(col(AuditEntryRow.id).desc())
    if tenant_org_id is not None:
        statement = statement.where(AuditEntryRow.tenant_org_id == tenant_org_id)
    return (await session.exec(statement.limit(max(1, min(limit, MAX_LIMIT))))).all()


def _actor(principal: Principal | None) -> str:
    return principal.actor if principal else "anonymous"


def _entry(
    *, actor: str, action: str, tenant_org_id: str | None, target: str, outcome: str
) -> AuditEntryRow:
    return new_row(
        AuditEntryRow,
        at=utcnow(),
        actor=actor,
        tenant_org_id=tenant_org_id,
        action=action,
        target=target[:300],
        outcome=outcome[:200],
    )


@dataclass
class AuditNote:
    """What the audited operation learns about its target while it runs."""

    tenant_org_id: str | None
    target: str
    actor: str = "anonymous"
    action: str = ""
    # Whether the operation took its "ok" line into its own transaction (``success_row``).
    written: bool = False

    def success_row(self, target: str) -> AuditEntryRow:
        """The operation's "ok" line, about ``target``, for the operation to write in the
        transaction that records its change: a recorded change then always has its line,
        and a create costs one transaction, not two. Should that transaction fail,
        ``audited`` writes the failure in one of its own, as for any other, about the
        target as it was: the refused change's target was never recorded."""
        self.written = True
        return _entry(
            actor=self.actor,
            action=self.action,
            tenant_org_id=self.tenant_org_id,
            target=target,
            outcome="ok",
        )


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
    note = AuditNote(
        tenant_org_id or (principal.tenant_org_id if principal else None),
        target,
        actor=_actor(principal),
        action=action,
    )

    async def write(outcome: str) -> None:
        await record(
            sessions=sessions,
            principal=principal,
            action=action,
            tenant_org_id=note.tenant_org_id,
            target=note.target,
            outcome=outcome,
        )

    try:
        yield note
    except BaseException as exc:
        await write(outcome_of(exc))
        raise
    if not note.written:
        await write("ok")
