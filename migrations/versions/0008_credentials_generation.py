"""tenant_containers.credentials_generation: how many times a cluster's credentials were reset

Revision ID: 0008_credentials_generation
Revises: 0007_es_versions
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_credentials_generation"
down_revision: str | None = "0007_es_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Generation 0 for every existing cluster: its password is derived as before.
    with op.batch_alter_table("tenant_containers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credentials_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_containers", schema=None) as batch_op:
        batch_op.drop_column("credentials_generation")
