"""Creates recorded together (app.tenancy.create_batches): each caller gets what a
create of its own would give it, while the creates that arrive together share one
transaction. On SQLite, and on PostgreSQL in its pass (the ``sessions`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlmodel import col, select

from app.models.quota import QuotaLimits
from app.store.db import SessionFactory, writer_turn
from app.store.tables import (
    AuditEntryRow,
    ClusterEventRow,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageLedgerRow,
    utcnow,
)
from app.tenancy import commands
from app.tenancy.create_batches import CreateBatches
from app.tenancy.creates import NewCluster
from app.tenancy.errors import Conflict, QuotaExceeded
from app.tenancy.naming import IdSequence
from app.tenancy.quota import QuotaDefaults
from tests.support.factories import cluster_request


@contextmanager
def statements(sessions: SessionFactory) -> Iterator[list[str]]:
    """The SQL statements run on ``sessions``' engine meanwhile."""
    engine = sessions.kw["bind"].sync_engine
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def new(ids: IdSequence, org: str, user: str, service: str, **terms: Any) -> NewCluster:
    return NewCluster(ids=ids, request=cluster_request(org, user, service), **terms)


def audit_line(target: str) -> AuditEntryRow:
    return AuditEntryRow(
        at=utcnow(), actor="admin", action="createCluster", target=target, outcome="ok"
    )


async def count(sessions: SessionFactory, model: Any, **where: str) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(col(getattr(model, name)) == value)
    async with sessions() as session:
        return int((await session.exec(statement)).one())


async def test_creates_arriving_together_share_a_transaction_and_each_gets_its_records(
    sessions: SessionFactory,
) -> None:
    batches, ids = CreateBatches(sessions), IdSequence()
    requests = [cluster_request(f"org-{n % 3}", f"user-{n % 2}", f"svc-{n}") for n in range(24)]
    with statements(sessions) as seen:
        made = await asyncio.gather(
            *(batches.create(NewCluster(ids=ids, request=r, audit_row=audit_line)) for r in requests)
        )
    assert [c.service_name for c in made] == [r.service_name for r in requests]
    assert len({c.id for c in made}) == 24
    # Fewer transactions than creates: each INSERT of the records served several.
    container_inserts = [s for s in seen if s.startswith("INSERT INTO tenant_containers")]
    assert 1 <= len(container_inserts) < 24
    for model in (TenantContainerRow, DeploymentStatusRow, ClusterEventRow, UsageLedgerRow):
        assert await count(sessions, model) == 24
    assert await count(sessions, AuditEntryRow, outcome="ok") == 24
    async with sessions() as session:
        statuses = (await session.exec(select(TenantContainerRow.status))).all()
        events = (await session.exec(select(ClusterEventRow.to_status))).all()
    assert set(statuses) == {"pending"} and set(events) == {"pending"}


async def test_a_batch_checks_each_create_against_the_ones_before_it(
    sessions: SessionFactory,
) -> None:
    """Ten creates at once under a limit of three clusters per organisation: exactly
    three are recorded, and the others are refused in the words a lone create gets."""
    quotas = QuotaDefaults(organization=QuotaLimits(max_clusters=3))
    batches, ids = CreateBatches(sessions), IdSequence()
    outcomes = await asyncio.gather(
        *(
            batches.create(new(ids, "org-q", "ann", f"s{n}", quotas=quotas))
            for n in range(10)
        ),
        return_exceptions=True,
    )
    made = [o for o in outcomes if isinstance(o, TenantContainerRow)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert (len(made), len(refused)) == (3, 7)
    # Arrival order decides: the first three fit.
    assert [c.service_name for c in made] == ["s0", "s1", "s2"]
    assert await count(sessions, TenantContainerRow, tenant_org_id="org-q") == 3
    with pytest.raises(QuotaExceeded) as alone:
        await commands.create_cluster(
            sessions=sessions, ids=ids, request=cluster_request("org-q", "ann", "s99"), quotas=quotas
        )
    assert {r.message for r in refused} == {alone.value.message}
    # What the organisation already holds counts once, however many in a batch ask.
    quotas = QuotaDefaults(organization=QuotaLimits(max_clusters=5))
    outcomes = await asyncio.gather(
        *(
            batches.create(new(ids, "org-q", f"u{n}", "t", quotas=quotas))
            for n in range(6)
        ),
        return_exceptions=True,
    )
    assert [isinstance(o, TenantContainerRow) for o in outcomes] == [True] * 2 + [False] * 4
    # Other organisations in the same batch are not held back by this one's limit.
    others = await asyncio.gather(
        *(
            batches.create(new(ids, org, "ann", "x", quotas=quotas))
            for org in ("org-q", "org-r", "org-s")
        ),
        return_exceptions=True,
    )
    assert isinstance(others[0], QuotaExceeded)
    assert all(isinstance(o, TenantContainerRow) for o in others[1:])


async def test_a_duplicate_in_a_batch_is_refused_and_the_others_are_recorded(
    sessions: SessionFactory,
) -> None:
    batches, ids = CreateBatches(sessions), IdSequence()
    await batches.create(new(ids, "org-d", "ann", "taken"))
    outcomes = await asyncio.gather(
        batches.create(new(ids, "org-d", "ann", "a")),
        batches.create(new(ids, "org-d", "ann", "taken")),
        batches.create(new(ids, "org-d", "ann", "b")),
        batches.create(new(ids, "org-d", "ann", "b")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], TenantContainerRow)
    assert isinstance(outcomes[1], Conflict) and "already exists" in outcomes[1].message
    # Of two equal creates in one batch, the first is recorded.
    assert isinstance(outcomes[2], TenantContainerRow)
    assert isinstance(outcomes[3], Conflict) and "already exists" in outcomes[3].message
    assert await count(sessions, TenantContainerRow, tenant_org_id="org-d") == 3
    assert await count(sessions, UsageLedgerRow, tenant_org_id="org-d") == 3


async def test_a_create_given_up_before_its_batch_is_not_recorded(
    sessions: SessionFactory,
) -> None:
    batches, ids = CreateBatches(sessions), IdSequence()
    async with writer_turn(sessions):  # SQLite: the batch waits for the writer's turn
        kept = asyncio.create_task(batches.create(new(ids, "o", "u", "k")))
        gone = asyncio.create_task(batches.create(new(ids, "o", "u", "g")))
        await asyncio.sleep(0.05)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
    assert (await kept).service_name == "k"
    async with sessions() as session:
        names = (await session.exec(select(TenantContainerRow.service_name))).all()
    if sessions.kw["bind"].dialect.name == "sqlite":
        assert names == ["k"]
    else:  # no writer's turn to wait for: "g" may have been recorded before it was cancelled
        assert "k" in names
