"""Database tables: the spec's two records (TenantContainer, DeploymentStatus), the
cluster event log, usage history, API keys and the audit log.

The two records' fields are the model family's (app.models); a table adds only what
storage needs: indexes, the version counter, the foreign key. These are storage
shapes; the REST and GraphQL shapes are built from the models in the api layer.
Column types are portable (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.billing import LedgerSegment, PriceList
from app.models.quota import QuotaLevel, QuotaLimits
from app.models.records import (
    ClusterRecord,
    DeploymentRecord,
    optional_timestamp,
    timestamp,
)
from app.models.status import IN_PROGRESS, ClusterStatus, StatusColumn
from app.models.usage import Usage
from app.models.versions import MAX_VERSION_LENGTH

__all__ = [
    "IN_PROGRESS",
    "LIVE",
    "ApiKeyRow",
    "AuditEntryRow",
    "ClusterEventRow",
    "ClusterStatus",
    "DeploymentStatusRow",
    "PlatformFactRow",
    "PriceRow",
    "QuotaGuardRow",
    "QuotaRow",
    "TenantContainerRow",
    "UsageLedgerRow",
    "UsageSampleRow",
    "utcnow",
]

# Only live (not deleted) records hold their tenant key and namespace, so a deleted
# service can be created again while its history is kept for billing.
LIVE = sa.text("deleted_at IS NULL")


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


def _es_version() -> Any:
    """The Elasticsearch version's column, ``es_version``: ``version`` is the container
    record's counter (below), there since before clusters had versions."""
    return Field(sa_column=sa.Column("es_version", sa.String(MAX_VERSION_LENGTH), nullable=False))


# Optimistic concurrency for a cluster's record (SQLAlchemy's version counter): every
# UPDATE of the row says ``WHERE id = :id AND version = :version_read`` and bumps the
# version, so a write based on a stale read matches no row and fails instead of
# overwriting a newer change. Only a database compare-and-set holds across several
# server processes and on SQLite, where SELECT ... FOR UPDATE locks nothing.
_CONTAINER_VERSION = sa.Column("version", sa.Integer, nullable=False, server_default="1")


class TenantContainerRow(ClusterRecord, table=True):
    __tablename__ = "tenant_containers"
    __table_args__ = (
        _live_unique("uq_tenant_containers_live_tenant", "tenant_org_id", "user", "service_name"),
        _live_unique("uq_tenant_containers_live_namespace", "namespace"),
        # The listings' keyset orders (app.tenancy.paging), per organisation and in all.
        sa.Index("ix_tenant_containers_org_created", "tenant_org_id", "created_at", "id"),
        sa.Index("ix_tenant_containers_org_name", "tenant_org_id", "service_name", "user", "id"),
        sa.Index("ix_tenant_containers_created", "created_at", "id"),
        sa.Index("ix_tenant_containers_name", "service_name", "user", "id"),
    )

    # The counter is ``row_version`` here, ``version`` in the database.
    row_version: int = Field(default=1, sa_column=_CONTAINER_VERSION)
    version: str = _es_version()  # type: ignore[assignment]
    # How many times the `elastic` credentials were reset: mixed into the password's
    # derivation (app.secrets), so a reset is one increment, recorded like any change.
    credentials_generation: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    # Which control-plane replica works on the cluster, and until when unless it renews
    # (app.tenancy.leases). Not part of the record's shape: storage only, like row_version.
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = optional_timestamp()

    __mapper_args__ = {"version_id_col": _CONTAINER_VERSION}


class DeploymentStatusRow(DeploymentRecord, table=True):
    __tablename__ = "deployment_statuses"
    __table_args__ = (_live_unique("uq_deployment_statuses_live_namespace", "namespace"),)

    container_id: str = _reference("tenant_containers", unique=True)
    version: str = _es_version()  # type: ignore[assignment]


