"""Database tables: the spec's two records (TenantContainer, DeploymentStatus) and the
cluster event log.

These are storage shapes only; the REST and GraphQL shapes are built from them
explicitly in the api layer. Column types are portable (SQLite and PostgreSQL).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ClusterStatus(enum.StrEnum):
    PENDING = "pending"
    CREATING = "creating"
    CREATED = "created"
    FAILED = "failed"
    UPDATING = "updating"
    DEGRADED = "degraded"
    DELETING = "deleting"
    DELETED = "deleted"

    @property
    def in_progress(self) -> bool:
        """Work the control plane owes: resumed from the database after a restart."""
        return self in IN_PROGRESS


IN_PROGRESS = frozenset(
    {ClusterStatus.PENDING, ClusterStatus.CREATING, ClusterStatus.UPDATING, ClusterStatus.DELETING}
)
# Only live (not deleted) records hold their tenant key and namespace, so a deleted
# service can be created again while its history is kept for billing.
LIVE = sa.text("deleted_at IS NULL")


def _timestamp(*, index: bool = False) -> Any:
    return Field(sa_type=sa.DateTime(timezone=True), index=index)  # type: ignore[call-overload]


def _optional_timestamp() -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]


def _reference(table: str, *, unique: bool = False, index: bool = False) -> Any:
    """A required reference to ``table``'s id; the row goes when the referenced one does."""
    return Field(
        sa_column=sa.Column(
            sa.String(200),
            sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
            nullable=False,
            unique=unique,
            index=index,
        )
    )


def _live_unique(name: str, *columns: str) -> sa.Index:
    # Partial unique indexes: supported alike by SQLite and PostgreSQL.
    return sa.Index(name, *columns, unique=True, sqlite_where=LIVE, postgresql_where=LIVE)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Optimistic concurrency for a cluster's record (SQLAlchemy's version counter): every
# UPDATE of the row says ``WHERE id = :id AND version = :version_read`` and bumps the
# version, so a write based on a stale read matches no row and fails instead of
# overwriting a newer change. Only a database compare-and-set holds across several
# server processes and on SQLite, where SELECT ... FOR UPDATE locks nothing.
_CONTAINER_VERSION = sa.Column("version", sa.Integer, nullable=False, server_default="1")


class TenantContainerRow(SQLModel, table=True):
    __tablename__ = "tenant_containers"
    __table_args__ = (
        _live_unique("uq_tenant_containers_live_tenant", "tenant_org_id", "user", "service_name"),
        _live_unique("uq_tenant_containers_live_namespace", "namespace"),
    )

    id: str = Field(primary_key=True, max_length=200)
    tenant_org_id: str = Field(index=True, max_length=63)
    user: str = Field(max_length=63)
    service_name: str = Field(max_length=63)
    namespace: str = Field(max_length=63)
    replicas: int
    cpu_request: str = Field(max_length=32)
    cpu_limit: str = Field(max_length=32)
    mem_request: str = Field(max_length=32)
    mem_limit: str = Field(max_length=32)
    disk_size: str = Field(max_length=32)
    gpu_count: int
    dimension: int
    vector_count: int = Field(sa_type=sa.BigInteger)  # type: ignore[call-overload]
    index_limit: int
    gitlab_url: str | None = Field(default=None, max_length=2048)
    status: str = Field(max_length=16, index=True)
    # Why the cluster failed, in words a user can act on; None unless status is failed.
    error: str | None = Field(default=None, sa_type=sa.Text)  # type: ignore[call-overload]
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    sync_time: datetime | None = _optional_timestamp()
    deleted_at: datetime | None = _optional_timestamp()
    version: int = Field(default=1, sa_column=_CONTAINER_VERSION)

    __mapper_args__ = {"version_id_col": _CONTAINER_VERSION}


class DeploymentStatusRow(SQLModel, table=True):
    __tablename__ = "deployment_statuses"
    __table_args__ = (_live_unique("uq_deployment_statuses_live_namespace", "namespace"),)

    id: str = Field(primary_key=True, max_length=200)
    container_id: str = _reference("tenant_containers", unique=True)
    tenant_org_id: str = Field(index=True, max_length=63)
    namespace: str = Field(max_length=63)
    user: str = Field(max_length=63)
    service_name: str = Field(max_length=63)
    status: str = Field(max_length=16)
    error: str | None = Field(default=None, sa_type=sa.Text)  # type: ignore[call-overload]
    cpu_usage: float = 0.0
    memory_usage: float = 0.0
    disk_usage: float = 0.0
    qps: float = 0.0
    gpu_count: int
    dimension: int
    vector_count: int = Field(sa_type=sa.BigInteger)  # type: ignore[call-overload]
    replicas: int
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    details: dict[str, Any] = Field(sa_type=sa.JSON)  # type: ignore[call-overload]
    deleted_at: datetime | None = _optional_timestamp()


class ClusterEventRow(SQLModel, table=True):
    """One status transition of a cluster: the audit trail of its life."""

    __tablename__ = "cluster_events"

    id: int | None = Field(default=None, primary_key=True)
    container_id: str = _reference("tenant_containers", index=True)
    at: datetime = _timestamp()
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(default="", sa_type=sa.Text)  # type: ignore[call-overload]


class UsageSampleRow(SQLModel, table=True):
    """One usage report of a running deployment (kept for a bounded time)."""

    __tablename__ = "usage_samples"

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: str = _reference("deployment_statuses", index=True)
    at: datetime = _timestamp(index=True)
    cpu_usage: float
    memory_usage: float
    disk_usage: float
    qps: float


class ApiKeyRow(SQLModel, table=True):
    """An organisation API key. Only a hash of its secret is kept."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    tenant_org_id: str = Field(index=True, max_length=63)
    # Set: the key sees and changes only this user's services.
    user: str | None = Field(default=None, max_length=63)
    name: str = Field(max_length=200)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = _timestamp()
    last_used_at: datetime | None = _optional_timestamp()
    revoked_at: datetime | None = _optional_timestamp()


class AuditEntryRow(SQLModel, table=True):
    """Who did what to which tenant's resources, and how it ended."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _timestamp(index=True)
    actor: str = Field(max_length=64)  # "admin", "key:<id>", "report:<namespace>", "anonymous"
    tenant_org_id: str | None = Field(default=None, index=True, max_length=63)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=300)
    outcome: str = Field(max_length=200)
