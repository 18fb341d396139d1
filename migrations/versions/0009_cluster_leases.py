"""cluster leases: which replica works on a cluster, until when; event notifications

Revision ID: 0009_cluster_leases
Revises: 0008_credentials_generation
Create Date: 2026-11-30 20:40:00

On PostgreSQL, every INSERT into cluster_events also sends a notification on
``ess_cluster_events`` from the same transaction (delivered when it commits), so each
replica's event feed is woken instead of polling (app.tenancy.event_feed). A statement
trigger, so a transition costs no extra statement; PostgreSQL folds identical
notifications of one transaction into one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_cluster_leases"
down_revision: str | None = "0008_credentials_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel app.tenancy.event_feed listens on (app.store.notify.EVENTS_CHANNEL).
_CHANNEL = "ess_cluster_events"


def upgrade() -> None:
    # Existing rows have no lease: work they owe is claimed by the next replica to start.
    with op.batch_alter_table("tenant_containers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ess_notify_cluster_events() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{_CHANNEL}', '');
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            """
            CREATE TRIGGER cluster_events_notify AFTER INSERT ON cluster_events
            FOR EACH STATEMENT EXECUTE FUNCTION ess_notify_cluster_events()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER cluster_events_notify ON cluster_events")
        op.execute("DROP FUNCTION ess_notify_cluster_events()")
    with op.batch_alter_table("tenant_containers", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
