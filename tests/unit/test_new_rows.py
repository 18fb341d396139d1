"""``new_row`` builds what a table model's constructor builds (app.store.inserts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from app.store.db import SessionFactory
from app.store.inserts import insert_rows, new_row, row_values
from app.store.tables import (
    AuditEntryRow,
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
)
from tests.support.factories import cluster_request

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _values(model: type[SQLModel]) -> dict[str, Any]:
    fields = cluster_request("acme", "alice", "search").model_dump()
    given = {name: fields[name] for name in fields.keys() & model.model_fields}
    given.update(id="row-1", status=ClusterStatus.PENDING, created_at=NOW, updated_at=NOW)
    if model is DeploymentStatusRow:
        given["container_id"] = "container-1"
    return given


def _as_stored(values: dict[str, Any]) -> dict[str, Any]:
    """Moments without their zone: SQLite gives back the UTC moment it stored, naive."""
    return {
        name: value.replace(tzinfo=None) if isinstance(value, datetime) else value
        for name, value in values.items()
    }


@pytest.mark.parametrize("model", [TenantContainerRow, DeploymentStatusRow])
def test_a_new_row_is_what_the_constructor_builds(model: type[SQLModel]) -> None:
    built, fast = model(**_values(model)), new_row(model, **_values(model))
    assert type(fast) is model
    assert fast.model_dump() == built.model_dump()
    assert row_values(fast) == row_values(built)
    assert fast.__pydantic_fields_set__ == built.__pydantic_fields_set__
    assert fast.__pydantic_extra__ == built.__pydantic_extra__
    assert set(vars(fast)) == set(vars(built))
    assert sa.inspect(fast).transient


def test_a_change_to_a_new_row_is_recorded_as_a_change() -> None:
    one = new_row(TenantContainerRow, **_values(TenantContainerRow))
    other = new_row(TenantContainerRow, **_values(TenantContainerRow))
    assert one.row_version == 1 and one.lease_owner is None  # the model's defaults
    one.status = ClusterStatus.CREATED
    history = sa.inspect(one).attrs.status.history
    assert list(history.added) == [ClusterStatus.CREATED]
    assert other.status == ClusterStatus.PENDING


async def test_new_rows_added_to_a_session_are_inserted_whole(sessions: SessionFactory) -> None:
    """On each database: rows built by new_row, added to a session (as events, ledger
    segments and audit lines are) or INSERTed by insert_rows, are stored with every
    value, defaults included."""
    container = new_row(TenantContainerRow, **_values(TenantContainerRow))
    deployment = new_row(
        DeploymentStatusRow, **{**_values(DeploymentStatusRow), "container_id": container.id}
    )
    async with sessions() as session:
        await insert_rows(session, [container, deployment])
        session.add(
            new_row(AuditEntryRow, at=NOW, actor="admin", action="a", target="t", outcome="ok")
        )
        await session.commit()
    async with sessions() as session:
        stored = await session.get(TenantContainerRow, container.id)
        audit = (await session.exec(select(AuditEntryRow))).one()
    assert stored is not None
    assert _as_stored(row_values(stored)) == _as_stored(row_values(container))
    assert (audit.actor, audit.outcome, audit.tenant_org_id) == ("admin", "ok", None)
