"""The usage ledger: what each cluster reserved, and when, written in the same
transaction as the record change that decides it.

Every recorded create, update and delete of a cluster closes the cluster's open segment
(if any) at that moment, and a create or update opens a new one with the resources then
in force (replicas, cpu_limit, mem_limit, disk_size, gpu_count per node) and the tenant
key. A delete opens none: billing stops when the delete is recorded.

The rule, kept by this module being the only writer of the table: the ledger is
append-only. A segment is never deleted and never changed, except that an open one's
``ended_at`` is set once, when it is closed (the UPDATE matches only a segment whose
``ended_at`` is still null, so a closed one can never be touched again). Bills are
computed from it and only read it; history is never rewritten.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.billing import BILLED_RESOURCES
from app.store.inserts import new_row
from app.store.tables import TenantContainerRow, UsageLedgerRow

_KEY = ("tenant_org_id", "user", "service_name", "namespace")


async def record_change(
    *, session: AsyncSession, container: TenantContainerRow, at: datetime, opens: bool
) -> None:
    """Close ``container``'s open segment at ``at``; with ``opens``, open a new one from
    ``at`` with the resources the container's record now reserves."""
    await _close(session=session, container_id=container.id, at=at)
    if opens:
        session.add(segment(container, at))
    await session.flush()


def segment(container: TenantContainerRow, at: datetime) -> UsageLedgerRow:
    """An open segment from ``at`` with the resources ``container``'s record reserves
    (a new cluster's first one is INSERTed with its records: it has none to close)."""
    return new_row(
        UsageLedgerRow,
        container_id=container.id,
        **{name: getattr(container, name) for name in (*_KEY, *BILLED_RESOURCES)},
        started_at=at,
        ended_at=None,
    )


async def _close(*, session: AsyncSession, container_id: str, at: datetime) -> None:
    open_segment = (col(UsageLedgerRow.container_id) == container_id) & col(
        UsageLedgerRow.ended_at
    ).is_(None)
    # Never before the segment's start (clocks of several server processes may differ
    # a little): a segment is at worst empty, never negative.
    started = col(UsageLedgerRow.started_at)
    end = sa.case((started > at, started), else_=sa.literal(at, type_=sa.DateTime(True)))
    statement = sa.update(UsageLedgerRow).where(open_segment).values(ended_at=end)
    await session.exec(statement.execution_options(synchronize_session=False))
