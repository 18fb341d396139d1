"""the usage ledger and the price table

Clusters alive when this runs get an open segment from now: the ledger cannot know
what they reserved before it existed, so their billing starts here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 17:42:41
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("ended_at IS NULL")
_BILLED = ("replicas", "cpu_limit", "mem_limit", "disk_size", "gpu_count")
_KEY = ("tenant_org_id", "user", "service_name", "namespace")


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("cpu_core_hour", sa.String(length=40), nullable=False),
        sa.Column("memory_gib_hour", sa.String(length=40), nullable=False),
        sa.Column("disk_gib_hour", sa.String(length=40), nullable=False),
        sa.Column("gpu_hour", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("effective_from"),
    )
    ledger = op.create_table(
        "usage_ledger",
        sa.Column("user", sa.String(length=63), nullable=False),
        sa.Column("service_name", sa.String(length=63), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("container_id", sa.String(length=200), nullable=False),
        sa.Column("tenant_org_id", sa.String(length=63), nullable=False),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("cpu_limit", sa.String(length=32), nullable=False),
        sa.Column("mem_limit", sa.String(length=32), nullable=False),
        sa.Column("disk_size", sa.String(length=32), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["container_id"], ["tenant_containers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_ledger_org_start", ["tenant_org_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "uq_usage_ledger_open",
            ["container_id"],
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )
    assert ledger is not None
    _open_live_clusters(ledger)


def _open_live_clusters(ledger: sa.Table) -> None:
    containers = sa.table(
        "tenant_containers",
        sa.column("id"),
        sa.column("deleted_at"),
        sa.column("status"),
        *(sa.column(name) for name in (*_KEY, *_BILLED)),
    )
    rows = op.get_bind().execute(
        sa.select(containers).where(
            containers.c.deleted_at.is_(None), containers.c.status.notin_(["deleting", "deleted"])
        )
    )
    now = datetime.now(UTC)
    segments = [
        {
            "container_id": row.id,
            **{name: getattr(row, name) for name in (*_KEY, *_BILLED)},
            "started_at": now,
            "ended_at": None,
        }
        for row in rows
    ]
    if segments:
        op.bulk_insert(ledger, segments)


def downgrade() -> None:
    with op.batch_alter_table("usage_ledger", schema=None) as batch_op:
        batch_op.drop_index("uq_usage_ledger_open", sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.drop_index("ix_usage_ledger_org_start")

    op.drop_table("usage_ledger")
    op.drop_table("prices")
