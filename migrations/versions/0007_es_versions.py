"""Elasticsearch versions: each cluster's (tenant_containers.es_version, also on its
deployment status) and the progress of an upgrade (deployment_statuses.upgrade)

Clusters recorded before run the one image every cluster ran: they get its version
(the tag of ESS_ES_IMAGE when it is set, else 9.1.5, the default of that time), which
the server passes in (``legacy_es_version``).

Revision ID: 0007_es_versions
Revises: 0006
Create Date: 2026-11-30 20:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007_es_versions"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("tenant_containers", "deployment_statuses")


def upgrade() -> None:
    running = context.config.attributes.get("legacy_es_version", "9.1.5")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("es_version", sa.String(length=16), nullable=True))
        op.execute(
            sa.text(f"UPDATE {table} SET es_version = :running").bindparams(running=running)
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("es_version", existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table("deployment_statuses") as batch:
        batch.add_column(sa.Column("upgrade", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment_statuses") as batch:
        batch.drop_column("upgrade")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("es_version")
