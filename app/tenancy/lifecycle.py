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

S = ClusterStatus
ALLOWED: dict[ClusterStatus | None, frozenset[ClusterStatus]] = {
    None: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.CREATING, S.FAILED, S.DELETING}),
    S.CREATING: frozenset({S.CREATED, S.FAILED, S.DELETING}),
    S.CREATED: frozenset({S.UPDATING, S.DEGRADED, S.DELETING}),
    S.UPDATING: frozenset({S.CREATED, S.FAILED, S.DELETING}),
    # A degraded cluster heals by itself (readiness regained) or by an update
    # that re-applies its objects.
    S.DEGRADED: frozenset({S.CREATED, S.UPDATING, S.DELETING}),
    # A failed cluster can be fixed by an update (which re-applies everything).
    S.FAILED: frozenset({S.UPDATING, S.DELETING}),
    S.DELETING: frozenset({S.DELETED, S.FAILED}),
    S.DELETED: frozenset(),
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
    # The reason is shown as the error while the cluster is failed or degraded.
    error = reason if to in (ClusterStatus.FAILED, ClusterStatus.DEGRADED) else None
    for row in (container, deployment):
        row.status = to.value
        row.error = error
        row.updated_at = at
        if to is ClusterStatus.DELETED:
            row.deleted_at = at
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
