"""Status transitions are compare-and-sets in the database: of concurrent changes of
one cluster exactly one is recorded, the others get ``ClusterChanged``.

Against a real SQLite file (each session on its own connection), and against
PostgreSQL too when ``TEST_POSTGRES_URL`` names a database the test may wipe
(see the ``sessions`` fixture)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from app.store.db import SessionFactory, session_scope
from app.store.tables import ClusterEventRow, ClusterStatus, TenantContainerRow
from app.tenancy import commands, queries
from app.tenancy.errors import ClusterChanged, Conflict
from app.tenancy.lifecycle import ClusterRecord
from app.tenancy.naming import IdSequence
from app.tenancy.scope import Scope
from tests.support.database import container_row
from tests.support.factories import cluster_request

S = ClusterStatus


async def _created_cluster(sessions: SessionFactory, service: str = "race") -> TenantContainerRow:
    request = cluster_request("org-cas", "ann", service)
    container = await commands.create_cluster(sessions=sessions, ids=IdSequence(), request=request)
    for to in (S.CREATING, S.CREATED):
        async with session_scope(sessions) as session:
            record = await queries.container_pair(session=session, container_id=container.id)
            assert record is not None
            await record.transition(session=session, to=to, reason="test")
    return container


async def _events(sessions: SessionFactory, container_id: str) -> list[str]:
    async with sessions() as session:
        statement = (
            select(ClusterEventRow.to_status)
            .where(ClusterEventRow.container_id == container_id)
            .order_by(col(ClusterEventRow.id))
        )
        return list((await session.exec(statement)).all())


async def test_of_two_transitions_from_one_read_exactly_one_is_recorded(
    sessions: SessionFactory,
) -> None:
    container = await _created_cluster(sessions)
    first, second = sessions(), sessions()
    try:
        # Both read the same version before either writes.
        records = [
            await queries.container_pair(session=s, container_id=container.id)
            for s in (first, second)
        ]
        assert records[0] is not None and records[1] is not None
        read = records[0].container.row_version
        assert records[1].container.row_version == read

        async def attempt(session: Any, record: ClusterRecord, to: ClusterStatus) -> str:
            try:
                await record.transition(session=session, to=to, reason="race")
                await session.commit()
                return to.value
            except ClusterChanged:
                await session.rollback()
                return "lost"

        outcomes = await asyncio.gather(
            attempt(first, records[0], S.UPDATING), attempt(second, records[1], S.DELETING)
        )
    finally:
        await first.close()
        await second.close()

    assert sorted(outcomes).count("lost") == 1, outcomes
    winner = next(o for o in outcomes if o != "lost")
    after = await container_row(sessions, container.id)
    assert (after.status, after.row_version) == (winner, read + 1)
    assert (await _events(sessions, container.id))[-2:] == ["created", winner]


async def test_a_transition_based_on_an_older_read_is_refused(sessions: SessionFactory) -> None:
    container = await _created_cluster(sessions)
    stale = (await container_row(sessions, container.id)).row_version
    await commands.request_update(
        sessions=sessions, scope=Scope.everything(), namespace=container.namespace, payload={}
    )
    async with session_scope(sessions) as session:
        record = await queries.container_pair(session=session, container_id=container.id)
        assert record is not None
        with pytest.raises(ClusterChanged):
            # A worker that began from the older version must not finish the newer update.
            await record.transition(
                session=session, to=S.CREATED, reason="stale", read_version=stale
            )
    assert (await container_row(sessions, container.id)).status == "updating"


async def test_concurrent_updates_record_one_spec_and_a_delete_always_wins(
    sessions: SessionFactory,
) -> None:
    container = await _created_cluster(sessions)
    changes: list[dict[str, Any]] = [
        {"replicas": 3},
        {"cpu_limit": "3"},
        {"disk_size": "30Gi"},
        {"mem_limit": "4Gi"},
    ]

    async def update(payload: dict[str, Any]) -> dict[str, Any] | str:
        try:
            await commands.request_update(
                sessions=sessions,
                scope=Scope.everything(),
                namespace=container.namespace,
                payload=payload,
            )
            return payload
        except Conflict as exc:
            return exc.message

    outcomes = await asyncio.gather(*(update(change) for change in changes))
    won = [o for o in outcomes if isinstance(o, dict)]
    assert len(won) == 1, outcomes
    refusals = [o for o in outcomes if isinstance(o, str)]
    assert all("updating" in message for message in refusals), refusals
    after = await container_row(sessions, container.id)
    recorded = {
        "replicas": after.replicas,
        "cpu_limit": after.cpu_limit,
        "disk_size": after.disk_size,
        "mem_limit": after.mem_limit,
    }
    assert (
        recorded
        == {"replicas": 1, "cpu_limit": "2", "disk_size": "10Gi", "mem_limit": "2Gi"} | won[0]
    )

    # A delete racing a further update and the worker's finish is never refused.
    async def finish() -> None:
        async with session_scope(sessions) as session:
            record = await queries.container_pair(session=session, container_id=container.id)
            assert record is not None
            await record.transition(
                session=session, to=S.CREATED, reason="worker done", read_version=after.row_version
            )

    results = await asyncio.gather(
        commands.request_delete(sessions=sessions, container_id=container.id),
        finish(),
        return_exceptions=True,
    )
    deleted, moved = results[0]  # type: ignore[misc]
    assert moved is True and deleted.status == "deleting"
    assert results[1] is None or isinstance(results[1], ClusterChanged), results[1]
    assert (await container_row(sessions, container.id)).status == "deleting"
