"""A cluster's status: one enum, stored as its value and shown as its value everywhere
(REST, GraphQL, the event log)."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class ClusterStatus(enum.StrEnum):
    """Where a cluster is in its life; the transitions between these are
    app.tenancy.lifecycle's."""

    PENDING = "pending"
    CREATING = "creating"
    CREATED = "created"
    FAILED = "failed"
    UPDATING = "updating"
    # A version change rolling out one pod at a time (progress: DeploymentStatus.upgrade).
    UPGRADING = "upgrading"
    DEGRADED = "degraded"
    DELETING = "deleting"
    DELETED = "deleted"

    @property
    def in_progress(self) -> bool:
        """Work the control plane owes: resumed from the database after a restart."""
        return self in IN_PROGRESS


IN_PROGRESS = frozenset(
    {
        ClusterStatus.PENDING,
        ClusterStatus.CREATING,
        ClusterStatus.UPDATING,
        ClusterStatus.UPGRADING,
        ClusterStatus.DELETING,
    }
)


class StatusColumn(sa.types.TypeDecorator[ClusterStatus]):
    """A status column: the enum's value in a VARCHAR(16), exactly as the column held it
    before it was typed (so no migration), read back as the enum."""

    impl = sa.String(16)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        # A new record's status is "" until its first transition, in the same transaction.
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> ClusterStatus | None:
        return None if value is None else ClusterStatus(value)
