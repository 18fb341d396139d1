"""quotas and the per-organisation guard of quota checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:28:48
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quota_guards",
        sa.Column("tenant_org_id", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("checks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_org_id"),
    )
    op.create_table(
        "quotas",
        sa.Column("max_clusters", sa.Integer(), nullable=True),
        sa.Column("max_cpu", sa.String(length=32), nullable=True),
        sa.Column("max_memory", sa.String(length=32), nullable=True),
        sa.Column("max_disk", sa.String(length=32), nullable=True),
        sa.Column("max_gpu", sa.Integer(), nullable=True),
        sa.Column("enforce_sizing", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_org_id", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("service_name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "tenant_org_id", "level", "user", "service_name", name="uq_quotas_subject"
        ),
    )


def downgrade() -> None:
    op.drop_table("quotas")
    op.drop_table("quota_guards")
