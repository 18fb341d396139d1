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

    @property
    def in_progress(self) -> bool:
        return self in (ClusterStatus.PENDING, ClusterStatus.CREATING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TenantContainerRow(SQLModel, table=True):
    __tablename__ = "tenant_containers"
    __table_args__ = (
        sa.UniqueConstraint(
            "tenant_org_id", "user", "service_name", name="uq_tenant_containers_org_user_service"
        ),
        sa.UniqueConstraint("namespace", name="uq_tenant_containers_namespace"),
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
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]
    sync_time: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),  # type: ignore[call-overload]
    )


class DeploymentStatusRow(SQLModel, table=True):
    __tablename__ = "deployment_statuses"
    __table_args__ = (sa.UniqueConstraint("namespace", name="uq_deployment_statuses_namespace"),)

    id: str = Field(primary_key=True, max_length=200)
    container_id: str = Field(
        sa_column=sa.Column(
            sa.String(200),
            sa.ForeignKey("tenant_containers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
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
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]
    details: dict[str, Any] = Field(sa_type=sa.JSON)  # type: ignore[call-overload]


class ClusterEventRow(SQLModel, table=True):
    """One status transition of a cluster: the audit trail of its life."""

    __tablename__ = "cluster_events"

    id: int | None = Field(default=None, primary_key=True)
    container_id: str = Field(
        sa_column=sa.Column(
            sa.String(200),
            sa.ForeignKey("tenant_containers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))  # type: ignore[call-overload]
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(default="", sa_type=sa.Text)  # type: ignore[call-overload]
