"""Status transitions of a cluster: the only place a status changes.

Every change is checked against the allowed transitions, applied to both records
(TenantContainer and DeploymentStatus) and appended to the event log, in the caller's
transaction, so the records and their history never disagree.

Every change is also a compare-and-set on the container's version: the UPDATE matches
only the version the caller read (``TenantContainerRow.row_version``, SQLAlchemy's version
counter), so of concurrent changes of one cluster exactly one is recorded and the
others get ``ClusterChanged``. Whatever else the caller changed on the container row
(a new spec, say) goes into the same guarded UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.inserts import new_row
from app.store.tables import (
    ClusterEventRow,
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
    utcnow,
)
from app.tenancy.errors import ClusterChanged

S = ClusterStatus
ALLOWED: dict[ClusterStatus | None, frozenset[ClusterStatus]] = {
    None: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.CREATING, S.FAILED, S.DELETING}),
    S.CREATING: frozenset({S.CREATED, S.FAILED, S.DELETING}),
    S.CREATED: frozenset({S.UPDATING, S.UPGRADING, S.DEGRADED, S.DELETING}),
    S.UPDATING: frozenset({S.CREATED, S.FAILED, S.DELETING}),
    # A rolling upgrade; a failed one is resumed by an update (re-apply).
    S.UPGRADING: frozenset({S.CREATED, S.FAILED, S.DELETING}),
    # A degraded cluster heals by itself (readiness regained) or by an update
    # that re-applies its objects.
    S.DEGRADED: frozenset({S.CREATED, S.UPDATING, S.DELETING}),
    # A failed cluster can be fixed by an update (which re-applies everything).
    S.FAILED: frozenset({S.UPDATING, S.UPGRADING, S.DELETING}),
    S.DELETING: frozenset({S.DELETED, S.FAILED}),
    S.DELETED: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    """A cluster's two records, loaded together (``queries.container_pair``): their
    status changes as one, through ``transition``."""

    container: TenantContainerRow
    deployment: DeploymentStatusRow

    async def transition(
        self,
        *,
        session: AsyncSession,
        to: ClusterStatus,
        reason: str,
        read_version: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Move the cluster to ``to``, written at once (flushed) so that a lost race
        surfaces here as ``ClusterChanged``. ``read_version`` is the version the
        caller's decision rests on when it read the record in an earlier transaction
        (the worker, the reconciler); by default the version loaded in this session."""
        container = self.container
        # Worded now: a failed flush expires the rows, and they cannot be reloaded then.
        changed = ClusterChanged(
            f'cluster in namespace "{container.namespace}" was changed by another request '
            "meanwhile; read it again and retry"
        )
        if read_version is not None and container.row_version != read_version:
            raise changed
        session.add_all([container, self.deployment])
        session.add(self._apply(to=to, reason=reason, at=at or utcnow()))
        try:
            await session.flush()
        except StaleDataError:
            raise changed from None

    def first_rows(self, *, reason: str, at: datetime) -> list[SQLModel]:
        """A new cluster's records in their first status (``pending``) and that
        transition's event: the rows to INSERT (app.store.inserts), as a create is the
        hot path and nothing else can know of the rows before they are committed."""
        event = self._apply(to=ClusterStatus.PENDING, reason=reason, at=at)
        return [self.container, self.deployment, event]

    def _apply(self, *, to: ClusterStatus, reason: str, at: datetime) -> ClusterEventRow:
        """Set both records to ``to`` if the move is allowed; the event that records it."""
        container, deployment = self.container, self.deployment
        current = ClusterStatus(container.status) if container.status else None
        if to not in ALLOWED[current]:
            raise IllegalTransition(f"cluster {container.id}: {current} -> {to} is not allowed")
        # The reason is shown as the error while the cluster is failed or degraded.
        error = reason if to in (ClusterStatus.FAILED, ClusterStatus.DEGRADED) else None
        for row in (container, deployment):
            row.status = to
            row.error = error
            row.updated_at = at
            if to is ClusterStatus.DELETED:
                row.deleted_at = at
        if to is ClusterStatus.CREATED:
            container.sync_time = at
            deployment.upgrade = None  # an upgrade under way ends here
        return new_row(
            ClusterEventRow,
            container_id=container.id,
            at=at,
            from_status=current,
            to_status=to,
            reason=reason,
        )


async def record_progress(
    *, session: AsyncSession, container_id: str, status: ClusterStatus, reason: str
) -> None:
    """An event of work in progress that changes no status (``from`` and ``to`` are both
    ``status``): the steps of a scale-down, say, so their order is in the history."""
    session.add(
        ClusterEventRow(
            container_id=container_id,
            at=utcnow(),
            from_status=status,
            to_status=status,
            reason=reason,
        )
    )
