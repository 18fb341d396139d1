"""Leases on a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set): work
is claimed by one replica at a time, only once its holder's lease ran out, and the
replica it was taken from is fenced; and in process, a worker whose lease was taken
over stops working on the cluster."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from app.store.db import (
    SessionFactory,
    session_scope,
)
from app.store.tables import ClusterEventRow
from app.tenancy import commands, leases
from app.tenancy.leases import LeaseTerms
from app.tenancy.naming import IdSequence
from tests.conftest import MakeApp
from tests.support.database import container_row
from tests.support.factories import cluster_request
from tests.support.inprocess import create_accepted, events, wait_for_status

ONE = LeaseTerms(owner="replica-one", seconds=60)
TWO = LeaseTerms(owner="replica-two", seconds=60)


async def _created(sessions: SessionFactory, n: int, lease: LeaseTerms | None) -> list[str]:
    ids = IdSequence()
    made = []
    for i in range(n):
        request = cluster_request("org-lease", "ann", f"s{i}")
        row = await commands.create_cluster(sessions=sessions, ids=ids, request=request, lease=lease)
        made.append(row.id)
    return made


async def _claim(
    sessions: SessionFactory, terms: LeaseTerms, *, unleased: bool = False
) -> list[str]:
    async with session_scope(sessions, background=True) as session:
        return await leases.claim_work(session, terms=terms, limit=100, unleased=unleased)


async def test_a_held_lease_is_not_taken_until_it_runs_out_and_then_the_holder_is_fenced(
    sessions: SessionFactory,
) -> None:
    (cluster,) = await _created(sessions, 1, ONE)
    stamped = await container_row(sessions, cluster)
    assert stamped.lease_owner == "replica-one"  # taken in the create's own write
    assert await _claim(sessions, TWO) == []
    assert await _claim(sessions, TWO, unleased=True) == []  # held: not even at start-up
    async with session_scope(sessions) as session:
        assert await leases.renew(session, terms=ONE, container_ids=[cluster]) == {cluster}
        assert await leases.expire_all(session, owner="replica-one") == 1
    assert await _claim(sessions, TWO) == [cluster]
    taken = await container_row(sessions, cluster)
    assert (taken.lease_owner, taken.row_version) == ("replica-two", stamped.row_version + 1)
    async with session_scope(sessions) as session:
        # The holder it was taken from renews nothing: its work there is over.
        assert await leases.renew(session, terms=ONE, container_ids=[cluster]) == set()
        reasons = await session.exec(
            select(ClusterEventRow.reason).where(col(ClusterEventRow.container_id) == cluster)
        )
        takeovers = [reason for reason in reasons.all() if "taken over" in reason]
    assert len(takeovers) == 1
    assert "by replica replica-two: replica replica-one's lease ran out" in takeovers[0]


async def test_scans_running_together_claim_each_cluster_once(sessions: SessionFactory) -> None:
    clusters = await _created(sessions, 12, None)  # never leased: claimed at start-up
    assert await _claim(sessions, ONE) == []  # a heartbeat takes only leases run out
    first, second = await asyncio.gather(
        _claim(sessions, ONE, unleased=True), _claim(sessions, TWO, unleased=True)
    )
    assert sorted(first + second) == sorted(clusters)
    assert not set(first) & set(second)


async def test_a_worker_whose_lease_was_taken_over_stops_and_records_nothing(
    make_app: MakeApp, org: str
) -> None:
    app = await make_app(reconcile_interval_seconds=3600)
    worker = app.runtime.worker
    namespace = f"{org}-ann-fenced"
    await app.sandbox.hold_readiness(namespace)
    async with app.client() as admin:
        cluster = (await create_accepted(admin, org, "ann", "fenced"))["id"]
        await wait_for_status(
            admin, user="ann", service_name="fenced", tenant_org_id=org, wanted={"creating"}
        )
        assert worker.busy(cluster)
        # Another replica takes the work over (as if this one had stalled past its lease).
        async with session_scope(app.runtime.sessions) as session:
            await leases.expire_all(session, owner=worker.lease.owner)
        assert await _claim(app.runtime.sessions, TWO) == [cluster]
        await worker.heartbeat()  # finds the lease gone: stops its work there
        assert not worker.busy(cluster)
        await app.sandbox.hold_readiness(namespace, hold=False)
        await asyncio.sleep(1)
        row = await container_row(app.runtime.sessions, cluster)
        assert (row.status, row.lease_owner) == ("creating", "replica-two")
        history = await events(admin, org, "ann", "fenced")
    assert "created" not in [e["to"] for e in history]