class ClusterEventRow(SQLModel, table=True):
    """One status transition of a cluster: the audit trail of its life."""

    __tablename__ = "cluster_events"

    id: int | None = Field(default=None, primary_key=True)
    container_id: str = _reference("tenant_containers", index=True)
    at: datetime = timestamp()
    from_status: ClusterStatus | None = Field(default=None, sa_type=StatusColumn)
    to_status: ClusterStatus = Field(sa_type=StatusColumn)
    reason: str = Field(default="", sa_type=sa.Text)  # type: ignore[call-overload]


class UsageSampleRow(Usage, table=True):
    """One usage report of a running deployment (kept for a bounded time)."""

    __tablename__ = "usage_samples"

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: str = _reference("deployment_statuses", index=True)
    at: datetime = timestamp(index=True)


class ApiKeyRow(SQLModel, table=True):
    """An organisation API key. Only a hash of its secret is kept."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    tenant_org_id: str = Field(index=True, max_length=63)
    # Set: the key sees and changes only this user's services.
    user: str | None = Field(default=None, max_length=63)
    name: str = Field(max_length=200)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = timestamp()
    last_used_at: datetime | None = optional_timestamp()
    revoked_at: datetime | None = optional_timestamp()


class AuditEntryRow(SQLModel, table=True):
    """Who did what to which tenant's resources, and how it ended."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp(index=True)
    actor: str = Field(max_length=64)  # "admin", "key:<id>", "report:<namespace>", "anonymous"
    tenant_org_id: str | None = Field(default=None, index=True, max_length=63)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=300)
    outcome: str = Field(max_length=200)


class QuotaRow(QuotaLimits, table=True):
    """A quota set by the platform admin: an organisation's (user and service ""), a
    user's (service "") or a service's. Absent rows mean the operator's defaults."""

    __tablename__ = "quotas"
    __table_args__ = (
        sa.UniqueConstraint(
            "tenant_org_id", "level", "user", "service_name", name="uq_quotas_subject"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The unique constraint's index (it leads with the organisation) serves look-ups.
    tenant_org_id: str = Field(max_length=63)
    level: QuotaLevel = Field(sa_type=sa.String(16))
    # "" rather than NULL: a unique constraint treats NULLs as distinct from each other.
    user: str = Field(default="", max_length=63)
    service_name: str = Field(default="", max_length=63)
    updated_at: datetime = timestamp()


class QuotaGuardRow(SQLModel, table=True):
    """One row per organisation, written first by every transaction that checks its
    quotas: the write takes the row's lock (PostgreSQL) or the database's write lock
    (SQLite) before usage is read, so checks of one organisation run one after another
    and concurrent creates can never both fit under the same limit."""

    __tablename__ = "quota_guards"

    tenant_org_id: str = Field(primary_key=True, max_length=63)
    checks: int = Field(default=0, sa_type=sa.BigInteger)


# The ledger's open segments: at most one per cluster.
_OPEN = sa.text("ended_at IS NULL")


class UsageLedgerRow(LedgerSegment, table=True):
    """One segment of the usage ledger (app.tenancy.ledger): append-only, and only an
    open segment's end time is ever written, once."""

    __tablename__ = "usage_ledger"
    __table_args__ = (
        sa.Index(
            "uq_usage_ledger_open",
            "container_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # A bill reads one organisation's segments that began before the period's end.
        sa.Index("ix_usage_ledger_org_start", "tenant_org_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Closing finds the open segment through uq_usage_ledger_open.
    container_id: str = _reference("tenant_containers")
    # Served by ix_usage_ledger_org_start, which leads with it.
    tenant_org_id: str = Field(max_length=63, sa_type=sa.String(63))


class PriceRow(PriceList, table=True):
    """A price list recorded by the platform admin, in force from ``effective_from``
    until the next one. Never changed once recorded."""

    __tablename__ = "prices"

    id: int | None = Field(default=None, primary_key=True)
    effective_from: datetime = Field(sa_type=sa.DateTime(timezone=True), unique=True)
    created_at: datetime = timestamp()


class PlatformFactRow(SQLModel, table=True):
    """A fact about the platform every replica must agree on, recorded by the first to
    start (the fingerprint of the server key, say)."""

    __tablename__ = "platform_facts"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    recorded_at: datetime = timestamp()
