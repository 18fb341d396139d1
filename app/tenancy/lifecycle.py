"""Status transitions of a cluster: the only place a status changes.

Every change is checked against the allowed transitions, applied to both records
(TenantContainer and DeploymentStatus) and appended to the event log, in the caller's
transaction, so the records and their history never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.tables import (
    ClusterEventRow,
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
    utcnow,
)

ALLOWED: dict[ClusterStatus | None, frozenset[ClusterStatus]] = {
    None: frozenset({ClusterStatus.PENDING}),
    ClusterStatus.PENDING: frozenset({ClusterStatus.CREATING, ClusterStatus.FAILED}),
    ClusterStatus.CREATING: frozenset({ClusterStatus.CREATED, ClusterStatus.FAILED}),
    ClusterStatus.CREATED: frozenset(),
    ClusterStatus.FAILED: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


def record_transition(
    *,
    session: AsyncSession,
    container: TenantContainerRow,
    deployment: DeploymentStatusRow,
    to: ClusterStatus,
    reason: str,
    at: datetime | None = None,
) -> None:
    current = ClusterStatus(container.status) if container.status else None
    if to not in ALLOWED[current]:
        raise IllegalTransition(f"cluster {container.id}: {current} -> {to} is not allowed")
    at = at or utcnow()
    error = reason if to is ClusterStatus.FAILED else None
    for row in (container, deployment):
        row.status = to.value
        row.error = error
        row.updated_at = at
    if to is ClusterStatus.CREATED:
        container.sync_time = at
    session.add_all([container, deployment])
    session.add(
        ClusterEventRow(
            container_id=container.id,
            at=at,
            from_status=current.value if current else None,
            to_status=to.value,
            reason=reason,
        )
    )
