"""indexes for the container listings' keyset orders (creation time, name)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_tenant_containers_org_created": ["tenant_org_id", "created_at", "id"],
    "ix_tenant_containers_org_name": ["tenant_org_id", "service_name", "user", "id"],
    "ix_tenant_containers_created": ["created_at", "id"],
    "ix_tenant_containers_name": ["service_name", "user", "id"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "tenant_containers", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="tenant_containers")
